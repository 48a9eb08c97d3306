/**
 * scheduler/scheduler: the pull loop of one peer, wiring the pieces of this
 * folder. A round (on a change of any job, at most every
 * MIN_SCHEDULER_ROUND_GAP_MS, and every SCHEDULER_ROUND_MS) drops finished
 * jobs, aborts runs no longer needed, and once the peer's queue runs low
 * claims a batch of the open tasks it may claim (claim-rules.ts), best first
 * (choose.ts), in one fact per job that also carries its finished results
 * (result-batcher.ts); the run queue runs them (run-queue.ts); a timer of its
 * own renews the leases (leases.ts); a run's outcome is a result to batch,
 * or a failure to publish, or a miss that says nothing of the task.
 *
 * Every fact costs each peer of the swarm a receipt and a signature check,
 * so the facts per task are kept few: one claim, one result and at most one
 * renewal per batch; a peer's last result fact of an iterative job's pass
 * claims its designated tasks of the next pass (nextPassClaim), which wait
 * parked until that pass opens, so a round costs it one fact. Owns claiming and execution on this peer. Never decides
 * a winner itself: the job state fold does, identically on every peer.
 */
import type { Histogram, Metrics, PeerId, Startable } from '@libp2p/interface'
import { NotFoundError } from '../data/index.ts'
import { MAX_REASON_CHARS, MAX_TASKS_PER_FACT, isIterative, passCount, passOf, taskCount, type JobDocument, type JobState } from '../jobs/index.ts'
import { detectCapabilities, fits, type LocalCapabilities } from './capabilities.ts'
import { chooseTasks, type Candidate } from './choose.ts'
import { ClaimRules, claimAhead, claimCapacity, claimLimit } from './claim-rules.ts'
import {
  INITIAL_TASK_MS, MAX_RECENT_FAILURES, MIN_SCHEDULER_ROUND_GAP_MS, RENEW_CHECK_MS, SCHEDULER_ROUND_MS, STEAL_RANK_STEP_MS, TASK_TIME_WEIGHT
} from './constants.ts'
import type { RunOptions, TaskRunner } from './executor.ts'
import type { JobSource, SchedulerData } from './job-source.ts'
import { Leases } from './leases.ts'
import { LocalInputs } from './local-inputs.ts'
import { RankTables } from './rank-table.ts'
import { ResultBatcher, type FinishedResult, type TaskLease } from './result-batcher.ts'
import { RunQueue } from './run-queue.ts'
import { registerSchedulerMetrics, type SchedulerMetrics } from './scheduler-metrics.ts'

export interface SchedulerComponents {
  /** This peer: its ranks, its designated tasks, whether a job avoids it. */
  peerId: PeerId
  /** The job layer: the states to pull from, where this peer's facts go. */
  jobs: JobSource
  /** What runs this peer's tasks. */
  executor: TaskRunner
  /** The data layer: inputs held here, results stored, where blocks are placed. */
  data: SchedulerData
  /** Where the scheduler registers its `edgeswarm_scheduler_*` metrics; none: no metrics. */
  metrics?: Metrics
}

export interface SchedulerInit {
  /** What this peer can do: slots (tasks run at once), free memory, gpu, labels. @default detectCapabilities() */
  capabilities?: LocalCapabilities
  /**
   * The stagger of stealing and of reopened tasks per rendezvous rank, in
   * whole ms (see STEAL_RANK_STEP_MS); longer than gossip takes to reach
   * every peer. 0: no stagger. @default STEAL_RANK_STEP_MS
   */
  stealRankStepMs?: number
}

export class Scheduler implements Startable {
  readonly capabilities: LocalCapabilities
  readonly metrics: SchedulerMetrics = { claimed: 0, executed: 0, failed: 0, duplicates: 0, running: 0, leasesExpired: 0 }
  /** Reasons of this peer's latest failed attempts (at most MAX_RECENT_FAILURES, oldest first): what the counters do not say. */
  readonly recentFailures: string[] = []
  private readonly jobs: JobSource
  private readonly executor: TaskRunner
  private readonly me: string
  private readonly leases = new Leases()
  private readonly rules: ClaimRules
  private readonly ranks: RankTables
  private readonly local: LocalInputs
  private readonly runs: RunQueue
  private readonly results: ResultBatcher
  /** Jobs seen done or failed: never scanned again. */
  private readonly finished = new Set<string>()
  /** Jobs with a round scheduled for when this peer may start stealing in them. */
  private readonly stealTimers = new Set<string>()
  /** Moving average of this peer's task run time, without the wait for input: what claims are sized by. */
  private avgTaskMs = INITIAL_TASK_MS
  private lastRound = 0
  private roundRunning = false
  private roundPending = false
  /** A round was asked for while one ran: it runs once that one ends, not at the next timer. */
  private roundAgain = false
  private running = false
  private roundTimer?: ReturnType<typeof setInterval>
  private renewTimer?: ReturnType<typeof setInterval>
  private readonly onChange = (): void => { this.kick() }
  private readonly leaseOf = (job: string): number | undefined => this.jobs.state(job)?.doc?.leaseMs
  /** The run time of each task, when the node has metrics. */
  private readonly runSeconds?: Histogram

  constructor (components: SchedulerComponents, init: SchedulerInit = {}) {
    const stealRankStepMs = init.stealRankStepMs ?? STEAL_RANK_STEP_MS
    if (!Number.isSafeInteger(stealRankStepMs) || stealRankStepMs < 0) {
      throw new RangeError(`stealRankStepMs must be a whole number of ms >= 0, got ${String(init.stealRankStepMs)}`)
    }
    this.jobs = components.jobs
    this.executor = components.executor
    this.me = components.peerId.toString()
    this.capabilities = init.capabilities ?? detectCapabilities()
    this.rules = new ClaimRules(this.me, stealRankStepMs, this.leases)
    this.ranks = new RankTables(this.me, components.data.replicas)
    this.local = new LocalInputs(components.data, () => { this.kick() })
    this.runs = new RunQueue({
      jobs: this.jobs,
      executor: this.executor,
      leases: this.leases,
      metrics: this.metrics,
      run: (state, task, key, signal) => { void this.runTask(state, task, key, signal) }
    }, { me: this.me, slots: this.capabilities.slots })
    this.results = new ResultBatcher({
      jobs: this.jobs,
      data: components.data,
      leases: this.leases,
      holdsWork: job => this.runs.holdsWork(job),
      leaseOf: this.leaseOf,
      nextPassClaim: (job, batch) => this.nextPassClaim(job, batch),
      claimedNextPass: (job, tasks) => {
        const at = Date.now()
        this.metrics.claimed += tasks.length
        for (const task of tasks) { this.runs.park(job, task); this.leases.take(`${job}/${task}`, at) }
      }
    })
    if (components.metrics != null) this.runSeconds = registerSchedulerMetrics(components.metrics, { metrics: this.metrics, slots: this.capabilities.slots, held: () => this.runs.size })
  }

  /** Tasks claimed here and not finished: queued or running. */
  get held (): number {
    return this.runs.size
  }

  start (): void {
    this.running = true
    this.runs.start()
    this.results.start()
    this.jobs.addEventListener('change', this.onChange)
    this.roundTimer = setInterval(() => { void this.round() }, SCHEDULER_ROUND_MS)
    this.roundTimer.unref()
    this.renewTimer = setInterval(() => { this.renewDue() }, RENEW_CHECK_MS)
    this.renewTimer.unref()
  }

  stop (): void {
    this.running = false
    clearInterval(this.roundTimer)
    clearInterval(this.renewTimer)
    this.jobs.removeEventListener('change', this.onChange)
    this.runs.stop()
    this.results.stop()
  }

  /** Schedules a round soon: at most one per MIN_SCHEDULER_ROUND_GAP_MS however many facts arrive. */
  private kick (): void {
    if (this.roundPending || !this.running) return
    this.roundPending = true
    const wait = Math.max(0, MIN_SCHEDULER_ROUND_GAP_MS - (Date.now() - this.lastRound))
    setTimeout(() => { this.roundPending = false; void this.round() }, wait).unref()
  }

  /** One round: drop finished jobs, abort runs no longer needed, claim, run. */
  private async round (): Promise<void> {
    if (!this.running) return
    if (this.roundRunning) { this.roundAgain = true; return }
    this.roundRunning = true
    this.lastRound = Date.now()
    try {
      const now = Date.now()
      const slots = this.capabilities.slots
      const candidates: Candidate[] = []
      const alone = this.jobs.jobPeers() === 0
      this.rules.expire(now)
      const capacity = claimCapacity(slots, this.runs.size, this.avgTaskMs)
      const jobs = [...this.jobs.jobs()]
      // a finished job out of the job layer's memory is no longer listed: its mark goes with it
      if (this.finished.size > jobs.length) this.forgetFinished(jobs)
      for (const state of jobs) {
        const doc = state.doc
        if (doc == null || this.finished.has(state.id)) continue
        if (state.failed || state.doneResult() != null) this.finish(state.id)
        if (state.failed || state.complete) {
          this.runs.abortJob(state.id)
          if (state.failed) this.results.drop(state.id)
          continue
        }
        this.runs.abortAccepted(state, now)
        if (capacity <= 0) continue
        // a peer untrusted from earlier jobs is never granted a task here: claiming would only add facts
        if (state.avoids(this.me) || !this.executor.canRun(doc) || !fits(doc.requirements, this.capabilities)) continue
        const local = this.local.of(state)
        if (local == null) continue
        const stealingFor = this.rules.stealingFor(state.id, now, state.openPass)
        this.rules.addClaimable(state, this.ranks.of(state.id, doc, this.jobs.livePeerIds()), local, stealingFor, alone, now, candidates)
        if (stealingFor < 0) this.roundWhenStealing(state.id, -stealingFor)
      }
      const limit = claimLimit(candidates, this.jobs.livePeerIds().length, slots, capacity)
      const chosen = chooseTasks(candidates, this.me, limit)
      if (chosen.length > 0) await this.claim(chosen)
      this.runs.pump()
    } finally {
      this.roundRunning = false
      if (this.roundAgain) { this.roundAgain = false; this.kick() }
    }
  }

  /** A job is done or failed: it is never scanned again, and its per-job state goes. */
  private finish (job: string): void {
    this.finished.add(job)
    this.ranks.forget(job)
    this.rules.forget(job)
    this.local.forget(job)
  }

  /** Drops the finished marks of jobs no longer listed (finished jobs leave the job layer's memory once idle). */
  private forgetFinished (jobs: readonly JobState[]): void {
    const listed = new Set(jobs.map(s => s.id))
    for (const id of this.finished) if (!listed.has(id)) this.finished.delete(id)
  }

  /** Runs a round once this peer may steal in `job`, `inMs` from now (one timer per job). */
  private roundWhenStealing (job: string, inMs: number): void {
    if (this.stealTimers.has(job)) return
    this.stealTimers.add(job)
    setTimeout(() => { this.stealTimers.delete(job); this.kick() }, inMs).unref()
  }

  /**
   * Claims `chosen` and queues them: per job, one fact per MAX_TASKS_PER_FACT
   * tasks, the job's finished results carried by it when there are any (one
   * fact, not two).
   */
  private async claim (chosen: Candidate[]): Promise<void> {
    const byJob = new Map<string, number[]>()
    for (const c of chosen) {
      const tasks = byJob.get(c.job)
      if (tasks == null) byJob.set(c.job, [c.task])
      else tasks.push(c.task)
    }
    for (const [job, tasks] of byJob) {
      const lease = this.leaseOf(job)
      if (lease == null) continue
      for (let i = 0; i < tasks.length; i += MAX_TASKS_PER_FACT) {
        const slice = tasks.slice(i, i + MAX_TASKS_PER_FACT)
        const finished = this.results.takeInline(job)
        try {
          if (finished.length > 0) await this.results.publish(job, finished, { tasks: slice, lease })
          else await this.jobs.publish({ t: 'claim', job, tasks: slice, at: Date.now(), lease })
        } catch {
          // refused: the job ended (canceled, or its deadline passed) since the round began
          break
        }
        this.metrics.claimed += slice.length
        const at = Date.now()
        for (const task of slice) { this.runs.enqueue(job, task); this.leases.take(`${job}/${task}`, at) }
      }
    }
  }

  /**
   * The claim this peer's last finished results of `batch`'s pass carry for the next pass of
   * an iterative job: the next pass's tasks it is designated for (what it would claim first
   * when that pass opens), as many as its claim size allows. None when the batch is not of
   * the open pass, the peer holds other work of the job, the job has no next pass or is
   * over, or the peer sees nobody on the jobs topic (it claims only what it holds then).
   */
  private nextPassClaim (job: string, batch: readonly FinishedResult[]): TaskLease | undefined {
    const state = this.jobs.state(job)
    const doc = state?.doc
    if (state == null || doc == null || !isIterative(doc) || batch.length === 0) return undefined
    const tasks = taskCount(doc)
    const open = state.openPass
    if (passOf(batch[batch.length - 1].task, tasks) !== open || open + 1 >= passCount(doc)) return undefined
    if (state.failed || state.complete || this.runs.holdsWork(job) || this.jobs.jobPeers() === 0) return undefined
    if (state.avoids(this.me) || !this.executor.canRun(doc) || !fits(doc.requirements, this.capabilities)) return undefined
    const lease = this.leaseOf(job)
    if (lease == null) return undefined
    const { designated } = this.ranks.of(job, doc, this.jobs.livePeerIds())
    const limit = Math.min(MAX_TASKS_PER_FACT, claimAhead(this.capabilities.slots, this.avgTaskMs))
    const now = Date.now()
    const claim: number[] = []
    for (let s = 0; s < tasks && claim.length < limit; s++) {
      if (designated[s] !== 1) continue
      const k = (open + 1) * tasks + s
      if (this.leases.has(`${job}/${k}`) || !state.hasOpenSlot(k, now) || state.involves(k, this.me, now)) continue
      claim.push(k)
    }
    return claim.length > 0 ? { tasks: claim, lease } : undefined
  }

  /**
   * Runs one task and handles its outcome: a result goes to the batcher; a
   * miss of its input that says nothing of the task (this peer sees nobody
   * on the jobs topic, or its search was not conclusive) leaves the task
   * alone here for a while; any other error is a failure, published, and the
   * task is left to other peers first (see ClaimRules.failed). Then the
   * task's slot goes to the next queued task.
   */
  private async runTask (state: JobState, task: number, key: string, signal: AbortSignal): Promise<void> {
    const started = Date.now()
    const options: RunOptions = { signal, inputMs: 0, job: state.id }
    try {
      const bytes = await this.executor.run(state.doc as JobDocument, task, options)
      if (signal.aborted) { this.leases.release(key); return }
      this.metrics.executed++
      // the run's own time, without its wait for input: claims are sized by the work
      const ranMs = Math.max(0, Date.now() - started - (options.inputMs ?? 0))
      this.avgTaskMs = this.avgTaskMs * (1 - TASK_TIME_WEIGHT) + ranMs * TASK_TIME_WEIGHT
      this.runSeconds?.observe(ranMs / 1000)
      if (state.task(task).status === 'done') this.metrics.duplicates++
      this.results.add(state.id, task, bytes)
    } catch (err) {
      this.leases.release(key)
      if (signal.aborted || !this.running) return
      if (err instanceof NotFoundError && (this.jobs.jobPeers() === 0 || !err.searched)) {
        // its lease lapses; the task is not failed
        this.rules.missedInput(key, Date.now())
        return
      }
      this.metrics.failed++
      const reason = (err instanceof Error ? `${err.name}: ${err.message}` : String(err)).slice(0, MAX_REASON_CHARS)
      this.recentFailures.push(reason)
      if (this.recentFailures.length > MAX_RECENT_FAILURES) this.recentFailures.shift()
      this.rules.failed(key, Date.now())
      await this.jobs.publish({ t: 'fail', job: state.id, task, at: Date.now(), reason }).catch(() => {})
    } finally {
      this.runs.ended(key, signal)
      this.kick()
    }
  }

  /**
   * The renewal timer: renews this peer's leases of every job where one is
   * due, all of the job's held tasks in one fact (per MAX_TASKS_PER_FACT),
   * tasks still queued included. Finished results waiting for a claim go out
   * now instead, as a result fact that renews the rest: one fact either way.
   */
  private renewDue (): void {
    if (!this.running || this.leases.size === 0) return
    const now = Date.now()
    for (const [job, { tasks, due, lapsed }] of this.leases.byJob(now, this.leaseOf)) {
      if (!due) continue
      this.metrics.leasesExpired += lapsed
      const lease = this.leaseOf(job) as number
      this.leases.renewed(job, tasks, now)
      const finished = tasks.length <= MAX_TASKS_PER_FACT ? this.results.takeInline(job) : []
      if (finished.length > 0) {
        void this.results.publish(job, finished).catch(() => { void this.results.flush(job) })
        continue
      }
      for (let i = 0; i < tasks.length; i += MAX_TASKS_PER_FACT) {
        void this.jobs.publish({ t: 'renew', job, tasks: tasks.slice(i, i + MAX_TASKS_PER_FACT), at: now, lease }).catch(() => {})
      }
    }
  }
}
