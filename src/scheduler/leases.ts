/**
 * scheduler/leases: the tasks this peer holds a lease on (claimed, queued,
 * running, or finished and not yet reported) and when each was last claimed
 * or renewed; and the renewal rule: when a lease is due, and which tasks one
 * renewal carries.
 *
 * Bookkeeping only: the scheduler publishes the renewals. Every task's lease
 * is renewed on its own clock, but a job's leases are renewed together once
 * any of them is due, so a peer sends at most one renewal per job per
 * interval and its tasks' clocks align. A late renewal at worst lets another
 * peer run the task too, never a wrong result.
 */
import { SHORT_LEASE_MS } from './constants.ts'

/**
 * How long after a lease was granted or renewed its renewal is due: half way
 * to expiring for a lease up to SHORT_LEASE_MS, a third of the way for a
 * longer one (see SHORT_LEASE_MS).
 */
export function renewalDueMs (leaseMs: number): number {
  return leaseMs <= SHORT_LEASE_MS ? leaseMs / 2 : leaseMs / 3
}

/** The job id and task index of a `job/task` key. */
export function splitKey (key: string): [string, number] {
  const slash = key.indexOf('/')
  return [key.slice(0, slash), Number(key.slice(slash + 1))]
}

/** The tasks of one job this peer holds, and whether their renewal is due. */
export interface HeldTasks {
  tasks: number[]
  due: boolean
  /** Tasks whose lease ended before their renewal (this peer renewed too late: another peer may run them too). */
  lapsed: number
}

/** This peer's leases, by `job/task` key. */
export class Leases {
  /** When each held task was last claimed or renewed, in the order they were first taken. */
  private readonly leasedAt = new Map<string, number>()

  /** Tasks held. */
  get size (): number {
    return this.leasedAt.size
  }

  /** Whether this peer holds task `key`. */
  has (key: string): boolean {
    return this.leasedAt.has(key)
  }

  /** Task `key` was claimed at `at`: it is held until released. */
  take (key: string, at: number): void {
    this.leasedAt.set(key, at)
  }

  /** Task `key` is no longer held (its result is out, or it was dropped): its lease is left to lapse. */
  release (key: string): void {
    this.leasedAt.delete(key)
  }

  /**
   * This peer's held tasks by job, in the order they were taken, each job
   * marked `due` when any of its leases is due at `now` (see renewalDueMs):
   * then all of its tasks are renewed together. `leaseOf` gives a job's lease
   * length, or undefined for a job this peer no longer knows (its tasks are
   * left out).
   */
  byJob (now: number, leaseOf: (job: string) => number | undefined): Map<string, HeldTasks> {
    const held = new Map<string, HeldTasks>()
    for (const [key, at] of this.leasedAt) {
      const [job, task] = splitKey(key)
      const lease = leaseOf(job)
      if (lease == null) continue
      let entry = held.get(job)
      if (entry == null) { entry = { tasks: [], due: false, lapsed: 0 }; held.set(job, entry) }
      entry.tasks.push(task)
      if (now - at >= renewalDueMs(lease)) entry.due = true
      if (now - at > lease) entry.lapsed++
    }
    return held
  }

  /** The leases of `tasks` of `job` were renewed at `at` (tasks no longer held are left out). */
  renewed (job: string, tasks: readonly number[], at: number): void {
    for (const task of tasks) {
      const key = `${job}/${task}`
      if (this.leasedAt.has(key)) this.leasedAt.set(key, at)
    }
  }

  /**
   * This peer's held tasks of `job` other than `except`, at most `max`: the
   * renewal a result fact of the job carries. Empty when there are none.
   */
  othersOf (job: string, except: ReadonlySet<number>, max: number): number[] {
    const tasks: number[] = []
    for (const key of this.leasedAt.keys()) {
      if (tasks.length >= max) break
      const [of, task] = splitKey(key)
      if (of === job && !except.has(task)) tasks.push(task)
    }
    return tasks
  }
}
