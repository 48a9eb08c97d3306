/**
 * scheduler/claim-rules: which open tasks this peer may claim now, and how
 * many. A designated peer claims its tasks at once; any other peer waits its
 * turn by rendezvous rank (stealing), and so does everyone for a task opened
 * again (a lapsed lease, a failed run); a peer leaves a task it failed to
 * others for a while; a peer alone in the swarm takes only tasks whose input
 * it holds; claims come in batches sized by the peer's task time, never more
 * than a fair share of the open work.
 *
 * The tasks of an iterative job's pass are ranked by their shard: the same
 * peer is designated for a shard in every pass (its input is already here),
 * and the steal stagger starts again when a pass opens.
 *
 * Pure rules over a job's state and this peer's rank table: no I/O, no
 * timers. Never decides a winner: the job state fold does, on every peer.
 */
import { taskCount, taskOf, type JobState } from '../jobs/index.ts'
import type { Candidate } from './choose.ts'
import {
  CLAIM_BATCH_TARGET_MS, INCONCLUSIVE_MISS_RETRY_MS, MAX_CLAIM_AHEAD_PER_SLOT, MIN_CLAIM_AHEAD_PER_SLOT, REOPEN_RANK_CAP,
  RETRY_ELSEWHERE_STEPS, STEAL_AFTER_RANK_STEPS
} from './constants.ts'
import type { RankTable } from './rank-table.ts'

/** Tasks this peer keeps claimed ahead: CLAIM_BATCH_TARGET_MS of its measured task time per slot, within MIN/MAX_CLAIM_AHEAD_PER_SLOT. */
export function claimAhead (slots: number, avgTaskMs: number): number {
  const perSlot = Math.round(CLAIM_BATCH_TARGET_MS / Math.max(1, avgTaskMs))
  return slots * Math.min(MAX_CLAIM_AHEAD_PER_SLOT, Math.max(MIN_CLAIM_AHEAD_PER_SLOT, perSlot))
}

/**
 * How many tasks this peer may claim in this round, holding `held` (queued or
 * running): none while it holds more than its slots run at once, so claims
 * come in batches, one per emptied queue; then enough to hold claimAhead.
 */
export function claimCapacity (slots: number, held: number, avgTaskMs: number): number {
  return slots === 0 || held > slots ? 0 : claimAhead(slots, avgTaskMs) - held
}

/**
 * How many of `candidates` this peer claims: every task it is designated for
 * and a fair share of the others (split among itself and its `livePeers`),
 * so the last tasks of a job still spread out; at least a slot's worth each,
 * never more than `capacity`.
 */
export function claimLimit (candidates: readonly Candidate[], livePeers: number, slots: number, capacity: number): number {
  let designated = 0
  for (const c of candidates) if (c.designated === true) designated++
  const others = candidates.length - designated
  const share = designated + (others === 0 ? 0 : Math.ceil(others / (livePeers + 1)))
  return Math.min(capacity, Math.max(slots, share))
}

/**
 * Rank steps a task opened again waits, from the moment it reopened, before
 * this peer may claim it: none for its designated peer; otherwise its rank
 * plus one, so the best-ranked idle peer claims it first, and at most
 * REOPEN_RANK_CAP + 1, so busy or done peers of better rank do not hold it up.
 */
export function reopenWaitSteps (designated: boolean, rank: number): number {
  return designated ? 0 : Math.min(rank, REOPEN_RANK_CAP) + 1
}

/** The claim rules of one peer, with the little it remembers: when it first saw each job, and the tasks it leaves alone for now. */
export class ClaimRules {
  /** The stagger per rendezvous rank, ms. */
  readonly stealRankStepMs: number
  private readonly me: string
  private readonly stealAfterMs: number
  /** `job/task` keys this peer holds already (queued, running, or finished and not yet reported). */
  private readonly held: { has: (key: string) => boolean }
  /** When this peer first saw each job's open pass: the clock of its steal stagger. */
  private readonly firstSeen = new Map<string, { pass: number, at: number }>()
  /** `job/task` keys this peer leaves alone, until the time given. */
  private readonly leftAlone = new Map<string, number>()

  /**
   * `me`: this peer's id; `stealRankStepMs`: the stagger per rank (0: none);
   * `held`: the `job/task` keys this peer holds, which it never claims again.
   */
  constructor (me: string, stealRankStepMs: number, held: { has: (key: string) => boolean }) {
    this.me = me
    this.stealRankStepMs = stealRankStepMs
    this.stealAfterMs = STEAL_AFTER_RANK_STEPS * stealRankStepMs
    this.held = held
  }

  /**
   * How long this peer has been allowed to steal in `job` at `now`, in ms:
   * negative until STEAL_AFTER_RANK_STEPS steps after it first saw the job's
   * pass `pass` open (the first call for a job and pass is that moment).
   */
  stealingFor (job: string, now: number, pass = 0): number {
    let seen = this.firstSeen.get(job)
    if (seen == null || seen.pass !== pass) { seen = { pass, at: now }; this.firstSeen.set(job, seen) }
    return now - seen.at - this.stealAfterMs
  }

  /** This peer's attempt at task `key` failed at `now`: the next attempt should be another peer's (see RETRY_ELSEWHERE_STEPS). */
  failed (key: string, now: number): void {
    this.leftAlone.set(key, now + RETRY_ELSEWHERE_STEPS * this.stealRankStepMs)
  }

  /** This peer's attempt at task `key` could not search the swarm for its input: not the task's failure (see INCONCLUSIVE_MISS_RETRY_MS). */
  missedInput (key: string, now: number): void {
    this.leftAlone.set(key, now + INCONCLUSIVE_MISS_RETRY_MS)
  }

  /** Ends the waits that are over at `now`. */
  expire (now: number): void {
    for (const [key, until] of this.leftAlone) if (until <= now) this.leftAlone.delete(key)
  }

  /** Forgets a job that is never scanned again. */
  forget (job: string): void {
    this.firstSeen.delete(job)
  }

  /**
   * Adds to `out` the pending tasks of `state` this peer may claim at `now`:
   * - its designated tasks at once, any other once it has been stealing
   *   (`stealingFor`, see above) for its rank's steps;
   * - when `alone` (it sees no peer on the jobs topic), only tasks whose input
   *   it holds (`local`): it has nobody to fetch from;
   * - none it leaves alone, holds, or has a live claim on or a result for;
   *   none without an open slot;
   * - a task opened again only reopenWaitSteps after it reopened.
   * Called for every job on every round: it allocates nothing but the
   * candidates it adds, and rules a held task out before building its view.
   */
  addClaimable (state: JobState, table: RankTable, local: ReadonlySet<number>, stealingFor: number, alone: boolean, now: number, out: Candidate[]): void {
    const doc = state.doc
    if (doc == null) return
    const { ranks, designated, scores } = table
    const step = this.stealRankStepMs
    const tasks = taskCount(doc)
    for (const i of state.pendingTasks()) {
      // ranked by the task within its pass: an iterative job's pass p of task s is task index p·T + s
      const s = taskOf(i, tasks)
      if (designated[s] === 0 && stealingFor < ranks[s] * step) continue
      if (alone && !local.has(s)) continue
      const key = `${state.id}/${i}`
      if (this.leftAlone.has(key)) continue
      if (!state.hasOpenSlot(i, now) || state.involves(i, this.me, now) || this.held.has(key)) continue
      const reopenedAt = state.task(i, now).reopenedAt
      if (reopenedAt != null && now < reopenedAt + reopenWaitSteps(designated[s] === 1, ranks[s]) * step) continue
      out.push({ job: state.id, task: i, realtime: doc.priority === 'realtime', createdAt: doc.createdAt, local: local.has(s), designated: designated[s] === 1, rank: ranks[s], score: scores[s] })
    }
  }
}
