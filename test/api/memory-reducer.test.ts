/**
 * The daemon's memory reducer gives back what a burst of garbage made V8
 * commit: without it the RSS stays at the burst's peak.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { MemoryReducer } from '../../src/api/memory-reducer.ts'

const MiB = 1024 * 1024

/** A burst of short-lived objects, as a stream of requests leaves: about `mib` MiB of garbage, some of it live for a while. */
function burst (mib: number): number {
  let kept: unknown[] = []
  let total = 0
  for (let i = 0; i < mib * 1024; i++) {
    kept.push({ i, text: 'x'.repeat(900) + String(i), list: [i, i + 1, i + 2] })
    if (kept.length > 40_000) { total += kept.length; kept = [] }
  }
  return total + kept.length
}

describe('memory reducer', () => {
  it('brings the RSS back down after a burst of garbage, and not more often than its interval', async () => {
    const reducer = new MemoryReducer({ checkMs: 100, aboveBytes: 64 * MiB, minIntervalMs: 0 })
    reducer.start()
    try {
      const before = process.memoryUsage.rss()
      expect(burst(400)).toBeGreaterThan(0)
      const peak = process.memoryUsage.rss()
      expect(peak - before).toBeGreaterThan(64 * MiB)
      let after = peak
      for (let i = 0; i < 50 && reducer.stats.reductions === 0; i++) await sleep(100)
      after = process.memoryUsage.rss()
      expect(reducer.stats.reductions).toBeGreaterThan(0)
      expect(peak - after).toBeGreaterThan(32 * MiB)
    } finally {
      reducer.stop()
    }
  })
})
