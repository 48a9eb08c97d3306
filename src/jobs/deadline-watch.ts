/**
 * jobs/deadline-watch: a timer per job with a deadline that is not over, so
 * the moment it passes is a change of the job (the scheduler aborts its runs,
 * waiters see it failed) even when no fact arrives then. Never decides
 * anything: the job state reads the deadline (ending.ts); this only says when
 * to look again.
 */
import { MAX_JOB_TIMER_MS } from './constants.ts'
import type { JobState } from './state.ts'

export class DeadlineWatch {
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>()
  private readonly passed: (job: string) => void
  private running = true

  /** `passed` is called once a watched job's deadline is behind this peer's clock. */
  constructor (passed: (job: string) => void) {
    this.passed = passed
  }

  /** Watches `state`'s deadline, once, unless it has none or the job ended. */
  watch (state: JobState, now = Date.now()): void {
    const deadline = state.doc?.deadline
    if (!this.running || deadline == null || this.timers.has(state.id) || state.doneResult() != null || state.failed) return
    this.arm(state.id, deadline, now)
  }

  stop (): void {
    this.running = false
    for (const t of this.timers.values()) clearTimeout(t)
    this.timers.clear()
  }

  private arm (job: string, deadline: number, now: number): void {
    // a past deadline is passed at once; a far one is waited for in pieces Node's timers can hold
    const wait = Math.min(MAX_JOB_TIMER_MS, Math.max(0, deadline - now + 1))
    const timer = setTimeout(() => {
      const at = Date.now()
      if (at <= deadline) { this.arm(job, deadline, at); return }
      this.timers.delete(job)
      this.passed(job)
    }, wait)
    timer.unref()
    this.timers.set(job, timer)
  }
}
