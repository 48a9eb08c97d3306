/**
 * jobs/ending: how a job ends without its result, as rules every peer
 * applies alike to the same facts: its submitter's `cancel`, and its
 * deadline. Pure: reads no clock (callers pass `now`) and holds no state.
 *
 * 1. A `cancel` counts only when its author is the submitter the document
 *    names. Where the document is known, any other is refused (never
 *    stored or forwarded); one that came before the document is dropped
 *    when the document comes, so every peer ignores the same ones.
 * 2. A job with a deadline (the document's `deadline`: the submitter's
 *    clock at submit plus `deadlineMs`) counts no fact about its work
 *    stamped after it (claim, renew, result, fail, pass, done, cancel), as a
 *    lease counts no renewal after it lapsed, so the state at the deadline
 *    is a pure function of the facts stamped up to it.
 * 3. The outcome, in order: a `done` that counts (by 2, stamped no later
 *    than the deadline; and no later than the earliest counted cancel) makes
 *    the job done; else a counted cancel makes it canceled; else a task that
 *    failed too often, or a failed pass, makes it failed; else, once this
 *    peer's clock is past the deadline, it failed with
 *    `deadline of D passed with N of M tasks done` (N counted by 2, so the
 *    same on every peer holding the facts stamped up to the deadline).
 */
import type { Fact, SignedFact } from './facts.ts'
import type { JobDocument } from './spec.ts'

/** Why a fact of a job whose document is `doc` does not count (rules 1 and 2), or undefined when it counts. */
export function refusalOf (doc: JobDocument, sf: Pick<SignedFact, 'from' | 'fact'>): string | undefined {
  const f = sf.fact
  if (f.t === 'cancel' && sf.from !== doc.submitter) return `only the submitter ${doc.submitter} may cancel job ${f.job}`
  if (isLate(doc, f)) return `stamped after the deadline of job ${f.job}`
  return undefined
}

/** Whether a fact about a job's work is stamped after the job's deadline (rule 2). */
export function isLate (doc: JobDocument, f: Fact): boolean {
  return doc.deadline != null && f.t !== 'job' && f.at > doc.deadline
}

/** A duration as people write it: `500 ms`, `45 s`, `10 m`, `1 h 30 m`, `2 d`. */
export function formatDuration (ms: number): string {
  if (ms < 1_000) return `${ms} ms`
  const units: Array<[string, number]> = [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1_000]]
  const parts: string[] = []
  let rest = Math.round(ms / 1_000) * 1_000
  for (const [unit, size] of units) {
    const n = Math.floor(rest / size)
    if (n > 0) parts.push(`${n} ${unit}`)
    rest -= n * size
  }
  return parts.join(' ')
}

/** The reason a job whose deadline passed failed with (rule 3). */
export function deadlineReason (doc: JobDocument, done: number, total: number): string {
  return `deadline of ${formatDuration((doc.deadline ?? doc.createdAt) - doc.createdAt)} passed with ${done} of ${total} tasks done`
}
