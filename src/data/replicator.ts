/**
 * data/replicator: who holds a block — pushes a block to the closest live
 * peers until it has its replica count (a put's placement), moves a block
 * onto the closest peers its announcement's lookup found (settle-placement),
 * and checks and tops up every held block each repair period, once this
 * peer has reconciled its root and release records.
 *
 * Never pushes to a peer found lying, never sends bytes repair has not read
 * back from the store, never repairs garbage (a released or orphaned block),
 * and never walks more than PLACEMENT_CANDIDATES_PER_REPLICA candidates per
 * copy on a put.
 */
import { setMaxListeners } from 'node:events'
import type { Logger, PeerId, Startable } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'
import { forEachLimit } from '../async/index.ts'
import { DEFAULT_REPAIR_INTERVAL_MS, PLACEMENT_CANDIDATES_PER_REPLICA, REPAIR_CONCURRENCY, REPAIR_JITTER } from './constants.ts'
import { blockKadId, sortByDistance } from './placement.ts'
import type { PeerView } from './peer-view.ts'
import type { ProviderQueue } from './provider-queue.ts'
import type { ShardClient } from './shard-client.ts'
import type { HeldBlock, ShardStore } from './shard-store.ts'
import type { DataMetrics, DataServiceComponents, RepairReport } from './types.ts'

export type ReplicatorComponents = Pick<DataServiceComponents, 'peerId' | 'logger'>

export interface ReplicatorInit {
  store: ShardStore
  view: PeerView
  client: ShardClient
  providers: ProviderQueue
  metrics: DataMetrics
  /** Whether a held block is garbage: repair leaves it alone. */
  isGarbage: (block: HeldBlock) => boolean
  /** Resolves when this peer may repair: it has reconciled its root and release records, so it pushes nothing released. */
  ready: () => Promise<void>
  /** @default DEFAULT_REPAIR_INTERVAL_MS */
  repairIntervalMs?: number
}

export interface ReplicateOptions {
  /** Ask `has` before sending bytes, and look past the put's candidate bound (repair); a put pushes directly, the receiver ignores duplicates. */
  checkFirst?: boolean
  /** Take the candidates from a DHT lookup rather than the peers known here (a file's root). */
  lookup?: boolean
  /** The receivers do not announce the block at once, this peer does: one announcement per block, not one per copy. */
  announcedBySender?: boolean
  /** The candidates, closest first, instead of the peer view's. */
  view?: PeerId[]
  /** The puts the block is part of, told to each receiver (its root records say whether the block is live). */
  puts?: readonly string[]
}

export interface ReplicateResult {
  holders: PeerId[]
  copied: PeerId[]
}

export class Replicator implements Startable {
  private readonly components: ReplicatorComponents
  private readonly log: Logger
  private readonly store: ShardStore
  private readonly view: PeerView
  private readonly client: ShardClient
  private readonly providers: ProviderQueue
  private readonly metrics: DataMetrics
  private readonly isGarbage: (block: HeldBlock) => boolean
  private readonly ready: () => Promise<void>
  private readonly repairIntervalMs: number
  private shutdown = new AbortController()
  private running = false
  private repairTimer?: ReturnType<typeof setTimeout>
  private repairing?: Promise<RepairReport>

  constructor (components: ReplicatorComponents, init: ReplicatorInit) {
    this.components = components
    this.log = components.logger.forComponent('edgeswarm:data')
    this.store = init.store
    this.view = init.view
    this.client = init.client
    this.providers = init.providers
    this.metrics = init.metrics
    this.isGarbage = init.isGarbage
    this.ready = init.ready
    this.repairIntervalMs = init.repairIntervalMs ?? DEFAULT_REPAIR_INTERVAL_MS
  }

  start (): void {
    if (this.running) return
    this.shutdown = new AbortController()
    setMaxListeners(Infinity, this.shutdown.signal)
    this.running = true
    this.scheduleRepair()
  }

  /** Stops the repair loop and aborts a running pass at once; resolves when that pass has ended. */
  async stop (): Promise<void> {
    if (!this.running) return
    this.running = false
    clearTimeout(this.repairTimer)
    this.shutdown.abort(new Error('data service stopped'))
    await this.repairing?.catch(() => {})
  }

  /**
   * Makes the `replicas` closest live peers hold `cid`: walks the candidates
   * closest first, skipping unreachable, full and distrusted peers. A put
   * tries PLACEMENT_CANDIDATES_PER_REPLICA candidates per copy and ends
   * short past them, since peers that time out would otherwise stretch it
   * over the whole view; repair (`checkFirst`) looks further, so a full or
   * refusing closest peer cannot keep a block short.
   */
  async replicate (cid: CID, replicas: number, load: () => Promise<Uint8Array | undefined>, signal: AbortSignal, options: ReplicateOptions = {}): Promise<ReplicateResult> {
    const { checkFirst = false, lookup = false, announcedBySender = false } = options
    const puts = options.puts != null && options.puts.length > 0 ? { puts: [...options.puts] } : {}
    const self = this.components.peerId
    const view = options.view ?? await this.view.closest(cid, signal, lookup)
    const candidates = checkFirst ? view : view.slice(0, replicas * PLACEMENT_CANDIDATES_PER_REPLICA)
    const holders: PeerId[] = []
    const copied: PeerId[] = []
    let bytes: Promise<Uint8Array | undefined> | undefined
    let next = 0
    while (holders.length < replicas && next < candidates.length) {
      const batch = candidates.slice(next, next + replicas - holders.length)
      next += batch.length
      await Promise.all(batch.map(async peer => {
        if (peer.equals(self)) {
          if (this.store.has(cid)) holders.push(peer)
          return
        }
        if (this.metrics.badPeers.has(peer.toString())) return
        try {
          if (checkFirst) {
            const reply = await this.client.request(peer, { op: 'has', cid }, undefined, signal)
            if (reply.response.ok && reply.response.has === true) { holders.push(peer); return }
          }
          bytes ??= load()
          const body = await bytes
          if (body == null) return
          const reply = await this.client.request(peer, { op: 'put', cid, size: body.byteLength, replicas, ...(announcedBySender ? { announce: false } : {}), ...puts }, body, signal)
          if (reply.response.ok) {
            holders.push(peer)
            copied.push(peer)
          } else {
            this.log('peer %p refused %s: %s', peer, cid, reply.response.error)
          }
        } catch (err) {
          if (signal.aborted) throw err
          this.log('could not reach %p for %s - %e', peer, cid, err)
        }
      }))
    }
    return { holders, copied }
  }

  /**
   * Moves a block onto the closest peers an announcement's lookup found, when
   * its copies sit elsewhere. A put places blocks by this peer's own view of
   * the swarm, which in a large swarm misses closer peers; readers search the
   * closest peers they know and those their lookups reach, so a copy placed
   * off them is found only through its provider record. The lookup is the
   * announcement's own, so this costs a `has` per closest peer and a push to
   * each that lacks the block.
   */
  async settlePlacement (cid: CID, found: PeerId[]): Promise<void> {
    const entry = this.store.entry(cid)
    if (entry == null || this.shutdown.signal.aborted || this.isGarbage(entry)) return
    this.view.remember(found)
    const view = sortByDistance(blockKadId(cid), [this.components.peerId, ...found])
    try {
      const { copied } = await this.replicate(cid, entry.replicas, async () => this.store.get(cid), this.shutdown.signal, { checkFirst: true, announcedBySender: true, view, puts: entry.puts })
      if (copied.length > 0) this.log('moved %s onto %d of its closest peers', cid, copied.length)
    } catch (err) {
      if (!this.shutdown.signal.aborted) this.log('placing %s on its closest peers failed - %e', cid, err)
    }
  }

  /** One repair pass over every block held here; a pass already running is joined, not doubled. */
  async repairOnce (): Promise<RepairReport> {
    if (this.repairing != null) return this.repairing
    this.repairing = this.repair().finally(() => { this.repairing = undefined })
    return this.repairing
  }

  /** Checks that the closest live peers of every held block have it, pushes it to those that do not, and announces what is not announced yet. */
  private async repair (): Promise<RepairReport> {
    const started = Date.now()
    const report: RepairReport = { checked: 0, copies: [], underReplicated: [], durationMs: 0 }
    const signal = this.shutdown.signal
    await this.ready()
    await forEachLimit(this.store.entries(), REPAIR_CONCURRENCY, async entry => {
      if (signal.aborted || this.isGarbage(entry)) return
      try {
        const { holders, copied } = await this.replicate(entry.cid, entry.replicas, async () => this.store.get(entry.cid), signal, { checkFirst: true, puts: entry.puts })
        report.checked++
        for (const peer of copied) report.copies.push({ cid: entry.cid.toString(), peer: peer.toString() })
        if (holders.length < entry.replicas) report.underReplicated.push(entry.cid.toString())
        this.providers.enqueue(entry.cid)
      } catch (err) {
        if (!signal.aborted) this.log.error('repair of %s failed - %e', entry.cid, err)
      }
    })
    report.durationMs = Date.now() - started
    this.counted(report)
    if (report.copies.length > 0) this.log('repair copied %d blocks in %d ms', report.copies.length, report.durationMs)
    return report
  }

  /** Counts a finished pass in the layer's metrics. */
  private counted (report: RepairReport): void {
    const m = this.metrics
    const now = Date.now()
    m.repairPasses++
    m.repairCopies += report.copies.length
    m.underReplicated = report.underReplicated.length
    if (report.underReplicated.length === 0) m.underReplicatedSince = undefined
    else m.underReplicatedSince ??= now
    m.lastRepair = { at: now, checked: report.checked, copies: report.copies.length, underReplicated: report.underReplicated.length, durationMs: report.durationMs }
  }

  private scheduleRepair (): void {
    if (!this.running || this.repairIntervalMs <= 0 || !Number.isFinite(this.repairIntervalMs)) return
    // jittered: peers started together (a site powering up, a simulation) do not all repair at once
    const delay = this.repairIntervalMs * (1 - REPAIR_JITTER / 2 + Math.random() * REPAIR_JITTER)
    this.repairTimer = setTimeout(() => {
      this.repairOnce()
        .catch(err => { this.log.error('repair pass failed - %e', err) })
        .finally(() => { this.scheduleRepair() })
    }, delay)
    this.repairTimer.unref?.()
  }
}
