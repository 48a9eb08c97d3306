/**
 * node/connected-peers: the peers a node has an open connection to, read from
 * its connection list. libp2p's `getPeers()` builds a PeerSet and turns every
 * entry back into a PeerId by parsing its string; the timers of discovery, job
 * sync and the scheduler ask several times a second. Pure reads; owns nothing.
 */
import type { Libp2p, PeerId } from '@libp2p/interface'

/** Distinct peers with an open connection, in connection order. */
export function connectedPeers (node: Pick<Libp2p, 'getConnections'>): PeerId[] {
  const seen = new Map<string, PeerId>()
  for (const c of node.getConnections()) {
    const key = c.remotePeer.toString()
    if (!seen.has(key)) seen.set(key, c.remotePeer)
  }
  return [...seen.values()]
}

/** How many distinct peers have an open connection. */
export function connectedPeerCount (node: Pick<Libp2p, 'getConnections'>): number {
  const seen = new Set<string>()
  for (const c of node.getConnections()) seen.add(c.remotePeer.toString())
  return seen.size
}

/** Whether any peer has an open connection. */
export function isConnected (node: Pick<Libp2p, 'getConnections'>): boolean {
  return node.getConnections().length > 0
}
