/**
 * The logger libp2p gets: its usual `debug` loggers when the DEBUG
 * environment variable asks for logs, else one shared silent logger.
 *
 * libp2p creates a logger scope for every connection and stream; with
 * `debug` each costs two logger objects and a terminal check even when
 * nothing is enabled. On a busy peer that was a measurable share of the CPU
 * and of the garbage, for logs nobody reads.
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
