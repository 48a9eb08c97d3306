/**
 * status/status-service: the swarm-wide view with no central server. Every
 * peer publishes a small signed status (status-message.ts) about every
 * `intervalMs` on STATUS_TOPIC (less often in a swarm so large that the
 * statuses would exceed MAX_STATUS_RATE_PER_S), and keeps the latest status
 * of every peer it hears from, checked in gossipsub's validator (so only
 * checked, newer statuses are forwarded). A peer not heard from for
 * STATUS_STALE_INTERVALS of its own intervals is shown stale; after
 * STATUS_EXPIRY_INTERVALS it leaves the table. The node composes what a status says (`collect`): this service
 * knows nothing of data or jobs.
 *
 * Never trusts a status it has not verified, never holds more than
 * MAX_STATUS_PEERS peers, and never lets an older or replayed status replace
 * a newer one.
 */
import { TopicValidatorResult, type GossipSub } from '@libp2p/gossipsub'
import type { ComponentLogger, Logger, Metrics, PeerId, PrivateKey, Startable } from '@libp2p/interface'
import {
  DEFAULT_STATUS_INTERVAL_MS, MAX_STATUS_CLOCK_SKEW_MS, MAX_STATUS_INTERVAL_MS, MAX_STATUS_PEERS, MAX_STATUS_RATE_PER_S, STATUS_EXPIRY_INTERVALS,
  STATUS_FIRST_DELAY_MS, STATUS_JITTER, STATUS_STALE_INTERVALS, STATUS_TOPIC
} from './constants.ts'
import { openStatus, signStatus, type PeerStatus, type SignedStatus } from './status-message.ts'

/** What the status service uses of gossipsub. */
export type StatusPubSub = Pick<GossipSub, 'topicValidators' | 'subscribe' | 'unsubscribe' | 'publish'>

export interface StatusServiceComponents {
  /** This peer: the author of its statuses. */
  peerId: PeerId
  /** Its statuses are signed with this key. */
  privateKey: PrivateKey
  pubsub: StatusPubSub
  logger: ComponentLogger
  /** This peer's status now (all but the time and the interval), composed by the node from its layers. */
  collect: () => Omit<PeerStatus, 'at' | 'intervalMs'>
  /** Where the service registers its `edgeswarm_status_*` metrics; none: no metrics. */
  metrics?: Metrics
}

export interface StatusServiceInit {
  /** How often (ms) this peer publishes its status at least; others judge it stale and gone by multiples of it. @default DEFAULT_STATUS_INTERVAL_MS */
  intervalMs?: number
}

/** One row of the swarm table: a peer's latest status and how old it is here. */
export interface SwarmPeer extends PeerStatus {
  id: string
  /** When this peer received it (its own clock). */
  receivedAt: number
  /** Ms since it was received. */
  ageMs: number
  /** Not heard from for STATUS_STALE_INTERVALS intervals. */
  stale: boolean
  /** This peer's own row. */
  self: boolean
}

/** Counts of the status traffic this peer handled. */
export interface StatusStats {
  /** Statuses published, and the bytes published (each status once). */
  published: number
  publishedBytes: number
  /** Statuses accepted (new, checked, newer than the one held), and their bytes. */
  accepted: number
  acceptedBytes: number
  /** Statuses ignored (older, duplicate, from the future, or no room) and rejected (invalid). */
  ignored: number
  rejected: number
}

interface Entry { status: PeerStatus, receivedAt: number }

export class StatusService implements Startable {
  readonly stats: StatusStats = { published: 0, publishedBytes: 0, accepted: 0, acceptedBytes: 0, ignored: 0, rejected: 0 }
  /** Size in bytes of this peer's last published status. */
  lastSize = 0
  private readonly components: StatusServiceComponents
  private readonly log: Logger
  private readonly intervalMs: number
  private readonly peers = new Map<string, Entry>()
  private readonly me: string
  private own?: Entry
  private timer?: ReturnType<typeof setTimeout>
  private running = false

  constructor (components: StatusServiceComponents, init: StatusServiceInit = {}) {
    const intervalMs = init.intervalMs ?? DEFAULT_STATUS_INTERVAL_MS
    if (!Number.isSafeInteger(intervalMs) || intervalMs < 1 || intervalMs > MAX_STATUS_INTERVAL_MS) throw new RangeError(`status intervalMs must be a whole number of ms from 1 to ${MAX_STATUS_INTERVAL_MS}, got ${String(init.intervalMs)}`)
    this.components = components
    this.log = components.logger.forComponent('edgeswarm:status')
    this.intervalMs = intervalMs
    this.me = components.peerId.toString()
    const m = components.metrics
    m?.registerMetricGroup('edgeswarm_status_peers', {
      label: 'state',
      help: 'Peers in this peer\'s swarm table (itself included): heard from lately (live), or not for a while (stale)',
      calculate: () => {
        const rows = this.table()
        const stale = rows.filter(r => r.stale).length
        return { live: rows.length - stale, stale }
      }
    })
    m?.registerCounterGroup('edgeswarm_status_messages_total', {
      label: 'outcome',
      help: 'Status messages this peer published, and received: accepted, ignored (older, duplicate, no room), rejected (invalid)',
      calculate: () => ({ published: this.stats.published, accepted: this.stats.accepted, ignored: this.stats.ignored, rejected: this.stats.rejected })
    })
    m?.registerMetric('edgeswarm_status_message_bytes', { help: 'Size of this peer\'s last published status', calculate: () => this.lastSize })
  }

  /**
   * How often this peer publishes now (ms): `intervalMs`, or longer when the
   * swarm is so large that every peer publishing that often would bring each
   * peer more than MAX_STATUS_RATE_PER_S statuses a second.
   */
  get interval (): number {
    return Math.min(MAX_STATUS_INTERVAL_MS, Math.max(this.intervalMs, Math.ceil((this.peers.size + 1) * 1000 / MAX_STATUS_RATE_PER_S)))
  }

  start (): void {
    if (this.running) return
    this.running = true
    const { pubsub } = this.components
    pubsub.topicValidators.set(STATUS_TOPIC, async (_peer, msg) => {
      let opened: SignedStatus
      try {
        opened = await openStatus(msg.data)
      } catch (err) {
        this.stats.rejected++
        this.log.trace('rejected a status: %e', err)
        return TopicValidatorResult.Reject
      }
      return this.accept(opened) ? TopicValidatorResult.Accept : TopicValidatorResult.Ignore
    })
    pubsub.subscribe(STATUS_TOPIC)
    this.schedule(STATUS_FIRST_DELAY_MS)
  }

  stop (): void {
    if (!this.running) return
    this.running = false
    clearTimeout(this.timer)
    const { pubsub } = this.components
    pubsub.topicValidators.delete(STATUS_TOPIC)
    try { pubsub.unsubscribe(STATUS_TOPIC) } catch {}
  }

  /**
   * Keeps a checked status if it is newer than the one held for its author,
   * not from the future or older than the expiry, and there is room; true
   * when kept.
   */
  accept (opened: SignedStatus, now = Date.now()): boolean {
    const { from, status } = opened
    const held = this.peers.get(from)
    const fresh = from !== this.me &&
      status.at <= now + MAX_STATUS_CLOCK_SKEW_MS &&
      status.at >= now - status.intervalMs * STATUS_EXPIRY_INTERVALS &&
      (held == null || status.at > held.status.at)
    if (fresh && held == null && this.peers.size >= MAX_STATUS_PEERS) this.expire(now)
    if (!fresh || (held == null && this.peers.size >= MAX_STATUS_PEERS)) {
      this.stats.ignored++
      return false
    }
    this.peers.set(from, { status, receivedAt: now })
    this.stats.accepted++
    this.stats.acceptedBytes += opened.size
    return true
  }

  /** Every peer's latest status (this peer's first), the expired ones dropped. */
  table (now = Date.now()): SwarmPeer[] {
    this.expire(now)
    const row = (id: string, e: Entry, self: boolean): SwarmPeer => {
      const ageMs = Math.max(0, now - e.receivedAt)
      return { id, ...e.status, receivedAt: e.receivedAt, ageMs, stale: !self && ageMs > e.status.intervalMs * STATUS_STALE_INTERVALS, self }
    }
    const rows: SwarmPeer[] = []
    rows.push(row(this.me, this.own ?? { status: { ...this.components.collect(), at: now, intervalMs: this.interval }, receivedAt: now }, true))
    for (const [id, e] of this.peers) rows.push(row(id, e, false))
    return rows
  }

  /** Signs and publishes this peer's status now. */
  async publish (): Promise<void> {
    const { privateKey, pubsub, collect } = this.components
    const status: PeerStatus = { ...collect(), at: Date.now(), intervalMs: this.interval }
    const envelope = await signStatus(privateKey, this.me, status)
    this.own = { status, receivedAt: status.at }
    this.lastSize = envelope.length
    this.stats.published++
    this.stats.publishedBytes += envelope.length
    try {
      await pubsub.publish(STATUS_TOPIC, envelope)
    } catch (err) {
      this.log('publishing the status failed - %e', err)
    }
  }

  private expire (now: number): void {
    for (const [id, e] of this.peers) if (now - e.receivedAt > e.status.intervalMs * STATUS_EXPIRY_INTERVALS) this.peers.delete(id)
  }

  private schedule (delay: number): void {
    if (!this.running) return
    this.timer = setTimeout(() => {
      this.publish()
        .catch(err => { this.log.error('status not published - %e', err) })
        .finally(() => { this.schedule(this.interval * (1 - STATUS_JITTER / 2 + Math.random() * STATUS_JITTER)) })
    }, delay)
    this.timer.unref?.()
  }
}
