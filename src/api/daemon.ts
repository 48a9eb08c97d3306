/**
 * api/daemon: an EdgeNode plus its RPC API, run until stopped. Owns the
 * daemon's lifecycle: open the locked repo and start the peer (createEdgeNode),
 * serve the API on loopback, write `<repo>/api`, and serve the read-only
 * listener when asked (`metricsListen`); on stop undo it in reverse order
 * (listeners closed, node stopped, which removes `api` and closes the repo).
 * A daemon that fails to start has released all of it when the error arrives.
 */
import { createEdgeNode, type EdgeNode, type EdgeNodeOptions } from '../edge-node.ts'
import { DEFAULT_API } from '../node/index.ts'
import { ApiListenError } from './errors.ts'
import { apiMultiaddr } from './client.ts'
import { MemoryReducer } from './memory-reducer.ts'
import { createApiServer, createReadOnlyServer } from './routes.ts'
import type { ApiServer } from './server.ts'

export interface DaemonOptions extends EdgeNodeOptions {
  repo: string
  /** HOST:PORT of the API; overrides config.json. */
  api?: string
  /** HOST:PORT of the read-only listener (dashboard, metrics, health; never a command), any address; overrides config.json. @default config.json's `addresses.metricsListen`, else none */
  metricsListen?: string
}

export interface RunningDaemon {
  node: EdgeNode
  api: ApiServer
  /** `127.0.0.1:PORT` the API is bound to. */
  apiAddress: string
  /** `HOST:PORT` the read-only listener is bound to, if any. */
  metricsAddress?: string
  stop: () => Promise<void>
}

export async function startDaemon (options: DaemonOptions): Promise<RunningDaemon> {
  const node = await createEdgeNode(options)
  const api = createApiServer(node)
  const metricsListen = options.metricsListen ?? node.repo?.config.addresses.metricsListen
  const readOnly = metricsListen != null ? createReadOnlyServer(node) : undefined
  let apiAddress: string
  let metricsAddress: string | undefined
  const wanted = options.api ?? node.repo?.config.addresses.api ?? DEFAULT_API
  const listenError = (address: string, what?: string) => (err: NodeJS.ErrnoException): never => {
    if (err.code === 'EADDRINUSE') throw new ApiListenError(address, 'the port is in use by another process', what)
    if (err.code === 'EADDRNOTAVAIL') throw new ApiListenError(address, 'this device has no such address', what)
    throw err
  }
  try {
    apiAddress = await api.listen(wanted).catch(listenError(wanted))
    if (readOnly != null && metricsListen != null) metricsAddress = await readOnly.listen(metricsListen).catch(listenError(metricsListen, 'read-only address'))
    await node.repo?.writeApiAddress(apiMultiaddr(apiAddress))
  } catch (err) {
    await readOnly?.close()
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
    ...(metricsAddress != null ? { metricsAddress } : {}),
    stop: async () => {
      stopping ??= (async () => {
        memory.stop()
        await readOnly?.close()
        await api.close()
        await node.stop()
      })()
      return stopping
    }
  }
}
