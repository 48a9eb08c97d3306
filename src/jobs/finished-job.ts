/**
 * jobs/finished-job: what a peer keeps in memory of a finished job whose
 * facts are on disk only (`FinishedJob`), and the reading every job known
 * here offers whether its facts are in memory or not (`KnownJob`).
 *
 * A finished job's view no longer changes without a new fact, so a summary
 * taken once it has been idle answers `job status`, `job ls`, the sync
 * summary, retention and the metrics; anything that needs the facts
 * themselves (a result, a sync offer, a timeline) reads them back
 * (fact-store.ts). Never reads or writes the datastore.
 */
import type { JobDocument } from './spec.ts'
import type { JobView } from './views.ts'
import type { JobState } from './state.ts'

/** The untrusted peers of a job that arrived when none was: one set shared by every such summary. */
const NONE: ReadonlySet<string> = new Set()

/** What lists show of a job's document: a finished job out of memory keeps no more of it. */
export type JobHeader = Pick<JobDocument, 'fn' | 'createdAt' | 'submitter'>

/** What every job known here answers, whether its facts are in memory (a `JobState`) or on disk only (a `FinishedJob`). */
export interface KnownJob {
  readonly id: string
  /** Its document (a `JobState`'s whole), or what lists show of it; undefined while the document is not here. */
  readonly doc: JobHeader | undefined
  /** Facts held per author: the sync summary. */
  readonly authorCounts: ReadonlyMap<string, number>
  view: (now?: number) => JobView
  lostClaims: () => number
  /** When the job finished (see JobState.finishedAt), if it has. */
  finishedAt: (now?: number) => number | undefined
  /** The CIDs of its accepted pass states (an iterative job's models): pinned until the job is collected. */
  acceptedStates: () => string[]
}

/** A finished job's summary, taken from its state once the job was idle (see fact-store.ts). */
export class FinishedJob implements KnownJob {
  readonly id: string
  readonly doc: JobHeader
  readonly authorCounts: ReadonlyMap<string, number>
  private readonly summary: JobView
  private readonly lost: number
  private readonly finished: number
  private readonly states: string[]
  /** The peers untrusted when the job arrived here (see JobState): its state read back folds with them. */
  readonly avoided: ReadonlySet<string>

  /** The summary of `state`, whose document is `doc` and which finished at `finished` (by `now`). */
  constructor (state: JobState, doc: JobDocument, finished: number, now: number) {
    this.id = state.id
    this.doc = { fn: doc.fn, createdAt: doc.createdAt, submitter: doc.submitter }
    this.authorCounts = new Map(state.authorCounts)
    this.summary = state.view(now)
    this.lost = state.lostClaims()
    this.finished = finished
    this.states = state.acceptedStates()
    this.avoided = state.avoided.size === 0 ? NONE : state.avoided
  }

  view (): JobView {
    return structuredClone(this.summary)
  }

  lostClaims (): number {
    return this.lost
  }

  finishedAt (): number {
    return this.finished
  }

  acceptedStates (): string[] {
    return [...this.states]
  }

  /** How many facts the job has (all on disk). */
  get factCount (): number {
    let n = 0
    for (const count of this.authorCounts.values()) n += count
    return n
  }
}
