/**
 * data/provider-queue: this peer's DHT provider announcements, as rate-limited
 * background work — deduplicated, held back while blocks keep arriving,
 * retried when one fails, repeated for every held block each reprovide
 * period — and the hand-off of each announcement's closest peers to
 * placement (`settlePlacement`).
 *
 * Owns which blocks are announced. Never blocks a put on an announcement,
 * never queues more than PROVIDE_QUEUE_MAX, and never runs an announcement
 * past PROVIDE_TIMEOUT_MS.
 */
import { setMaxListeners } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Logger, PeerId, Startable } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'
import PQueue from 'p-queue'
import { anySignal, deadline } from '../async/index.ts'
import {
  DEFAULT_PROVIDE_RATE_PER_S, DEFAULT_REPROVIDE_INTERVAL_MS, PROVIDE_ATTEMPTS, PROVIDE_CONCURRENCY, PROVIDE_MAX_DELAY_MS,
  PROVIDE_QUEUE_MAX, PROVIDE_QUIET_MS, PROVIDE_RETRY_MS, PROVIDE_TIMEOUT_MS
} from './constants.ts'
import type { PeerView } from './peer-view.ts'
import type { ShardStore } from './shard-store.ts'
import type { DataMetrics, DataServiceComponents } from './types.ts'

export type ProviderQueueComponents = Pick<DataServiceComponents, 'dht' | 'logger'>

export interface ProviderQueueInit {
  /** The blocks held here: all are announced at start and every reprovide period. */
  store: ShardStore
  view: PeerView
  metrics: DataMetrics
  /** Given the closest peers an announcement's lookup found; the queue slot is held until it resolves. */
  settlePlacement: (cid: CID, closest: PeerId[]) => Promise<void>
  /** @default DEFAULT_PROVIDE_RATE_PER_S */
  provideRatePerSecond?: number
  /** @default DEFAULT_REPROVIDE_INTERVAL_MS */
  reprovideIntervalMs?: number
}

export class ProviderQueue implements Startable {
  private readonly components: ProviderQueueComponents
  private readonly log: Logger
  private readonly store: ShardStore
  private readonly view: PeerView
  private readonly metrics: DataMetrics
  private readonly settlePlacement: (cid: CID, closest: PeerId[]) => Promise<void>
  private readonly reprovideIntervalMs: number
  private readonly queue: PQueue
  /** Blocks queued or being announced now. */
  private readonly providing = new Set<string>()
  /** Blocks announced by this peer, or by the peer that pushed them here with `announce: false`. */
  private readonly provided = new Set<string>()
  private shutdown = new AbortController()
  private running = false
  private reprovideTimer?: ReturnType<typeof setTimeout>
  private quietTimer?: ReturnType<typeof setTimeout>
  private heldSince?: number

  constructor (components: ProviderQueueComponents, init: ProviderQueueInit) {
    this.components = components
    this.log = components.logger.forComponent('edgeswarm:data')
    this.store = init.store
    this.view = init.view
    this.metrics = init.metrics
    this.settlePlacement = init.settlePlacement
    this.reprovideIntervalMs = init.reprovideIntervalMs ?? DEFAULT_REPROVIDE_INTERVAL_MS
    const rate = init.provideRatePerSecond ?? DEFAULT_PROVIDE_RATE_PER_S
    if (!(rate > 0) || !Number.isFinite(rate)) throw new RangeError(`provideRatePerSecond must be a positive number, got ${rate}`)
    // a rate below 1/s is one start per 1/rate seconds
    this.queue = new PQueue({ concurrency: PROVIDE_CONCURRENCY, intervalCap: Math.max(1, Math.round(rate)), interval: rate >= 1 ? 1000 : Math.round(1000 / rate) })
  }

  /** Starts the reprovide loop and announces every block held (what survived a restart). */
  start (): void {
    if (this.running) return
    this.shutdown = new AbortController()
    setMaxListeners(Infinity, this.shutdown.signal)
    this.running = true
    this.scheduleReprovide()
    for (const entry of this.store.entries()) this.add(entry.cid, false, 1, 0)
  }

  /** Drops every queued announcement and aborts the running ones. */
  stop (): void {
    if (!this.running) return
    this.running = false
    clearTimeout(this.reprovideTimer)
    clearTimeout(this.quietTimer)
    this.shutdown.abort(new Error('data service stopped'))
    this.queue.clear()
    this.providing.clear()
  }

  /** Announces this peer as a provider of `cid` in the background, unless it is announced already or queued. */
  enqueue (cid: CID, priority = 0): void {
    this.add(cid, false, 1, priority)
  }

  /** Counts `cid` as announced: the peer that pushed it here announces it, or the reprovide loop will. */
  markProvided (cid: CID): void {
    this.provided.add(cid.toString())
  }

  /** Forgets `cid`, a block no longer held (garbage collected). */
  forget (cid: CID): void {
    this.provided.delete(cid.toString())
  }

  /** Announcements queued or running now. */
  get queued (): number {
    return this.queue.size + this.queue.pending
  }

  /** Resolves when the queued announcements have drained. */
  async whenProvided (): Promise<void> {
    while (this.queue.isPaused && this.queue.size > 0) await sleep(50)
    await this.queue.onIdle()
  }

  private scheduleReprovide (): void {
    if (!this.running || this.reprovideIntervalMs <= 0 || !Number.isFinite(this.reprovideIntervalMs)) return
    this.reprovideTimer = setTimeout(() => {
      for (const entry of this.store.entries()) this.add(entry.cid, true, 1, 0)
      this.scheduleReprovide()
    }, this.reprovideIntervalMs)
    this.reprovideTimer.unref?.()
  }

  /** Queues one announcement; `again` announces a block already announced (the reprovide loop). */
  private add (cid: CID, again: boolean, attempt: number, priority: number): void {
    const key = cid.toString()
    if (!this.running || this.providing.has(key) || (!again && this.provided.has(key))) return
    if (this.queue.size >= PROVIDE_QUEUE_MAX) return
    this.providing.add(key)
    this.holdWhileBlocksArrive()
    this.queue.add(async () => {
      let failed = false
      /** The closest peers the announcement's lookup found (its FINAL_PEER events), whether or not every record was then sent. */
      const closest: PeerId[] = []
      try {
        if (this.view.routingTableSize() === 0) return // retried by the next repair pass
        const limit = deadline(PROVIDE_TIMEOUT_MS)
        const signal = anySignal(this.shutdown.signal, limit.signal)
        try {
          for await (const ev of this.components.dht.provide(cid, { signal })) {
            if (ev.name === 'FINAL_PEER') closest.push(ev.peer.id)
          }
        } finally {
          limit.clear()
          signal.clear()
        }
        this.provided.add(key)
        this.metrics.provides++
      } catch (err) {
        if (!this.shutdown.signal.aborted) {
          this.log('provide %s failed (attempt %d) - %e', key, attempt, err)
          this.metrics.provideFailures++
          failed = true
        }
      } finally {
        this.providing.delete(key)
      }
      if (closest.length > 0) await this.settlePlacement(cid, closest)
      // a block placed off its closest peers is found only through its announcement:
      // a failed one (a busy swarm timed it out) is tried again soon, not at the next repair
      if (failed && attempt < PROVIDE_ATTEMPTS) {
        const timer = setTimeout(() => { this.add(cid, again, attempt + 1, priority) }, PROVIDE_RETRY_MS * attempt)
        timer.unref?.()
      }
    }, { priority }).catch(() => {})
  }

  /**
   * Holds announcements back while blocks keep arriving (a put in progress):
   * each is a lookup plus k ADD_PROVIDER messages, and running them alongside
   * the transfer slows it. The queue starts after PROVIDE_QUIET_MS without a
   * new block, and never waits more than PROVIDE_MAX_DELAY_MS in all.
   */
  private holdWhileBlocksArrive (): void {
    const now = Date.now()
    this.heldSince ??= now
    clearTimeout(this.quietTimer)
    if (now - this.heldSince >= PROVIDE_MAX_DELAY_MS) {
      this.heldSince = undefined
      this.queue.start()
      return
    }
    this.queue.pause()
    this.quietTimer = setTimeout(() => {
      this.heldSince = undefined
      this.queue.start()
    }, PROVIDE_QUIET_MS)
    this.quietTimer.unref?.()
  }
}
