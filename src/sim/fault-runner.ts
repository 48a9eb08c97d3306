/**
 * sim/fault-runner: carries out the seeded fault plan (faults.ts) while the
 * jobs run. Kills fire from job progress, restarts and churn from the clock;
 * all run one at a time, in the order they fire, on one chain, so no fault
 * races another. A kill with child processes is a SIGKILL of the device's own
 * process; in one process it drops the device's connections and stops it.
 *
 * Owns the faults' timers, their record (what happened when, at what
 * progress) and their counts. A fault that cannot be carried out is kept as
 * an error for the report, never thrown into the job phase.
 */
import { CRASH_SNAPSHOT_TIMEOUT_MS } from './constants.ts'
import type { FaultPlan } from './faults.ts'
import type { FaultKind, FaultRecord, FaultSummary } from './samples.ts'
import type { Device, Swarm } from './swarm.ts'

/** What the faults of a run did, for the report. */
function asError (err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err))
}

export class FaultRunner {
  private readonly swarm: Swarm
  private readonly plan: FaultPlan
  /** Copies of every shard: departures never leave `replicas` original devices away at once. */
  private readonly replicas: number
  private readonly faults: FaultRecord[] = []
  private readonly errors: Error[] = []
  /** Planned faults not yet fired, with how to cancel each. */
  private readonly timers = new Map<ReturnType<typeof setTimeout>, () => void>()
  /** Faults run one at a time, in the order they fire. */
  private chain: Promise<void> = Promise.resolve()
  /** Faults fired and the restarts and returns they planned, awaited before the phase ends. */
  private readonly pending: Array<Promise<void>> = []
  private readonly churnEvents: Array<{ cancel: () => void }> = []
  private readonly killsLeft: FaultPlan['kills']
  private startedAt = 0
  private doneFraction = 0
  private jobsFinished = false
  private killed = 0
  private restarted = 0
  private readonly churn = { left: 0, returned: 0, joined: 0, skipped: 0 }

  constructor (swarm: Swarm, plan: FaultPlan, replicas: number) {
    this.swarm = swarm
    this.plan = plan
    this.replicas = replicas
    this.killsLeft = [...plan.kills]
  }

  /** The job phase started at `at` (performance.now()): fault times count from there. */
  start (at: number): void {
    this.startedAt = at
  }

  /** The fraction of all tasks done now, recorded with every fault. */
  progress (doneFraction: number): void {
    this.doneFraction = doneFraction
  }

  /** Plans the churn events, from now (once every job is submitted), unless the jobs are already over. */
  armChurn (): void {
    if (this.jobsFinished) return
    this.churnEvents.push(...this.plan.churn.map(ev => this.later(ev.atMs, async () => { await this.runChurn(ev.kind, ev.awayMs) })))
  }

  /**
   * Fires the kills due at the current progress (all that are left once the
   * jobs are `finished`). The submitter is killed only once it has submitted
   * every job: no peer is special, but a submit cut short is a lost job, not
   * a fault the swarm can recover from.
   */
  fireDueKills (finished: boolean, submitting: boolean): void {
    for (const k of [...this.killsLeft]) {
      if (this.doneFraction < k.atFraction && !finished) break
      if (submitting && k.peer === this.plan.submitter) continue
      this.killsLeft.splice(this.killsLeft.indexOf(k), 1)
      this.pending.push(this.enqueue(async () => { await this.kill(k.peer) }))
    }
  }

  /** The jobs are over: no churn event is planned any more. */
  endJobs (): void {
    this.jobsFinished = true
  }

  /** Drops the churn events not yet due and waits for every fault fired, and the restarts and returns they planned. */
  async settle (): Promise<void> {
    for (const ev of this.churnEvents) ev.cancel()
    await this.chain
    await Promise.all(this.pending)
    await this.chain
  }

  /** Teardown: cancels every planned fault and waits for the one running, if any. */
  async stop (): Promise<void> {
    for (const cancel of [...this.timers.values()]) cancel()
    this.jobsFinished = true
    await this.chain.catch(() => {})
  }

  summary (): FaultSummary {
    return {
      faults: this.faults,
      killed: this.killed,
      restarted: this.restarted,
      churn: { ...this.churn },
      submitterKilled: this.plan.kills.some(k => k.peer === this.plan.submitter) && this.faults.some(f => f.kind === 'kill' && f.peer === this.plan.submitter),
      errors: this.errors
    }
  }

  /** Kills and restarts carried out so far, for a progress line. */
  counts (): { killed: number, restarted: number } {
    return { killed: this.killed, restarted: this.restarted }
  }

  /** Records a fault as of now: its time after the first submit and the job progress then. */
  private record (kind: FaultKind, peer: number): void {
    this.faults.push({ atMs: Math.round(performance.now() - this.startedAt), doneFraction: this.doneFraction, kind, peer })
  }

  /** Queues a fault on the chain; its error is kept for the report. */
  private enqueue (action: () => Promise<void>): Promise<void> {
    const p = this.chain.then(action).catch((err: unknown) => { this.errors.push(asError(err)) })
    this.chain = p
    return p
  }

  /**
   * Runs `action` (through the chain) after `ms`. The promise resolves when
   * it ran, or at once when cancelled (teardown, or a churn event that was
   * not due before the jobs finished).
   */
  private later (ms: number, action: () => Promise<void>): { done: Promise<void>, cancel: () => void } {
    let cancel = (): void => {}
    const done = new Promise<void>(resolve => {
      const t = setTimeout(() => {
        this.timers.delete(t)
        void this.enqueue(action).then(resolve)
      }, ms)
      cancel = () => { if (this.timers.delete(t)) { clearTimeout(t); resolve() } }
      this.timers.set(t, cancel)
    })
    return { done, cancel }
  }

  private async kill (peer: number): Promise<void> {
    const d = this.swarm.device(peer)
    if (d == null || d.state !== 'live') return
    const solo = this.swarm.soloHostOf(peer)
    let stopped: Promise<void> = Promise.resolve()
    if (solo != null) {
      if (!await this.swarm.crash(d, solo)) {
        this.errors.push(new Error(`device ${d.index}: its counters were not read within ${CRASH_SNAPSHOT_TIMEOUT_MS} ms before its kill, so what it ran is not counted`))
      }
      this.record('kill', peer)
    } else {
      // an in-process stop cuts the device's connections first, and the swarm sees nothing of the
      // rest: the kill counts from its start, and the next fault does not wait for it to end
      this.record('kill', peer)
      // off the chain, so its failure is kept here for the report, as the chain's are
      stopped = this.swarm.stopDevice(d).catch((err: unknown) => { this.errors.push(asError(err)) })
      this.pending.push(stopped)
    }
    this.killed++
    const restart = this.plan.restarts.find(r => r.peer === peer)
    if (restart != null) {
      this.pending.push(this.later(restart.delayMs, async () => {
        await stopped
        // a crashed device comes back in a new process, from the repo the crash left on disk
        if (solo != null) await this.swarm.startSoloHost(peer)
        await this.swarm.startDevices([peer], false)
        d.returned = true
        this.restarted++
        this.record('restart', peer)
      }).done)
    }
  }

  private async runChurn (kind: 'leave' | 'join', awayMs: number): Promise<void> {
    if (this.jobsFinished) return
    if (kind === 'join') {
      const index = this.swarm.joinerIndex()
      await this.swarm.startDevices([index], true)
      this.churn.joined++
      this.record('join', index)
      return
    }
    const candidate = this.plan.churnOrder
      .map(i => this.swarm.device(i))
      .find((d): d is Device => d != null && d.state === 'live' && !this.plan.kills.some(k => k.peer === d.index))
    if (candidate == null || this.swarm.away() + 1 >= this.replicas || this.swarm.live().length <= 2) {
      this.churn.skipped++
      this.record('skip-leave', candidate?.index ?? -1)
      return
    }
    await this.swarm.stopDevice(candidate)
    this.churn.left++
    this.record('leave', candidate.index)
    this.pending.push(this.later(awayMs, async () => {
      await this.swarm.startDevices([candidate.index], false)
      candidate.returned = true
      this.churn.returned++
      this.record('return', candidate.index)
    }).done)
  }
}
