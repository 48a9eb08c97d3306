/**
 * jobs/pass-states: the bytes of an iterative job's accepted states, which
 * the next pass's tasks run at and its check reduces from: the copy this
 * peer computed, else the copy its accepted `pass` fact carries, checked
 * against the state's CID once. Keeps the latest two states of a few jobs,
 * so a state is checked once, not once per task.
 *
 * Never returns bytes that do not match the accepted fact's state CID.
 */
import { InvalidJobError } from './errors.ts'
import { stateCid } from './passes.ts'
import type { JobState } from './state.ts'

/** Jobs whose latest states are kept here (the least recently stored dropped first). */
const MAX_JOBS_WITH_STATES = 64
/** States kept per job: the one the open pass runs at, and the one before for late runs and checks. */
const STATES_PER_JOB = 2

export class PassStates {
  /** Per job, pass → the accepted state's bytes, oldest job first. */
  private readonly kept = new Map<string, Map<number, Uint8Array>>()

  /** Keeps `bytes` as the state of pass `pass` of `job` (the caller checked them against the accepted fact). */
  keep (job: string, pass: number, bytes: Uint8Array): void {
    let states = this.kept.get(job)
    if (states == null) {
      states = new Map()
      if (this.kept.size >= MAX_JOBS_WITH_STATES) this.kept.delete(this.kept.keys().next().value as string)
    } else {
      this.kept.delete(job)
    }
    this.kept.set(job, states)
    states.set(pass, bytes)
    while (states.size > STATES_PER_JOB) states.delete(Math.min(...states.keys()))
  }

  /** Forgets a job's states (it is over). */
  forget (job: string): void {
    this.kept.delete(job)
  }

  /**
   * The bytes of the accepted state of pass `pass` of `state`'s job; InvalidJobError when the
   * pass has no accepted state, or its fact's bytes do not match its CID.
   */
  bytes (state: JobState, pass: number): Uint8Array {
    const held = this.kept.get(state.id)?.get(pass)
    if (held != null) return held
    const fact = state.passes?.get(pass)?.fact
    if (fact?.state == null || fact.data == null) throw new InvalidJobError(`pass ${pass} of job ${state.id} has no accepted state`)
    if (stateCid(fact.data).toString() !== fact.state) throw new InvalidJobError(`the state of pass ${pass} of job ${state.id} does not match its CID`)
    this.keep(state.id, pass, fact.data)
    return fact.data
  }
}
