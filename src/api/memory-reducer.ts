/**
 * api/memory-reducer: gives a daemon's memory back to the device after a
 * burst of work. V8 keeps the pages a burst made it commit after their
 * garbage is collected, and shrinks only on a memory-reducing collection,
 * which a daemon never idle enough for V8's own reducer (gossip heartbeats,
 * DHT upkeep) does not get: its RSS would stay at the burst's peak for good.
 * So when the RSS sits REDUCE_ABOVE_BYTES over what the process held after
 * its last reduction, this asks V8 for one such collection, at most once
 * per interval, backing off while they free little.
 *
 * Owns only that. One per process: a daemon runs one peer, and the
 * collection is the whole process's. Never runs more often than
 * REDUCE_MIN_INTERVAL_MS, and never throws.
 */
import type { Startable } from '@libp2p/interface'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

/** How often (ms) the RSS is read by default. */
export const MEMORY_CHECK_MS = 30_000
/** A reduction is asked for once the RSS is this much over what the process held after the last one. */
export const REDUCE_ABOVE_BYTES = 64 * 1024 * 1024
/** Shortest time (ms) between reductions: each stops the process for a full collection. */
export const REDUCE_MIN_INTERVAL_MS = 60_000
/** Longest back-off (ms) between reductions that free little: the memory is in use. */
const REDUCE_MAX_INTERVAL_MS = 30 * 60 * 1000

export interface MemoryReducerInit {
  /** @default MEMORY_CHECK_MS */
  checkMs?: number
  /** @default REDUCE_ABOVE_BYTES */
  aboveBytes?: number
  /** @default REDUCE_MIN_INTERVAL_MS */
  minIntervalMs?: number
}

type CollectGarbage = (options: { type: 'major', execution: 'sync', flavor: 'last-resort' }) => void

/**
 * V8's `gc`, without starting the process with --expose-gc: the flag is set,
 * a fresh context's `gc` taken, and the flag unset again, so no other code
 * sees a global `gc`.
 */
function collectGarbage (): CollectGarbage | undefined {
  try {
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as CollectGarbage | undefined
    setFlagsFromString('--no-expose-gc')
    return typeof gc === 'function' ? gc : undefined
  } catch {
    return undefined
  }
}

export class MemoryReducer implements Startable {
  private readonly checkMs: number
  private readonly aboveBytes: number
  private readonly minIntervalMs: number
  private timer?: ReturnType<typeof setInterval>
  private gc?: CollectGarbage
  /** The RSS right after the last reduction (or at start): what the process needs. */
  private floor = 0
  private last = 0
  private interval: number
  /** Reductions made, and the bytes they gave back. */
  readonly stats = { reductions: 0, freedBytes: 0 }

  constructor (init: MemoryReducerInit = {}) {
    this.checkMs = init.checkMs ?? MEMORY_CHECK_MS
    this.aboveBytes = init.aboveBytes ?? REDUCE_ABOVE_BYTES
    this.minIntervalMs = init.minIntervalMs ?? REDUCE_MIN_INTERVAL_MS
    this.interval = this.minIntervalMs
  }

  start (): void {
    this.gc = collectGarbage()
    if (this.gc == null) return
    this.floor = process.memoryUsage.rss()
    this.last = Date.now()
    this.timer = setInterval(() => { this.check() }, this.checkMs)
    this.timer.unref()
  }

  stop (): void {
    clearInterval(this.timer)
  }

  private check (): void {
    const rss = process.memoryUsage.rss()
    const now = Date.now()
    if (this.gc == null || rss - this.floor < this.aboveBytes || now - this.last < this.interval) return
    try {
      this.gc({ type: 'major', execution: 'sync', flavor: 'last-resort' })
    } catch {
      return
    }
    const after = process.memoryUsage.rss()
    this.last = now
    this.stats.reductions++
    this.stats.freedBytes += Math.max(0, rss - after)
    // a reduction that freed little means the memory is in use: wait longer before the next
    this.interval = rss - after < this.aboveBytes / 4 ? Math.min(this.interval * 2, REDUCE_MAX_INTERVAL_MS) : this.minIntervalMs
    this.floor = after
  }
}
