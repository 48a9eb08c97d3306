/**
 * Which jobs a sync summary names: the jobs not finished, then those finished
 * within SYNC_FINISHED_WINDOW_MS, newest first, never past
 * MAX_SYNC_SUMMARY_BYTES; a job a caller looks for is named with no facts.
 */
import { describe, it, expect } from 'vitest'
import * as dagCbor from '@ipld/dag-cbor'
import { MAX_SYNC_SUMMARY_BYTES, SYNC_FINISHED_WINDOW_MS } from '../../src/jobs/constants.ts'
import type { KnownJob } from '../../src/jobs/finished-job.ts'
import { jobsToSync, summaryOf } from '../../src/jobs/sync/summary.ts'

const AUTHOR = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'

/** A job known here: created at `createdAt`, finished at `finished` (or not), with `authors` authors of 3 facts each. */
function job (id: string, createdAt: number, finished: number | undefined, authors = 1): KnownJob {
  const counts = new Map(Array.from({ length: authors }, (_, i) => [`${AUTHOR}${i}`, 3]))
  return {
    id,
    doc: { fn: 'square', createdAt, submitter: AUTHOR },
    authorCounts: counts,
    view: () => { throw new Error('not read') },
    lostClaims: () => 0,
    finishedAt: () => finished,
    acceptedStates: () => []
  }
}

describe('sync summaries', () => {
  it('name the open jobs and those finished within the window, newest first', () => {
    const now = 1_000_000_000
    const jobs = [
      job('old-done', 1, now - SYNC_FINISHED_WINDOW_MS - 1),
      job('open-1', 10, undefined),
      job('recent-1', 20, now - 1_000),
      job('open-2', 30, undefined),
      job('recent-2', 40, now - SYNC_FINISHED_WINDOW_MS + 1),
      job('edge', 50, now - SYNC_FINISHED_WINDOW_MS)
    ]
    expect(jobsToSync(jobs, now).map(j => j.id)).toEqual(['open-2', 'open-1', 'recent-1', 'recent-2'])
  })

  it('stay within MAX_SYNC_SUMMARY_BYTES encoded, whatever the number of jobs and authors, keeping the newest', () => {
    const now = 1_000_000_000
    const jobs = Array.from({ length: 3_000 }, (_, i) => job(`bafyreib${String(i).padStart(51, '0')}`, i, i % 2 === 0 ? undefined : now - i, 20))
    const named = jobsToSync(jobs, now)
    expect(named.length).toBeGreaterThan(100)
    expect(named.length).toBeLessThan(jobs.length)
    expect(dagCbor.encode({ have: summaryOf(named) }).length).toBeLessThanOrEqual(MAX_SYNC_SUMMARY_BYTES)
    // the open jobs come first, the newest of them first
    expect(named[0].doc?.createdAt).toBe(2_998)
    expect(named.every(j => j.finishedAt() == null)).toBe(true)
  })

  it('name a wanted job not held with no facts, and keep the counts of one held', () => {
    const held = job('held', 1, undefined, 2)
    expect(summaryOf([held], ['wanted', 'held'])).toEqual({ held: { [`${AUTHOR}0`]: 3, [`${AUTHOR}1`]: 3 }, wanted: {} })
  })
})
