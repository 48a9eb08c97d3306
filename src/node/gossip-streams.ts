/**
 * node/gossip-streams: keeps gossipsub's outbound streams alive. gossipsub opens
 * one outbound stream per connected peer, once; if that open fails (a
 * negotiation that times out on a busy device, a stream reset) it never tries
 * again, and the peer silently stops receiving messages although it still
 * looks subscribed. `GossipStreamWatchdog` re-opens missing outbound streams
 * (docs/decisions/node-gossip-stream-watchdog.md).
 *
 * Owns only that repair; never touches gossipsub's mesh, scores or messages.
 */
import type { Connection, Libp2p, PeerId, Startable } from '@libp2p/interface'

/** How often missing gossipsub outbound streams are looked for. */
const GOSSIP_STREAM_CHECK_MS = 3_000
/** A connection younger than this is left to gossipsub's own first attempt. */
const GOSSIP_STREAM_GRACE_MS = 5_000

/** The parts of gossipsub's implementation the watchdog uses (not in its public types). */
interface GossipsubInternals {
  peers: Map<string, unknown>
  streamsOutbound: Map<string, unknown>
  createOutboundStream: (peerId: PeerId, connection: Connection) => Promise<void>
}

function internals (pubsub: unknown): GossipsubInternals | undefined {
  const p = pubsub as Partial<GossipsubInternals>
  return p.peers instanceof Map && p.streamsOutbound instanceof Map && typeof p.createOutboundStream === 'function'
    ? p as GossipsubInternals
    : undefined
}

/** The parts of the libp2p node the watchdog uses (gossipsub as `services.pubsub`). */
export type WatchdogComponents = Pick<Libp2p<{ pubsub: unknown }>, 'services' | 'getConnections'>

export class GossipStreamWatchdog implements Startable {
  private readonly node: WatchdogComponents
  private timer?: ReturnType<typeof setInterval>
  /** Streams re-opened so far. */
  repaired = 0

  constructor (node: WatchdogComponents) {
    this.node = node
  }

  start (): void {
    this.timer = setInterval(() => { void this.check() }, GOSSIP_STREAM_CHECK_MS)
    this.timer.unref()
  }

  stop (): void {
    clearInterval(this.timer)
  }

  /** Connected gossipsub peers this peer has no outbound stream to (it cannot send them messages). */
  missing (): number {
    const g = internals(this.node.services.pubsub)
    if (g == null) return 0
    let n = 0
    for (const connection of this.node.getConnections()) {
      const id = connection.remotePeer.toString()
      if (connection.status === 'open' && g.peers.has(id) && !g.streamsOutbound.has(id)) n++
    }
    return n
  }

  /** Re-opens the outbound stream of every gossipsub peer that has none. */
  async check (): Promise<void> {
    const g = internals(this.node.services.pubsub)
    if (g == null) return
    for (const connection of this.node.getConnections()) {
      const id = connection.remotePeer.toString()
      if (connection.status !== 'open' || !g.peers.has(id) || g.streamsOutbound.has(id)) continue
      if (Date.now() - connection.timeline.open < GOSSIP_STREAM_GRACE_MS) continue
      await g.createOutboundStream(connection.remotePeer, connection).catch(() => {})
      if (g.streamsOutbound.has(id)) this.repaired++
    }
  }
}
