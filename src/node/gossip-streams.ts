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
import { forEachLimit } from '../async/index.ts'

/** How often missing gossipsub outbound streams are looked for. */
const GOSSIP_STREAM_CHECK_MS = 3_000
/** A connection younger than this is left to gossipsub's own first attempt. */
const GOSSIP_STREAM_GRACE_MS = 5_000
/** Streams a check re-opens at once. */
const GOSSIP_STREAM_REPAIR_CONCURRENCY = 8

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
  private checking = false
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

  /**
   * Gossipsub peers this peer has no outbound stream to (it cannot send them
   * messages) although connected for longer than the grace: streams gossipsub
   * is still opening on a fresh connection are not missing yet.
   */
  missing (): number {
    return this.stale().length
  }

  /** Re-opens the outbound stream of every gossipsub peer that has been missing one past the grace. */
  async check (): Promise<void> {
    // a check still running on a slow device is not joined by a second one
    if (this.checking) return
    this.checking = true
    try {
      const g = internals(this.node.services.pubsub)
      const stale = this.stale()
      if (g == null) return
      await forEachLimit(stale, GOSSIP_STREAM_REPAIR_CONCURRENCY, async (connection) => {
        await g.createOutboundStream(connection.remotePeer, connection).catch(() => {})
        if (g.streamsOutbound.has(connection.remotePeer.toString())) this.repaired++
      })
    } finally {
      this.checking = false
    }
  }

  /** For each gossipsub peer missing an outbound stream past the grace, its oldest open connection. */
  private stale (): Connection[] {
    const g = internals(this.node.services.pubsub)
    if (g == null) return []
    const oldest = new Map<string, Connection>()
    for (const connection of this.node.getConnections()) {
      if (connection.status !== 'open') continue
      const id = connection.remotePeer.toString()
      const known = oldest.get(id)
      if (known == null || connection.timeline.open < known.timeline.open) oldest.set(id, connection)
    }
    const now = Date.now()
    return [...oldest].filter(([id, connection]) =>
      g.peers.has(id) && !g.streamsOutbound.has(id) && now - connection.timeline.open >= GOSSIP_STREAM_GRACE_MS
    ).map(([, connection]) => connection)
  }
}
