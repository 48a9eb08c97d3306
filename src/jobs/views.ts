/**
 * jobs/views: what a job's state shows its readers (`JobView`, `TaskView`, and
 * an iterative job's passes and rounds), as plain data: the same on every
 * peer with the same facts, JSON as it is (the API sends it, a dashboard
 * charts a training's loss per round from `rounds`). Builds views; never
 * folds facts (state.ts does).
 */
import type { ResultEntry } from './facts.ts'
import type { PassLedger } from './pass-ledger.ts'

export type TaskStatus = 'open' | 'running' | 'done' | 'failed'
export type JobStatus = 'queued' | 'running' | 'done' | 'failed' | 'canceled'

export interface TaskView {
  status: TaskStatus
  /** Holders whose lease is alive now. */
  running: string[]
  /** Slots free now. */
  openSlots: number
  results: number
  accepted: ResultEntry | undefined
  retried: number
  /**
   * When an open task was opened again: its last holder's lease lapsed or it
   * failed (the same time on every peer with the same facts); undefined for a
   * task nobody held yet, or one not open.
   */
  reopenedAt?: number
}

/** One accepted pass of an iterative job. */
export interface PassView {
  pass: number
  /** When its reducer published it (the reducer's clock). */
  at: number
  /** The CID of the state it reduced to (absent when it failed). */
  state?: string
  loss?: number
  /** Why the job failed at this pass. */
  failure?: string
}

/** One round of a training: a pass that reports a loss is a round, numbered from 0 in pass order. */
export interface RoundView {
  round: number
  /** The mean training loss at the model the round started from. */
  loss: number
  /** The CID of the model the round produced. */
  model: string
}

export interface JobView {
  id: string
  status: JobStatus
  /** Tasks over all passes (an iterative job runs every task once per pass). */
  total: number
  done: number
  running: number
  open: number
  retried: number
  failedTasks: number
  /** Why the job failed, when it did (a passed deadline included). */
  reason?: string
  /** Who canceled the job (its submitter) and when (the cancel's time), when it was canceled. */
  canceled?: { by: string, at: number }
  /** When the job fails unless done (ms since the epoch), when it has a deadline. */
  deadline?: number
  /**
   * Why no live peer can run the job (a requirement or function none meets, named), while
   * it waits; a warning, not a failure: it clears when a capable peer appears.
   */
  warning?: string
  /** The final result, when done. */
  result?: { cid: string, hash: string, size: number }
  /** Of an iterative job: its passes, how many are accepted, and each accepted one. */
  passes?: { count: number, done: number, list: PassView[] }
  /** Of an iterative job whose passes report losses (a training): its rounds so far. */
  rounds?: RoundView[]
  /** Of such a job: the rounds done, which is the number of the round running while it runs. */
  round?: number
}

/** The passes and rounds of a view of an iterative job (see PassView, RoundView). */
export function passesView (ledger: PassLedger): Pick<JobView, 'passes' | 'rounds' | 'round'> {
  const list: PassView[] = []
  const rounds: RoundView[] = []
  for (const { fact } of ledger.accepted()) {
    const entry: PassView = { pass: fact.pass, at: fact.at }
    if (fact.state != null) entry.state = fact.state
    if (fact.loss != null) entry.loss = fact.loss
    if (fact.failure != null) entry.failure = fact.failure
    list.push(entry)
    if (fact.loss != null && fact.state != null) rounds.push({ round: rounds.length, loss: fact.loss, model: fact.state })
  }
  const view: Pick<JobView, 'passes' | 'rounds' | 'round'> = { passes: { count: ledger.count, done: list.length, list } }
  if (rounds.length > 0) {
    view.rounds = rounds
    view.round = rounds.length
  }
  return view
}
