/**
 * scheduler/run-queue: the tasks this peer claimed, waiting for a slot, and
 * the runs in progress. It starts queued tasks while slots are free, reads
 * the inputs of the next ones ahead (PREFETCH_PER_SLOT per slot), and aborts
 * runs whose task or job no longer needs them.
 *
 * A claimed task runs unless it is settled (accepted or failed), even when
 * its claim lost a race in this peer's view: views differ for a while on a
 * loaded swarm, and if every claimant dropped the task for a winner that had
 * lost in its own view, nobody would run it. Its result counts if the task
 * has a free slot when it arrives. Never publishes anything: the scheduler
 * handles a run's outcome.
 *
 * A task of an iterative job's next pass, claimed before that pass opens
 * (see scheduler.ts), is parked: it is held (its lease is renewed) but not
 * queued, counted as held work or read ahead until its pass opens, because
 * it cannot run before the state it runs at is accepted.
 */
import { passOf, shardsOfTaskIndex, taskCount, type JobState } from '../jobs/index.ts'
import { MAX_PREFETCHED_SHARDS, PREFETCH_PER_SLOT } from './constants.ts'
import type { TaskRunner } from './executor.ts'
import type { JobSource } from './job-source.ts'
import type { Leases } from './leases.ts'
import type { SchedulerMetrics } from './scheduler-metrics.ts'

export interface RunQueueComponents {
  /** Where a queued task's job state is looked up when its turn comes. */
  jobs: Pick<JobSource, 'state'>
  /** Reads inputs ahead. */
  executor: Pick<TaskRunner, 'prefetch' | 'clearPrefetched'>
  /** A task dropped or aborted here is released. */
  leases: Pick<Leases, 'release'>
  /** Counters kept here: `running`, and `duplicates` (runs aborted because their task or job was settled meanwhile). */
  metrics: SchedulerMetrics
  /**
   * Starts the run of task `task` of `state` (`key`: its `job/task` key;
   * `signal` aborts it). Once the run's outcome is handled, the runner calls
   * `ended(key, signal)`, and the queue starts the next task.
   */
  run: (state: JobState, task: number, key: string, signal: AbortSignal) => void
}

export interface RunQueueInit {
  /** This peer's id: a job that avoids it runs nothing here. */
  me: string
  /** Tasks run at once. */
  slots: number
}

interface Queued { job: string, task: number }
interface Running { job: string, task: number, controller: AbortController }

export class RunQueue {
  private readonly components: RunQueueComponents
  private readonly me: string
  private readonly slots: number
  private readonly queue: Queued[] = []
  /** Tasks claimed for a pass not open yet, in claim order: queued when it opens. */
  private readonly parked: Queued[] = []
  private readonly active = new Map<string, Running>()
  /** `job/task` keys of queued tasks whose inputs are being read ahead. */
  private readonly prefetched = new Set<string>()
  private running = false

  constructor (components: RunQueueComponents, init: RunQueueInit) {
    this.components = components
    this.me = init.me
    this.slots = init.slots
  }

  /** Tasks held here: queued or running. */
  get size (): number {
    return this.queue.length + this.active.size
  }

  start (): void {
    this.running = true
  }

  /** Aborts every run and empties the queue. */
  stop (): void {
    this.running = false
    for (const a of this.active.values()) a.controller.abort(new Error('peer stopping'))
    this.queue.length = 0
    this.parked.length = 0
    this.prefetched.clear()
    this.components.executor.clearPrefetched()
  }

  /** Queues a task this peer claimed. */
  enqueue (job: string, task: number): void {
    this.queue.push({ job, task })
  }

  /** Holds a task of an iterative job's pass that is not open yet: queued once it opens (see unpark). */
  park (job: string, task: number): void {
    this.parked.push({ job, task })
  }

  /** Whether this peer has tasks of `job` queued or running (parked ones are not work yet). */
  holdsWork (job: string): boolean {
    for (const a of this.active.values()) if (a.job === job) return true
    return this.queue.some(q => q.job === job)
  }

  /**
   * Starts queued tasks while slots are free, in claim order; drops those
   * already settled, and every task of a job that avoids this peer; then
   * reads ahead the inputs of the next ones.
   */
  pump (): void {
    const { jobs, leases, metrics } = this.components
    if (this.parked.length > 0) this.unpark()
    while (this.running && this.active.size < this.slots && this.queue.length > 0) {
      const next = this.queue.shift() as Queued
      const key = `${next.job}/${next.task}`
      this.prefetched.delete(key)
      const state = jobs.state(next.job)
      if (state == null || settled(state, next.task) || state.avoids(this.me)) { leases.release(key); continue }
      this.runOne(state, next.task, key)
    }
    metrics.running = this.active.size
    this.prefetch()
  }

  /** Aborts every run of `job` and drops its queued tasks (the job is complete or failed). */
  abortJob (job: string): void {
    const { leases, metrics } = this.components
    for (const [key, a] of this.active) {
      if (a.job === job) { a.controller.abort(new Error('job finished')); this.active.delete(key); leases.release(key); metrics.duplicates++ }
    }
    for (let i = this.queue.length - 1; i >= 0; i--) {
      if (this.queue[i].job === job) {
        const key = `${job}/${this.queue[i].task}`
        leases.release(key)
        this.prefetched.delete(key)
        this.queue.splice(i, 1)
      }
    }
    for (let i = this.parked.length - 1; i >= 0; i--) {
      if (this.parked[i].job === job) {
        leases.release(`${job}/${this.parked[i].task}`)
        this.parked.splice(i, 1)
      }
    }
  }

  /** Queues the parked tasks whose pass is open now (or over: pump drops settled ones); drops those of jobs no longer known. */
  private unpark (): void {
    let kept = 0
    for (const p of this.parked) {
      const state = this.components.jobs.state(p.job)
      const doc = state?.doc
      if (state == null || doc == null) { this.components.leases.release(`${p.job}/${p.task}`); continue }
      if (passOf(p.task, taskCount(doc)) <= state.openPass) this.queue.push(p)
      else this.parked[kept++] = p
    }
    this.parked.length = kept
  }

  /** Aborts the runs of tasks of `state` accepted meanwhile; a lost claim race alone does not stop a run. */
  abortAccepted (state: JobState, now: number): void {
    const { leases, metrics } = this.components
    for (const [key, a] of this.active) {
      if (a.job !== state.id) continue
      if (state.task(a.task, now).status === 'done') {
        a.controller.abort(new Error('task accepted already'))
        this.active.delete(key)
        leases.release(key)
        metrics.duplicates++
      }
    }
  }

  /** The run of task `key` started with `signal` is over, its outcome handled: its slot is free. */
  ended (key: string, signal: AbortSignal): void {
    if (this.active.get(key)?.controller.signal === signal) this.active.delete(key)
    this.pump()
  }

  private runOne (state: JobState, task: number, key: string): void {
    const controller = new AbortController()
    this.active.set(key, { job: state.id, task, controller })
    this.components.run(state, task, key, controller.signal)
  }

  /**
   * Reads ahead the inputs of the next queued tasks: PREFETCH_PER_SLOT per slot, never more
   * shards than the executor keeps (a task reads its own shards and the next one), so the
   * next tasks' shards are not dropped for later ones'.
   */
  private prefetch (): void {
    const { jobs, executor } = this.components
    const ahead = Math.min(this.queue.length, this.slots * PREFETCH_PER_SLOT)
    let shards = 0
    for (let k = 0; k < ahead; k++) {
      const { job, task } = this.queue[k]
      const doc = jobs.state(job)?.doc
      if (doc == null) continue
      shards += shardsOfTaskIndex(doc, task).count + 1
      if (shards > MAX_PREFETCHED_SHARDS) break
      const key = `${job}/${task}`
      if (this.prefetched.has(key)) continue
      this.prefetched.add(key)
      executor.prefetch(doc, task)
    }
  }
}

/** Whether a task needs no more runs: accepted, or failed for good. */
function settled (state: JobState, task: number): boolean {
  const status = state.task(task).status
  return status === 'done' || status === 'failed'
}
