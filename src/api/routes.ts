/**
 * The commands the daemon serves, each a thin adapter from HTTP arguments to
 * the EdgeNode API. Owns argument validation for the RPC surface; never holds
 * state of its own.
 */
import type { EdgeNode } from '../edge-node.ts'
import { ApiServer } from './server.ts'

/** The `id --json` shape: addresses carry the /p2p/ suffix, ready to bootstrap from. */
export interface IdResponse {
  id: string
  addresses: string[]
}

export function idOf (node: EdgeNode): IdResponse {
  const id = node.peerId.toString()
  return {
    id,
    addresses: node.multiaddrs.map(ma => {
      const s = ma.toString()
      return s.includes('/p2p/') ? s : `${s}/p2p/${id}`
    })
  }
}

/** An API server with every command of `node` routed. */
export function createApiServer (node: EdgeNode): ApiServer {
  const api = new ApiServer()
  api.route('id', async () => idOf(node))
  api.route('peers', async () => node.peers())
  api.route('status', async () => await node.status())
  return api
}
