/**
 * api/daemon: an EdgeNode plus its RPC API, run until stopped. Owns the
 * daemon's lifecycle: open the locked repo and start the peer (createEdgeNode),
 * serve the API on loopback, write `<repo>/api`; on stop undo it in reverse
 * order (API closed, node stopped, which removes `api` and closes the repo).
 * A daemon that fails to start has released all of it when the error arrives.
 */
import { createEdgeNode, type EdgeNode, type EdgeNodeOptions } from '../edge-node.ts'
import { DEFAULT_API } from '../node/index.ts'
import { ApiListenError } from './errors.ts'
import { apiMultiaddr } from './client.ts'
import { MemoryReducer } from './memory-reducer.ts'
import { createApiServer } from './routes.ts'
import type { ApiServer } from './server.ts'

export interface DaemonOptions extends EdgeNodeOptions {
  repo: string
  /** HOST:PORT of the API; overrides config.json. */
  api?: string
}

export interface RunningDaemon {
  node: EdgeNode
  api: ApiServer
  /** `127.0.0.1:PORT` the API is bound to. */
  apiAddress: string
  stop: () => Promise<void>
}

export async function startDaemon (options: DaemonOptions): Promise<RunningDaemon> {
  const node = await createEdgeNode(options)
  const api = createApiServer(node)
  let apiAddress: string
  const wanted = options.api ?? node.repo?.config.addresses.api ?? DEFAULT_API
  try {
    apiAddress = await api.listen(wanted).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') throw new ApiListenError(wanted, 'the port is in use by another process')
      if (err.code === 'EADDRNOTAVAIL') throw new ApiListenError(wanted, 'this device has no such address')
      throw err
    })
    await node.repo?.writeApiAddress(apiMultiaddr(apiAddress))
  } catch (err) {
    await api.close()
    await node.stop()
    throw err
  }
  // a daemon is one peer per process: the memory a burst of work left is the process's to give back
  const memory = new MemoryReducer()
  memory.start()
  let stopping: Promise<void> | undefined
  return {
    node,
    api,
    apiAddress,
    stop: async () => {
      stopping ??= (async () => {
        memory.stop()
        await api.close()
        await node.stop()
      })()
      return stopping
    }
  }
}
