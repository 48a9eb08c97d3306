/**
 * jobs/retention: what the job layer keeps of its jobs, and for how long, on
 * each peer on its own.
 *
 * 1. Pins (`isPinned`, the data layer's `pins`): the blocks the job layer
 *    stores outside puts stay while it needs them: a job's result batches
 *    until its final result is stored (its `done` fact counts) or it ended
 *    without one, and the pass states (models) of an iterative job until the
 *    job is collected. The data layer collects an unpinned one after its grace.
 * 2. Its own puts: once a job's final result is stored, this peer releases
 *    (`rm`) the large task results it put for it; when the job is collected,
 *    the job document and the final result it put. Only a putter can release
 *    a put, so each peer releases its own.
 * 3. Retention: a job done, failed or canceled is collected `keepMs` after it
 *    finished (its latest fact, or its deadline: the same on every peer with
 *    the same facts): its facts, in memory and in the datastore, go, and a
 *    tombstone keeps gossip and sync from bringing it back (fact-store.ts).
 *    `keepMs` 0 keeps jobs forever.
 *
 * Never collects a job that has not finished, and never releases a put of
 * another peer's.
 */
import type { Logger, Startable } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'
import { DEFAULT_JOB_KEEP_MS, JOB_RETENTION_CHECK_MS } from './constants.ts'
import type { FactStore } from './fact-store.ts'
import type { JobServiceData } from './data-access.ts'
import { JobState } from './state.ts'

/** What one collection freed. */
export interface JobGcReport {
  /** Finished jobs collected, and their facts. */
  jobs: number
  facts: number
  /** Puts this peer made for jobs that it released (task results, documents, final results). */
  released: number
}

export interface JobRetentionComponents {
  /** This peer's id: the putter of the puts it releases. */
  peerId: string
  store: Pick<FactStore, 'all' | 'restore' | 'forget'>
  data: Pick<JobServiceData, 'cidFor' | 'rm'>
  log: Logger
}

export interface JobRetentionInit {
  /** How long (ms) a finished job is kept; 0: forever. @default DEFAULT_JOB_KEEP_MS */
  keepMs?: number
}

export class JobRetention implements Startable {
  private readonly components: JobRetentionComponents
  readonly keepMs: number
  private timer?: ReturnType<typeof setInterval>
  private pinned?: Set<string>
  /** Jobs whose task results this peer released already (at their final result). */
  private readonly released = new Set<string>()
  private collecting?: Promise<JobGcReport>
  /** The job layer's persisted facts are loaded: until then every block is pinned, since the pins are not known yet. */
  private loaded = false

  constructor (components: JobRetentionComponents, init: JobRetentionInit = {}) {
    const keepMs = init.keepMs ?? DEFAULT_JOB_KEEP_MS
    if (!Number.isSafeInteger(keepMs) || keepMs < 0) throw new RangeError(`keepMs must be a whole number of ms >= 0, got ${String(init.keepMs)}`)
    this.components = components
    this.keepMs = keepMs
  }

  start (): void {
    if (this.keepMs === 0 || this.timer != null) return
    this.timer = setInterval(() => {
      this.collect().catch(err => { this.components.log.error('collecting finished jobs failed - %e', err) })
    }, Math.min(JOB_RETENTION_CHECK_MS, this.keepMs))
    this.timer.unref()
  }

  stop (): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  /** A job changed: the pins are computed again when next asked; a job whose final result is stored has its task results released here. */
  changed (state: JobState): void {
    this.pinned = undefined
    if (state.doneResult() != null && !this.released.has(state.id)) {
      this.released.add(state.id)
      void this.release(this.ownTaskResults(state))
    }
  }

  /** The facts persisted here are loaded: the pins are known from now on. */
  markLoaded (): void {
    this.loaded = true
    this.pinned = undefined
  }

  /** Whether the job layer needs block `cid` kept (rule 1); every block, until the persisted facts are loaded. */
  isPinned (cid: CID): boolean {
    if (!this.loaded) return true
    this.pinned ??= this.pins()
    return this.pinned.has(cid.toString())
  }

  /** Collects every finished job past its retention now (rule 3); one collection at a time. */
  async collect (now = Date.now()): Promise<JobGcReport> {
    this.collecting ??= this.pass(now).finally(() => { this.collecting = undefined })
    return await this.collecting
  }

  private async pass (now: number): Promise<JobGcReport> {
    const report: JobGcReport = { jobs: 0, facts: 0, released: 0 }
    if (this.keepMs === 0) return report
    const due: string[] = []
    for (const job of this.components.store.all()) {
      const finished = job.finishedAt(now)
      if (finished != null && now - finished >= this.keepMs) due.push(job.id)
    }
    for (const id of due) {
      // a finished job's facts may be on disk only: the puts it made are read from them
      const state = await this.components.store.restore(id)
      if (state != null) report.released += await this.release([...this.ownTaskResults(state), ...await this.ownJobPuts(state)])
      report.facts += await this.components.store.forget(id, now)
      this.released.delete(id)
      report.jobs++
    }
    if (due.length > 0) {
      this.pinned = undefined
      this.components.log('collected %d finished jobs (%d facts)', report.jobs, report.facts)
    }
    return report
  }

  /** The CIDs the job layer pins now (rule 1). */
  private pins (): Set<string> {
    const out = new Set<string>()
    for (const job of this.components.store.all()) {
      // a job out of memory has finished: only its pass states stay pinned
      if (job instanceof JobState && job.doneResult() == null && !job.failed) {
        for (const sf of job.allFacts()) if (sf.fact.t === 'result' && sf.fact.batch != null) out.add(sf.fact.batch)
      }
      for (const cid of job.acceptedStates()) out.add(cid)
    }
    return out
  }

  /** The large task results this peer put for a job (the refs of its own result facts). */
  private ownTaskResults (state: JobState): string[] {
    const refs: string[] = []
    for (const sf of state.allFacts()) {
      if (sf.from !== this.components.peerId || sf.fact.t !== 'result') continue
      for (const r of sf.fact.results) if (r.ref != null) refs.push(r.ref)
    }
    return refs
  }

  /** The job document (when this peer submitted it) and the final result (when it reduced it) it put. */
  private async ownJobPuts (state: JobState): Promise<string[]> {
    const me = this.components.peerId
    const out: string[] = []
    const job = state.allFacts().find(sf => sf.fact.t === 'job' && sf.from === me)
    if (job?.fact.t === 'job') out.push((await this.components.data.cidFor(job.fact.doc)).toString())
    for (const sf of state.allFacts()) if (sf.fact.t === 'done' && sf.from === me) out.push(sf.fact.result)
    return out
  }

  /** Releases puts of this peer's; those it does not hold (never stored, released before) are skipped. Returns how many were released. */
  private async release (roots: string[]): Promise<number> {
    const data = this.components.data
    if (data.rm == null) return 0
    let n = 0
    for (const root of new Set(roots)) {
      try {
        await data.rm(root)
        n++
      } catch (err) {
        this.components.log.trace('not released %s: %e', root, err)
      }
    }
    return n
  }
}
