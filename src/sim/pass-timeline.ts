/**
 * sim/pass-timeline: when each pass of an iterative job happened, for the
 * training benchmark's breakdown of a round: the times its reducer stamped on
 * the accepted `pass` facts, the first claim and the last result of each
 * pass's tasks (their authors' stamps), and the runs of tasks on this host's
 * peers (`TaskClock`, a decorator of their executors). Times are machine
 * time (`machineNow`), comparable across the hosts of one machine.
 *
 * Owns the measurement only; never changes a job or a run.
 */
import { taskCount, type JobState } from '../jobs/index.ts'
import type { TaskRunner } from '../scheduler/index.ts'

/** Task runs a host remembers (the latest), so a long run cannot exhaust its memory. */
const MAX_RECORDED_RUNS = 200_000

/** One run of a task on a peer of this host: [task index, started, ended] in machine time. */
export type TaskRun = [number, number, number]

/**
 * One fact of a job as the benchmark counts it: [kind, its author's stamp (0: none), its
 * envelope's bytes]; a `result` fact that also claims or renews counts as `result+claim` or
 * `result+renew`, so what rides on results shows.
 */
export type FactRecord = [string, number, number]

/** One accepted pass, as its facts timed it. */
export interface PassTiming {
  pass: number
  /** When its reducer stamped its `pass` fact. */
  at: number
  /** The earliest claim of one of its tasks, and the latest result (0: none seen). */
  firstClaimAt: number
  lastResultAt: number
  loss?: number
  failure?: string
}

/** Records the runs of every task on the peers whose executors it wraps, by job. */
export class TaskClock {
  private readonly runs = new Map<string, TaskRun[]>()
  private recorded = 0
  private readonly now: () => number

  /** `now`: the clock runs are stamped with. */
  constructor (now: () => number) {
    this.now = now
  }

  /** `executor`, with each of its runs recorded. */
  wrap (executor: TaskRunner): TaskRunner {
    return {
      canRun: doc => executor.canRun(doc),
      prefetch: (doc, index) => { executor.prefetch(doc, index) },
      clearPrefetched: () => { executor.clearPrefetched() },
      run: async (doc, index, options) => {
        const started = this.now()
        const out = await executor.run(doc, index, options)
        if (options?.job != null) this.record(options.job, [index, started, this.now()])
        return out
      }
    }
  }

  /** The recorded runs of `job`. */
  of (job: string): TaskRun[] {
    return this.runs.get(job) ?? []
  }

  private record (job: string, run: TaskRun): void {
    if (this.recorded >= MAX_RECORDED_RUNS) {
      this.runs.clear()
      this.recorded = 0
    }
    const list = this.runs.get(job) ?? []
    list.push(run)
    this.runs.set(job, list)
    this.recorded++
  }
}

/**
 * Every accepted pass of `state`'s job with the first claim and last result of its tasks,
 * from the facts this peer holds (their authors' clocks: the machine's, in a simulation).
 */
export function passTimeline (state: JobState): PassTiming[] {
  const tasks = state.doc != null ? taskCount(state.doc) : 0
  const ledger = state.passes
  if (ledger == null || tasks === 0) return []
  const firstClaim = new Map<number, number>()
  const lastResult = new Map<number, number>()
  const claimed = (task: number, at: number): void => {
    const pass = Math.floor(task / tasks)
    firstClaim.set(pass, Math.min(firstClaim.get(pass) ?? Infinity, at))
  }
  for (const { fact } of state.allFacts()) {
    if (fact.t === 'claim') for (const task of fact.tasks) claimed(task, fact.at)
    if (fact.t !== 'result') continue
    for (const task of fact.claim?.tasks ?? []) claimed(task, fact.at)
    for (const r of fact.results) {
      const pass = Math.floor(r.task / tasks)
      lastResult.set(pass, Math.max(lastResult.get(pass) ?? 0, fact.at))
    }
  }
  return ledger.accepted().map(({ fact }) => {
    const timing: PassTiming = { pass: fact.pass, at: fact.at, firstClaimAt: firstClaim.get(fact.pass) ?? 0, lastResultAt: lastResult.get(fact.pass) ?? 0 }
    if (fact.loss != null) timing.loss = fact.loss
    if (fact.failure != null) timing.failure = fact.failure
    return timing
  })
}

/** Every fact of `state`'s job this peer holds, in no order (see FactRecord). */
export function factRecords (state: JobState): FactRecord[] {
  return state.allFacts().map(({ fact, envelope }) => {
    let kind: string = fact.t
    if (fact.t === 'result') kind += fact.claim != null ? '+claim' : fact.renew != null ? '+renew' : ''
    return [kind, 'at' in fact ? fact.at : 0, envelope.length]
  })
}
