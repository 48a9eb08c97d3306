/**
 * node/quiet-logger: the logger libp2p gets. With the DEBUG environment
 * variable set, libp2p's usual `debug` loggers; else one shared silent logger,
 * since libp2p creates a logger scope for every connection and stream, and
 * with `debug` each costs two logger objects and a terminal check even when
 * nothing is enabled. Owns no state.
 */
import { defaultLogger } from '@libp2p/logger'
import type { ComponentLogger, Logger } from '@libp2p/interface'

const noop = (): void => {}

const silent: Logger = Object.assign((): void => {}, {
  error: noop,
  trace: noop,
  enabled: false,
  newScope: (): Logger => silent
})

/** A ComponentLogger: libp2p's default when `debug` is set in the environment, else silent. */
export function edgeswarmLogger (env: NodeJS.ProcessEnv = process.env): ComponentLogger {
  if ((env.DEBUG ?? '').trim() !== '') return defaultLogger()
  return { forComponent: (): Logger => silent }
}
