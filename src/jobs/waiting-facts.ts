/**
 * jobs/waiting-facts: the `pass` and iterative `done` facts a peer holds
 * until they can be checked (pass-check.ts): the pass's results are not all
 * here, or the pass before it is not accepted. Each waits at most
 * PASS_FACT_WAIT_MS, MAX_WAITING_PASS_FACTS per job, and is checked again on
 * every change of its job and once the oldest may have timed out; a fact
 * dropped unchecked is forgotten, so a later sync brings it again.
 *
 * Never applies a fact itself: a fact that passes its check goes to `apply`.
 */
import type { Logger } from '@libp2p/interface'
import { MAX_WAITING_PASS_FACTS, PASS_FACT_WAIT_MS } from './constants.ts'
import type { SignedFact } from './facts.ts'
import type { PassChecker } from './pass-check.ts'
import type { JobState } from './state.ts'

/** A fact held until it can be checked. */
interface WaitingFact { sf: SignedFact, persist: boolean, until: number }

export interface WaitingFactsComponents {
  checker: Pick<PassChecker, 'verdict'>
  /** Applies a fact that passed its check (`persist`: as it was accepted). */
  apply: (state: JobState, sf: SignedFact, persist: boolean) => void
  /** Told of each fact held, and of each one let go (held or not, the store tells it known). */
  held: (factId: string, held: boolean) => void
  /** The job layer's counts (JobStats): a fact refused by its check counts here. */
  stats: { factsRejected: number }
  log: Logger
}

export class WaitingFacts {
  private readonly components: WaitingFactsComponents
  /** Per job, the facts that wait to be checked, oldest first. */
  private readonly waiting = new Map<string, Map<string, WaitingFact>>()
  /** Jobs whose waiting facts are being checked again, and those to check once more after. */
  private readonly rechecking = new Set<string>()
  private readonly recheckAgain = new Set<string>()
  /** Per job with waiting facts, the timer that checks them once the oldest may have timed out. */
  private readonly sweeps = new Map<string, ReturnType<typeof setTimeout>>()

  constructor (components: WaitingFactsComponents) {
    this.components = components
  }

  /** Whether fact `id` of job `job` waits here. */
  has (job: string, id: string): boolean {
    return this.waiting.get(job)?.has(id) === true
  }

  /** Whether any fact of job `job` waits, or is being checked. */
  busy (job: string): boolean {
    return this.waiting.has(job) || this.rechecking.has(job)
  }

  /** Holds a fact until it can be checked. */
  hold (state: JobState, sf: SignedFact, persist: boolean): void {
    let held = this.waiting.get(state.id)
    if (held == null) {
      held = new Map()
      this.waiting.set(state.id, held)
      this.sweepLater(state)
    }
    held.set(sf.id, { sf, persist, until: Date.now() + PASS_FACT_WAIT_MS })
    this.components.held(sf.id, true)
    if (held.size > MAX_WAITING_PASS_FACTS) this.drop(state.id, held.keys().next().value as string)
  }

  /** Job `state` changed: its waiting facts are checked again. */
  changed (state: JobState): void {
    if (this.waiting.has(state.id)) void this.recheck(state)
  }

  /** Lets go of every fact of job `job` (it was collected). */
  forget (job: string): void {
    for (const id of this.waiting.get(job)?.keys() ?? []) this.components.held(id, false)
    this.waiting.delete(job)
    clearTimeout(this.sweeps.get(job))
    this.sweeps.delete(job)
  }

  /** Stops checking (at stop). */
  stop (): void {
    for (const timer of this.sweeps.values()) clearTimeout(timer)
    this.sweeps.clear()
  }

  /** Forgets a waiting fact: a later sync offers it again. */
  private drop (job: string, id: string): void {
    const held = this.waiting.get(job)
    held?.delete(id)
    this.components.held(id, false)
    if (held?.size === 0) this.waiting.delete(job)
  }

  /** Checks a job's waiting facts again, one check of a job at a time (a change during one asks for another after it). */
  private async recheck (state: JobState): Promise<void> {
    const job = state.id
    if (this.rechecking.has(job)) { this.recheckAgain.add(job); return }
    this.rechecking.add(job)
    try {
      do {
        this.recheckAgain.delete(job)
        for (const [id, w] of [...(this.waiting.get(job) ?? [])]) {
          if (Date.now() > w.until) { this.drop(job, id); continue }
          const verdict = await this.components.checker.verdict(state, w.sf).catch((err: unknown) => ({ verdict: 'wait' as const, reason: String(err) }))
          if (verdict.verdict === 'wait') continue
          this.drop(job, id)
          if (verdict.verdict === 'accept') {
            this.components.apply(state, w.sf, w.persist)
          } else {
            this.components.stats.factsRejected++
            this.components.log('refused the %s fact %s of %s: %s', w.sf.fact.t, id, w.sf.from, verdict.reason)
          }
        }
      } while (this.recheckAgain.has(job))
    } finally {
      this.rechecking.delete(job)
    }
    if (this.waiting.has(job)) this.sweepLater(state)
  }

  /** Checks a job's waiting facts again once the oldest may have timed out: a job that gets no further fact still drops them. */
  private sweepLater (state: JobState): void {
    if (this.sweeps.has(state.id)) return
    const timer = setTimeout(() => {
      this.sweeps.delete(state.id)
      void this.recheck(state)
    }, PASS_FACT_WAIT_MS + 1)
    timer.unref()
    this.sweeps.set(state.id, timer)
  }
}
