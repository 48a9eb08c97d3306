/**
 * jobs/sync/summary: which jobs a sync summary names. A summary goes both
 * ways on every exchange (every SYNC_INTERVAL_MS), so it names the jobs that
 * may still differ between peers, not every job kept: the jobs not finished,
 * those finished within SYNC_FINISHED_WINDOW_MS, and the jobs a caller looks
 * for (find.ts), newest first, within MAX_SYNC_SUMMARY_BYTES. Its size
 * follows the jobs in progress, not the days of finished jobs retention
 * keeps; a finished job a peer never heard of is fetched by its id.
 *
 * Never reads a fact; decides only what a summary names.
 */
import { MAX_SYNC_SUMMARY_BYTES, SYNC_FINISHED_WINDOW_MS } from '../constants.ts'
import type { KnownJob } from '../finished-job.ts'
import type { SyncSummary } from './codec.ts'

/** Bytes a job takes in an encoded summary, bounded from above: its id, each author and count, and dag-cbor's headers. */
function summaryBytes (job: KnownJob): number {
  let n = job.id.length + 4
  for (const author of job.authorCounts.keys()) n += author.length + 8
  return n
}

/**
 * The jobs a summary names, of `jobs` known here at `now`: those not finished, then those
 * finished within SYNC_FINISHED_WINDOW_MS, each newest first, within MAX_SYNC_SUMMARY_BYTES.
 */
export function jobsToSync (jobs: Iterable<KnownJob>, now = Date.now()): KnownJob[] {
  const open: KnownJob[] = []
  const recent: Array<[KnownJob, number]> = []
  for (const job of jobs) {
    const finished = job.finishedAt(now)
    if (finished == null) open.push(job)
    else if (now - finished < SYNC_FINISHED_WINDOW_MS) recent.push([job, finished])
  }
  open.sort((a, b) => (b.doc?.createdAt ?? Infinity) - (a.doc?.createdAt ?? Infinity))
  recent.sort((a, b) => b[1] - a[1])
  const out: KnownJob[] = []
  let bytes = 0
  for (const job of [...open, ...recent.map(([job]) => job)]) {
    bytes += summaryBytes(job)
    if (bytes > MAX_SYNC_SUMMARY_BYTES) break
    out.push(job)
  }
  return out
}

/** The summary of `jobs`, naming each of `wanted` not among them with no facts (so the other side offers it whole). */
export function summaryOf (jobs: Iterable<KnownJob>, wanted: readonly string[] = []): SyncSummary {
  const have: SyncSummary = {}
  for (const job of jobs) have[job.id] = Object.fromEntries(job.authorCounts)
  for (const id of wanted) have[id] ??= {}
  return have
}
