/**
 * node/connection-trimmer: keeps room below the connection limit, so a joining
 * or returning peer can always connect. libp2p refuses every inbound
 * connection at `maxConnections`, and its own pruner spares every connection
 * with a stream of a long-lived protocol (every edgeswarm connection carries
 * gossipsub streams). Like go-libp2p's connection manager, above a high water
 * mark this closes the least valued connections down to a low mark, sparing
 * young connections, connections with a short exchange in flight and peers
 * tagged keep-alive (docs/decisions/node-connection-trimmer.md).
 *
 * Owns only the decision to close; never dials (see discovery.ts).
 */
import { KEEP_ALIVE, type Connection, type Libp2p, type Startable } from '@libp2p/interface'

/** How often the connection count is checked. */
const TRIM_INTERVAL_MS = 5_000
/** Connections younger than this are never closed by trimming. */
const TRIM_GRACE_MS = 30_000
/** How long a trimmed connection may take to close gracefully before it is aborted. */
const TRIM_CLOSE_TIMEOUT_MS = 1_000
/** Protocols whose streams live as long as the connection: their streams do not keep a connection open. */
const LONG_LIVED_PROTOCOLS = ['/meshsub/1.0.0', '/meshsub/1.1.0', '/meshsub/1.2.0', '/floodsub/1.0.0', '/ipfs/id/1.0.0', '/ipfs/id/push/1.0.0', '/ipfs/ping/1.0.0']

/** The parts of the libp2p node the trimmer uses. */
export type TrimmerComponents = Pick<Libp2p, 'getConnections' | 'peerStore'>

export interface TrimmerInit {
  /** The connection limit libp2p enforces on inbound connections. */
  maxConnections: number
  /** Connections kept at least (the discovery target). */
  targetPeers: number
  /** @default TRIM_INTERVAL_MS */
  intervalMs?: number
  /** @default TRIM_GRACE_MS */
  graceMs?: number
}

/**
 * The marks for a limit: trimming starts above `high` and stops at `low`,
 * each about a tenth of the limit below the one above it, and never below the
 * discovery target.
 */
export function waterMarks (maxConnections: number, targetPeers: number): { high: number, low: number } {
  const step = Math.max(1, Math.round(maxConnections / 10))
  const high = Math.max(targetPeers, maxConnections - step)
  const low = Math.max(targetPeers, high - step)
  return { high, low }
}

export class ConnectionTrimmer implements Startable {
  private readonly node: TrimmerComponents
  private readonly high: number
  private readonly low: number
  private readonly intervalMs: number
  private readonly graceMs: number
  private timer?: ReturnType<typeof setInterval>
  private trimming = false
  /** Connections this trimmer closed, for status and tests. */
  closed = 0

  constructor (node: TrimmerComponents, init: TrimmerInit) {
    this.node = node
    const { high, low } = waterMarks(init.maxConnections, init.targetPeers)
    this.high = high
    this.low = low
    this.intervalMs = init.intervalMs ?? TRIM_INTERVAL_MS
    this.graceMs = init.graceMs ?? TRIM_GRACE_MS
  }

  start (): void {
    this.timer = setInterval(() => { void this.trim() }, this.intervalMs)
    this.timer.unref()
  }

  stop (): void {
    clearInterval(this.timer)
  }

  /**
   * Closes idle connections down to the low mark when above the high mark:
   * those of the least valued peers first (the sum of their peer-store tags),
   * the oldest among equals. Peers tagged keep-alive (the DHT's closest
   * peers) are never closed: libp2p would dial them again at once.
   * Returns how many were closed.
   */
  async trim (): Promise<number> {
    if (this.trimming) return 0
    const connections = this.node.getConnections()
    if (connections.length <= this.high) return 0
    this.trimming = true
    try {
      const now = Date.now()
      const candidates: Array<{ c: Connection, value: number }> = []
      for (const c of connections) {
        if (c.status !== 'open' || now - c.timeline.open < this.graceMs || busy(c)) continue
        const tags = await this.node.peerStore.get(c.remotePeer).then(p => p.tags, () => undefined)
        if (tags != null && [...tags.keys()].some(name => name.startsWith(KEEP_ALIVE))) continue
        const value = tags == null ? 0 : [...tags.values()].reduce((sum, t) => sum + t.value, 0)
        candidates.push({ c, value })
      }
      candidates.sort((a, b) => a.value - b.value || a.c.timeline.open - b.c.timeline.open)
      const victims = candidates.slice(0, connections.length - this.low).map(({ c }) => c)
      for (const c of victims) {
        c.close({ signal: AbortSignal.timeout(TRIM_CLOSE_TIMEOUT_MS) }).catch(err => { c.abort(err instanceof Error ? err : new Error(String(err))) })
      }
      this.closed += victims.length
      return victims.length
    } finally {
      this.trimming = false
    }
  }
}

/** A connection with a stream of a short exchange open. */
function busy (c: Connection): boolean {
  return c.streams.some(s => s.protocol == null || !LONG_LIVED_PROTOCOLS.includes(s.protocol))
}
