/**
 * data/collector: garbage collection of the blocks this peer holds, on its
 * own, by the same rule on every peer (`judgeBlock`): a block is garbage when
 * every put it is part of was released, or when no put it is part of is known
 * to be live once the grace period has passed since it was stored (an orphan
 * of an interrupted put, or a block nobody holds a root of). A block stored
 * outside a put (`keepBlock`, `adoptBlock`: the layer above's) is garbage only
 * when that layer gives `pins` and they do not pin it, after the same grace.
 * Runs every `gcIntervalMs`, soon after a release arrives, and on demand
 * (`edgeswarm gc`).
 *
 * Never deletes a pinned block or a block of a live put, and never runs two
 * passes at once.
 */
import { setMaxListeners } from 'node:events'
import type { Logger, Startable } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'
import { DEFAULT_GC_GRACE_MS, DEFAULT_GC_INTERVAL_MS, GC_AFTER_RELEASE_MS, GC_COMPACT_MIN_BYTES, REPAIR_JITTER } from './constants.ts'
import type { Liveness, RecordStore } from './record-store.ts'
import type { HeldBlock, ShardStore } from './shard-store.ts'
import type { Pins } from './types.ts'

/** Why a block is garbage. */
export type GarbageReason = 'released' | 'orphan' | 'unpinned'

/** Why a block is kept: pinned by the layer above, part of a live put, within its grace, or stored outside a put with no layer to say when it is done. */
export type KeepReason = 'pinned' | 'live' | 'grace' | 'untracked'

export type BlockVerdict = { keep: true, reason: KeepReason } | { keep: false, reason: GarbageReason }

/**
 * Whether a held block is garbage, and why. `state` is what its puts say
 * together (RecordStore.blockState); `pins` is undefined when no layer above
 * pins blocks. Pure.
 */
export function judgeBlock (block: Pick<HeldBlock, 'puts' | 'at'>, state: Liveness, pinned: boolean, pinsGiven: boolean, now: number, graceMs: number): BlockVerdict {
  if (pinned) return { keep: true, reason: 'pinned' }
  const young = now - block.at < graceMs
  if (block.puts.length === 0) {
    if (!pinsGiven) return { keep: true, reason: 'untracked' }
    return young ? { keep: true, reason: 'grace' } : { keep: false, reason: 'unpinned' }
  }
  if (state === 'live') return { keep: true, reason: 'live' }
  if (state === 'released') return { keep: false, reason: 'released' }
  return young ? { keep: true, reason: 'grace' } : { keep: false, reason: 'orphan' }
}

/** What one pass freed. */
export interface GcReport {
  /** Blocks deleted, and their bytes. */
  blocks: number
  bytes: number
  byReason: Record<GarbageReason, { blocks: number, bytes: number }>
  /** Whether the blockstore was compacted, returning the space to the filesystem. */
  compacted: boolean
  durationMs: number
}

export interface CollectorComponents {
  store: ShardStore
  records: RecordStore
  /** Blocks the layer above keeps; undefined: it pins none and blocks outside puts are never collected. */
  pins?: Pins
  /** Frees the space of deleted blocks (compacts the blockstore); none for a store without compaction. */
  reclaim?: () => Promise<void>
  /** Called for each deleted block (it is no longer announced). */
  deleted: (cid: CID) => void
  /** Called after a pass that freed space (the storage budget reads the disk again). */
  freed: () => Promise<void>
  log: Logger
}

export interface CollectorInit {
  /** @default DEFAULT_GC_INTERVAL_MS; 0 turns the timer off */
  intervalMs?: number
  /** @default DEFAULT_GC_GRACE_MS */
  graceMs?: number
}

export class Collector implements Startable {
  private readonly components: CollectorComponents
  private readonly intervalMs: number
  readonly graceMs: number
  private running = false
  private timer?: ReturnType<typeof setTimeout>
  private soonTimer?: ReturnType<typeof setTimeout>
  private passing?: Promise<GcReport>
  private shutdown = new AbortController()

  constructor (components: CollectorComponents, init: CollectorInit = {}) {
    this.components = components
    this.intervalMs = init.intervalMs ?? DEFAULT_GC_INTERVAL_MS
    this.graceMs = init.graceMs ?? DEFAULT_GC_GRACE_MS
  }

  start (): void {
    if (this.running) return
    this.running = true
    this.shutdown = new AbortController()
    setMaxListeners(Infinity, this.shutdown.signal)
    this.schedule()
  }

  async stop (): Promise<void> {
    if (!this.running) return
    this.running = false
    clearTimeout(this.timer)
    clearTimeout(this.soonTimer)
    this.soonTimer = undefined
    this.shutdown.abort(new Error('data service stopped'))
    await this.passing?.catch(() => {})
  }

  /** A pass GC_AFTER_RELEASE_MS from now (one for a burst of calls). */
  soon (): void {
    if (!this.running || this.soonTimer != null) return
    this.soonTimer = setTimeout(() => {
      this.soonTimer = undefined
      this.collect().catch(err => { this.components.log.error('garbage collection failed - %e', err) })
    }, GC_AFTER_RELEASE_MS)
    this.soonTimer.unref()
  }

  /** Why each block held here is kept, or garbage, now. */
  verdict (block: HeldBlock, now = Date.now()): BlockVerdict {
    const { records, pins } = this.components
    return judgeBlock(block, records.blockState(block.puts), pins?.isPinned(block.cid) ?? false, pins != null, now, this.graceMs)
  }

  /** Whether a held block is garbage now (repair skips it). */
  isGarbage (block: HeldBlock): boolean {
    return !this.verdict(block).keep
  }

  /**
   * One pass over every block held: deletes the garbage and, when it freed at
   * least GC_COMPACT_MIN_BYTES or the disk is at its write floor, compacts
   * the store; `compact` compacts it in any case (space earlier passes freed
   * comes back too). A pass already running is joined.
   */
  async collect (options: { compact?: boolean, signal?: AbortSignal } = {}): Promise<GcReport> {
    this.passing ??= this.pass(options).finally(() => { this.passing = undefined })
    return await this.passing
  }

  private async pass (options: { compact?: boolean, signal?: AbortSignal }): Promise<GcReport> {
    const { store, reclaim, deleted, freed, log } = this.components
    const started = Date.now()
    const report: GcReport = {
      blocks: 0,
      bytes: 0,
      byReason: { released: { blocks: 0, bytes: 0 }, orphan: { blocks: 0, bytes: 0 }, unpinned: { blocks: 0, bytes: 0 } },
      compacted: false,
      durationMs: 0
    }
    for (const block of store.entries()) {
      options.signal?.throwIfAborted()
      if (this.shutdown.signal.aborted) break
      const verdict = this.verdict(block, started)
      if (verdict.keep) continue
      try {
        await store.delete(block.cid)
      } catch (err) {
        log('deleting %s failed - %e', block.cid, err)
        continue
      }
      deleted(block.cid)
      report.blocks++
      report.bytes += block.size
      report.byReason[verdict.reason].blocks++
      report.byReason[verdict.reason].bytes += block.size
    }
    if (reclaim != null && (options.compact === true || (report.blocks > 0 && (report.bytes >= GC_COMPACT_MIN_BYTES || store.storage().diskFull)))) {
      try {
        await reclaim()
        report.compacted = true
        log('compacted the blockstore')
      } catch (err) {
        log.error('compacting the blockstore failed - %e', err)
      }
    }
    if (report.blocks > 0 || report.compacted) {
      await freed()
      log('garbage collection freed %d blocks (%d bytes)', report.blocks, report.bytes)
    }
    report.durationMs = Date.now() - started
    return report
  }

  private schedule (): void {
    if (!this.running || this.intervalMs <= 0) return
    const delay = this.intervalMs * (1 - REPAIR_JITTER / 2 + Math.random() * REPAIR_JITTER)
    this.timer = setTimeout(() => {
      this.collect()
        .catch(err => { this.components.log.error('garbage collection failed - %e', err) })
        .finally(() => { this.schedule() })
    }, delay)
    this.timer.unref()
  }
}
