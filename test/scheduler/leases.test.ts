/**
 * Lease arithmetic and result-fact sizing, pure: when a lease is due, which
 * tasks one renewal carries, how many results one fact holds.
 */
import { describe, expect, it } from 'vitest'
import { INLINE_RESULT_MAX_BYTES, MAX_INLINE_BYTES_PER_FACT, MAX_RESULTS_PER_FACT } from '../../src/jobs/index.ts'
import { SHORT_LEASE_MS } from '../../src/scheduler/constants.ts'
import { Leases, renewalDueMs } from '../../src/scheduler/leases.ts'
import { batchLength } from '../../src/scheduler/result-batcher.ts'

describe('leases', () => {
  it('renews a short lease half way to expiring, a longer one a third of the way', () => {
    expect(renewalDueMs(SHORT_LEASE_MS)).toBe(SHORT_LEASE_MS / 2)
    expect(renewalDueMs(1_000)).toBe(500)
    expect(renewalDueMs(60_000)).toBe(20_000)
  })

  it('renews all of a job\'s held tasks once any of them is due, and no job with none due', () => {
    const leases = new Leases()
    const lease = (job: string): number | undefined => job === 'gone' ? undefined : 3_000
    leases.take('a/1', 0)
    leases.take('b/4', 2_000)
    leases.take('a/2', 1_000)
    leases.take('gone/0', 0)
    const at = (now: number): Record<string, { tasks: number[], due: boolean, lapsed: number }> => Object.fromEntries(leases.byJob(now, lease))
    expect(at(1_499)).toEqual({ a: { tasks: [1, 2], due: false, lapsed: 0 }, b: { tasks: [4], due: false, lapsed: 0 } })
    expect(at(1_500)).toEqual({ a: { tasks: [1, 2], due: true, lapsed: 0 }, b: { tasks: [4], due: false, lapsed: 0 } })
    // a renewal that comes after a lease ended counts that lease as lapsed
    expect(at(3_001).a.lapsed).toBe(1)
    expect(at(4_001).a.lapsed).toBe(2)
    leases.renewed('a', [1, 2], 1_500)
    expect(at(2_999)).toEqual({ a: { tasks: [1, 2], due: false, lapsed: 0 }, b: { tasks: [4], due: false, lapsed: 0 } })
    expect(at(3_000)).toEqual({ a: { tasks: [1, 2], due: true, lapsed: 0 }, b: { tasks: [4], due: false, lapsed: 0 } })
    // a released task is neither renewed nor brought back by a late renewal
    leases.release('a/1')
    leases.renewed('a', [1], 3_000)
    expect(leases.has('a/1')).toBe(false)
    expect(at(3_000).a.tasks).toEqual([2])
  })

  it('gives a result fact the job\'s other held tasks to renew, at most as many as asked', () => {
    const leases = new Leases()
    for (const key of ['a/1', 'b/1', 'a/2', 'a/3', 'a/4']) leases.take(key, 0)
    expect(leases.othersOf('a', new Set([2]), 10)).toEqual([1, 3, 4])
    expect(leases.othersOf('a', new Set([2]), 2)).toEqual([1, 3])
    expect(leases.othersOf('c', new Set(), 10)).toEqual([])
  })
})

describe('result facts', () => {
  const results = (n: number, size: number): Array<{ bytes: Uint8Array }> => Array.from({ length: n }, () => ({ bytes: new Uint8Array(size) }))

  it('hold at most MAX_RESULTS_PER_FACT results and MAX_INLINE_BYTES_PER_FACT inline bytes, and always one', () => {
    expect(batchLength(results(MAX_RESULTS_PER_FACT + 10, 10))).toBe(MAX_RESULTS_PER_FACT)
    const big = INLINE_RESULT_MAX_BYTES - 100
    expect(batchLength(results(100, big))).toBe(Math.floor(MAX_INLINE_BYTES_PER_FACT / big))
    // results stored in the swarm travel as references: they take no inline bytes
    expect(batchLength(results(100, INLINE_RESULT_MAX_BYTES + 1))).toBe(100)
    expect(batchLength([])).toBe(0)
  })
})
