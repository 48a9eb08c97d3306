/**
 * scheduler/result-batcher: this peer's finished results until they are
 * published, and the result facts that carry them. Every fact costs each
 * peer of the swarm a receipt and a signature check, so results are
 * reported as volunteer-computing clients do, with the peer's next work
 * request: while the peer still has tasks of the job queued or running,
 * results wait (at most RESULT_MAX_DELAY_MS) for its next claim or renewal,
 * and go out in the same fact. A result fact renews the peer's other tasks
 * of the job too, so a renew fact goes out only when no result did for a
 * while. The fact that carries a peer's last results of an iterative job's
 * pass also claims its tasks of the next pass (what it would claim when that
 * pass opens), so a round costs a peer one fact, not a claim and a result.
 *
 * Small results travel inline (every peer keeps the facts) and are also
 * stored in the swarm as one batch block, which the fact names (not an
 * iterative job's: only its pass's reduce reads them, from the facts); large ones
 * are stored first and referenced. A fact never exceeds the fact size limit
 * (see batchLength). Never decides whether a result counts: the fold does.
 */
import type { Startable } from '@libp2p/interface'
import { setMaxListeners } from 'node:events'
import { setImmediate, setTimeout } from 'node:timers/promises'
import { cidOf } from '../data/index.ts'
import {
  INLINE_RESULT_MAX_BYTES, MAX_INLINE_BYTES_PER_FACT, MAX_RESULTS_PER_FACT, MAX_TASKS_PER_FACT, encodeResultBatch, isIterative, resultHash,
  type ResultEntry
} from '../jobs/index.ts'
import { RESULT_BATCH_MS, RESULT_MAX_DELAY_MS, RESULT_RETRY_MS } from './constants.ts'
import type { JobSource, SchedulerData } from './job-source.ts'
import type { Leases } from './leases.ts'

/** A finished run whose result is not published yet. */
export interface FinishedResult { task: number, bytes: Uint8Array }

/** Tasks a fact claims or renews, with their lease. */
export interface TaskLease { tasks: number[], lease: number }

/**
 * How many of `pending` results go in the next result fact: at most
 * MAX_RESULTS_PER_FACT, and inline bytes up to MAX_INLINE_BYTES_PER_FACT
 * (always at least one), so the fact fits the fact size limit: a fact too
 * large to sign would be retried forever.
 */
export function batchLength (pending: ReadonlyArray<{ bytes: Uint8Array }>): number {
  let n = 0
  let inline = 0
  while (n < pending.length && n < MAX_RESULTS_PER_FACT) {
    const size = pending[n].bytes.length
    const add = size <= INLINE_RESULT_MAX_BYTES ? size : 0
    if (n > 0 && inline + add > MAX_INLINE_BYTES_PER_FACT) break
    inline += add
    n++
  }
  return n
}

export interface ResultBatcherComponents {
  /** Where result facts are published. */
  jobs: Pick<JobSource, 'publish' | 'state'>
  /** Where large results and batch blocks are stored. */
  data: Pick<SchedulerData, 'put' | 'keepBlock'>
  /** A task stays held (renewed) until its result is out; a result fact renews the rest. */
  leases: Pick<Leases, 'othersOf' | 'renewed' | 'release'>
  /** Whether this peer has tasks of `job` queued or running: results wait for its next claim while it does. */
  holdsWork: (job: string) => boolean
  /** A job's lease length, undefined for a job no longer known. */
  leaseOf: (job: string) => number | undefined
  /**
   * The claim a result fact carrying `batch`, this peer's last finished results of `job` for
   * now, makes of an iterative job's next pass (see Scheduler.nextPassClaim); undefined: none.
   */
  nextPassClaim: (job: string, batch: readonly FinishedResult[]) => TaskLease | undefined
  /** The tasks of a next pass claimed by a published result fact: held from now, run once their pass opens. */
  claimedNextPass: (job: string, tasks: readonly number[]) => void
}

export class ResultBatcher implements Startable {
  private readonly components: ResultBatcherComponents
  /** Finished results not yet published, per job, in the order they finished. */
  private readonly results = new Map<string, FinishedResult[]>()
  /** Jobs with a flush under way: one at a time per job, so results batch up under load. */
  private readonly flushing = new Set<string>()
  private running = false
  private stopping = new AbortController()

  constructor (components: ResultBatcherComponents) {
    this.components = components
  }

  start (): void {
    this.running = true
    this.stopping = new AbortController()
    // every job with results waiting sleeps on this signal at once
    setMaxListeners(Infinity, this.stopping.signal)
  }

  /** Publishes nothing more: results not yet out are dropped (their leases lapse, and the tasks run elsewhere). */
  stop (): void {
    this.running = false
    this.stopping.abort()
  }

  /** A run of task `task` of `job` finished with `bytes`: published by the job's next flush. */
  add (job: string, task: number, bytes: Uint8Array): void {
    const list = this.results.get(job) ?? []
    list.push({ task, bytes })
    this.results.set(job, list)
    void this.flush(job)
  }

  /** Forgets the unpublished results of `job`: it ended without a result, and they can no longer count. */
  drop (job: string): void {
    this.results.delete(job)
  }

  /**
   * Takes the finished results of `job` that can go in one fact at once:
   * inline ones only (a large one is stored in the swarm first, by flush),
   * as many as batchLength allows. For a claim or a renewal to carry them.
   */
  takeInline (job: string): FinishedResult[] {
    const pending = this.results.get(job)
    if (pending == null || pending.length === 0) return []
    let n = 0
    const fit = batchLength(pending)
    while (n < fit && pending[n].bytes.length <= INLINE_RESULT_MAX_BYTES) n++
    return pending.splice(0, n)
  }

  /**
   * Publishes this peer's finished results of `job` in as few facts as fit,
   * after RESULT_BATCH_MS (at once for its last results of an iterative job's
   * pass), and while the peer still holds work of the job
   * after its next claim or renewal has carried them, at most
   * RESULT_MAX_DELAY_MS after the flush began.
   */
  async flush (job: string): Promise<void> {
    if (this.flushing.has(job)) return
    this.flushing.add(job)
    const signal = this.stopping.signal
    try {
      const first = Date.now()
      // the run that finished has left its slot once this turn ends: a peer's last results of
      // an iterative job's pass wait for nothing (none can join them, and the pass waits for them)
      await setImmediate(undefined, { signal })
      if (!this.lastOfPass(job)) await setTimeout(RESULT_BATCH_MS, undefined, { signal })
      while (this.running && (this.results.get(job)?.length ?? 0) > 0 && this.components.holdsWork(job) && Date.now() - first < RESULT_MAX_DELAY_MS) {
        await setTimeout(RESULT_BATCH_MS, undefined, { signal })
      }
      while (this.running) {
        const pending = this.results.get(job) ?? []
        if (pending.length === 0) break
        const batch = pending.splice(0, batchLength(pending))
        // the last results of a pass for now claim the next pass's tasks: no claim fact when it opens
        const next = pending.length === 0 ? this.components.nextPassClaim(job, batch) : undefined
        try {
          await this.publish(job, batch, next)
          if (next != null) this.components.claimedNextPass(job, next.tasks)
        } catch {
          // a job that ended (canceled, past its deadline) refuses them: they are dropped
          if (this.components.jobs.state(job)?.failed !== false) { this.drop(job); break }
          // kept (publish put them back) and tried again; their leases are still renewed
          await setTimeout(RESULT_RETRY_MS, undefined, { signal })
        }
      }
    } catch (err) {
      // stopped while waiting: nothing more is published
      if (!signal.aborted) throw err
    } finally {
      this.flushing.delete(job)
    }
  }

  /** Whether this peer holds no more work of iterative job `job`: its finished results are its last of the pass for now. */
  private lastOfPass (job: string): boolean {
    const doc = this.components.jobs.state(job)?.doc
    return doc != null && isIterative(doc) && !this.components.holdsWork(job)
  }

  /**
   * Publishes one result fact of `batch` (taken from this batcher): it renews
   * this peer's other tasks of the job, and with `claim` it claims those
   * tasks too, folded as the claim fact of its time would be. On failure the
   * results are put back (first) and the error thrown.
   */
  async publish (job: string, batch: FinishedResult[], claim?: TaskLease): Promise<void> {
    const { jobs, data, leases } = this.components
    try {
      const entries: ResultEntry[] = []
      for (const r of batch) {
        const entry: ResultEntry = { task: r.task, hash: resultHash(r.bytes), size: r.bytes.length }
        if (r.bytes.length <= INLINE_RESULT_MAX_BYTES) entry.data = r.bytes
        else entry.ref = (await data.put(r.bytes, { listed: false })).toString()
        entries.push(entry)
      }
      // the inline results are stored in the swarm as one block, which the fact names; an
      // iterative job's are not: they serve only their pass's reduce and checks, which read them
      // from the facts every peer holds, and the pass's state is what the job keeps
      const doc = jobs.state(job)?.doc
      const stored = doc != null && isIterative(doc) ? undefined : encodeResultBatch(job, entries)
      const batchCid = stored != null ? cidOf(stored).toString() : undefined
      const at = Date.now()
      const renew = this.renewalOf(job, new Set(batch.map(r => r.task)))
      await jobs.publish({ t: 'result', job, at, results: entries, ...(batchCid != null ? { batch: batchCid } : {}), ...(renew != null ? { renew } : {}), ...(claim != null ? { claim } : {}) })
      // the renewed leases' clocks restart with the fact, once it is out
      if (renew != null) leases.renewed(job, renew.tasks, at)
      for (const r of batch) leases.release(`${job}/${r.task}`)
      if (stored != null) void data.keepBlock(stored).catch(() => {})
    } catch (err) {
      const pending = this.results.get(job) ?? []
      pending.unshift(...batch)
      this.results.set(job, pending)
      throw err
    }
  }

  /** This peer's held tasks of `job` other than `except`, as a renewal for a result fact to carry; undefined when there are none. */
  private renewalOf (job: string, except: ReadonlySet<number>): TaskLease | undefined {
    const lease = this.components.leaseOf(job)
    if (lease == null) return undefined
    const tasks = this.components.leases.othersOf(job, except, MAX_TASKS_PER_FACT)
    if (tasks.length === 0) return undefined
    return { tasks, lease }
  }
}
