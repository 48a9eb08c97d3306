/**
 * The pull scheduler of one peer: when its queue runs low it claims a batch
 * of open tasks it can run (function known, requirements met), best first
 * (see choose.ts); runs them; renews its leases while they run; reports its
 * results in batches when it asks for more work, as volunteer-computing
 * clients do (small results inline, all stored in the swarm); and reports
 * failures. A task accepted meanwhile, or whose job finished, is aborted; a
 * claim that lost a race in this peer's view is still run (see pump). Every
 * fact costs each peer of the swarm a receipt and a signature
 * check, so the facts per task are kept few: one claim, one result and at
 * most one renewal per batch (a result fact renews the peer's other tasks of
 * its job, so a renew fact goes out only when no result did for a while).
 *
 * Owns claiming and execution on this peer. Never decides a winner itself:
 * the job state fold does, identically on every peer.
 */
import type { Startable } from '@libp2p/interface'
import {
  DEFAULT_LEASE_MS, INLINE_RESULT_MAX_BYTES, MAX_INLINE_BYTES_PER_FACT, MAX_RESULTS_PER_FACT, MAX_TASKS_PER_FACT, MAX_REASON_CHARS, resultHash,
  encodeResultBatch, keyHash, peerHash, scoreOf, taskCid,
  type JobDataAccess, type JobDocument, type JobService, type JobState, type ResultEntry
} from '../jobs/index.ts'
import { fits, type LocalCapabilities } from './capabilities.ts'
import { chooseTasks, rankAmong, type Candidate } from './choose.ts'
import { blockKadId, cidOf, closestIndexes, peerKadId } from '../data/index.ts'
import { peerIdFromString } from '@libp2p/peer-id'
import { MAX_PREFETCHED_SHARDS, type TaskExecutor } from './executor.ts'

/** How often the scheduler looks for work even without a change. */
export const TICK_MS = 200
/**
 * Claim at least this many tasks per slot ahead of running them (more when
 * CLAIM_BATCH_TARGET_MS of work holds more). A task's measured time is its
 * wall time, many times its CPU time where slots outnumber free cores: in the
 * 8-peer 50 ms-task benchmark (16 slots on 2 cores) a run took ~400 ms, and at
 * 4 per slot claims and the results that travel with them were most of a
 * job's ~53 facts; at 8, the hosts' main threads spent 0.74-0.95 CPU-s on a
 * job instead of 0.94-1.33 s. A claim never exceeds a fair share of the open
 * work, so the last tasks still spread out.
 */
export const CLAIM_AHEAD_PER_SLOT = 8
/** Most tasks claimed ahead per slot when tasks are very fast. */
export const MAX_CLAIM_AHEAD_PER_SLOT = 64
/** Work one claim batch should hold, in ms of measured task time. */
export const CLAIM_BATCH_TARGET_MS = 250
/**
 * Queued tasks whose input shards are fetched ahead, per slot. A task holds
 * its slot until it ends, so fetching when it starts left slots idle through
 * round trips: in a busy swarm of tiny tasks a peer without the shards ran
 * ~30 tasks/s on two slots while a peer holding them all ran ~1,000/s.
 */
export const PREFETCH_PER_SLOT = 8
/** Finished results wait at least this long, so those finishing together share one fact. */
export const RESULT_BATCH_MS = 15
/**
 * Results are published when this peer's queue of claimed tasks runs empty
 * (it is about to ask for more work, or has nothing left), and at the latest
 * this long after the first of them finished.
 */
export const RESULT_MAX_DELAY_MS = 1_000
/** How often leases due for renewal are looked for (on their own timer, never held up by a round). */
export const RENEW_CHECK_MS = 200
/**
 * Leases up to this long (the default, 3 s, and shorter) are renewed half way
 * to expiring, longer ones a third of the way. A short lease belongs to a
 * responsive swarm, where a renewal reaches every peer in tens of ms and half
 * a lease is ample; each renewal is a fact every peer verifies, and at a third
 * of a 3 s lease they were a fifth of a 50 ms-task job's facts. A long lease
 * is chosen for hosts whose event loops take seconds a turn (the simulation's
 * large swarms), where a renewal needs most of the lease to arrive.
 */
export const SHORT_LEASE_MS = DEFAULT_LEASE_MS

/** How long after a lease was granted or renewed its renewal is due. */
export function renewalDueMs (leaseMs: number): number {
  return leaseMs <= SHORT_LEASE_MS ? leaseMs / 2 : leaseMs / 3
}
/** Least time between two scheduling rounds: a burst of facts costs one round, not one each. */
export const MIN_TICK_GAP_MS = 25
/**
 * For this many rank steps (see STEAL_RANK_STEP_MS) after a peer first sees a
 * job it claims only the tasks it is designated for (see `ranksOf`); then it
 * may take other open tasks (steal). Every task has one designated peer, so
 * at a job's start peers do not race for the same tasks. Designated peers
 * claim within one round of seeing the job, so two steps (gossip reaches
 * every peer within one) are enough: a fixed second left the peer holding
 * every input of a 2,000-task job idle for most of that second.
 */
export const STEAL_AFTER_RANK_STEPS = 2

/**
 * Stealing is staggered by rendezvous rank: a peer may steal a task once
 * (STEAL_AFTER_RANK_STEPS + rank) x STEAL_RANK_STEP_MS have passed since it saw the
 * job, so the first-ranked idle peer takes it and the others see that claim
 * before their turn comes, instead of every idle peer claiming the same
 * leftovers at once (on 50 peers, 3.4 claims per task, each a fact every peer
 * receives). Longer than gossip takes to reach every peer (tens of ms).
 */
export const STEAL_RANK_STEP_MS = 100

/**
 * Ranks beyond this wait no longer for a reopened task: the best-ranked peers
 * may be busy, or may have run the task already (they do not claim it again);
 * at 200 peers with a 1 s step a reopened task waited 110 s and more for a
 * peer of high rank.
 */
export const REOPEN_RANK_CAP = 8

/**
 * A peer whose attempt at a task failed leaves the task alone for this many
 * rank steps, past the turn of every ranked peer (REOPEN_RANK_CAP + 1), so
 * the next attempt is another peer's: a failure can be the peer's own (a
 * device back from a crash with a partial view of the swarm), and at 200
 * peers the designated peer, which retakes a reopened task at once, failed
 * one task three times in a row ("23 peers asked: 23 have none") and its
 * job with it. A peer alone in the swarm still retries, later.
 */
export const RETRY_ELSEWHERE_STEPS = REOPEN_RANK_CAP + 2

/**
 * A peer that sees no peer on the jobs topic takes only tasks whose input it
 * holds, and an attempt that could not find a block meanwhile is not a
 * failure of the task (a peer restarted from its repo knows its jobs before
 * it has any peer to fetch from; it used to burn every attempt of a task in
 * a second with "none of 0 peers asked holds it", and one restarted into a
 * saturated 200-peer swarm, with two connections nobody answered on, failed
 * tasks the swarm had finished long before). So is a miss whose search was not
 * conclusive (peers it asked were silent and no DHT lookup finished; see
 * conclusiveMiss): at 200 peers such misses failed a task three times, and its job.
 * Such a task is left alone by this peer for this long.
 */
export const ISOLATED_RETRY_MS = 5_000

/** Failure reasons a scheduler keeps (see recentFailures). */
export const MAX_RECENT_FAILURES = 50

export interface SchedulerInit {
  jobs: JobService
  executor: TaskExecutor
  data: JobDataAccess
  peerId: string
  capabilities: LocalCapabilities
  /** Copies the data layer places of each block: who is expected to hold a task's input. @default 3 */
  replicas?: number
  /**
   * Stagger of stealing and of reopened tasks per rendezvous rank (see STEAL_RANK_STEP_MS); longer
   * than gossip takes to reach every peer. Stealing starts STEAL_AFTER_RANK_STEPS steps after a peer
   * sees a job (0: at once). @default STEAL_RANK_STEP_MS
   */
  stealRankStepMs?: number
}

export interface SchedulerMetrics {
  claimed: number
  executed: number
  failed: number
  /** Executions that were not needed: the task was accepted before they finished (runs of lost claims whose result did not count are not told apart). */
  duplicates: number
  running: number
}

interface Pending { job: string, task: number }

export class Scheduler implements Startable {
  private readonly jobs: JobService
  private readonly executor: TaskExecutor
  private readonly data: JobDataAccess
  private readonly me: string
  private readonly replicas: number
  private readonly stealRankStepMs: number
  private readonly stealAfterMs: number
  readonly capabilities: LocalCapabilities
  readonly metrics: SchedulerMetrics = { claimed: 0, executed: 0, failed: 0, duplicates: 0, running: 0 }
  /** Reasons of this peer's latest failed attempts (at most MAX_RECENT_FAILURES, oldest first): what the counters do not say. */
  readonly recentFailures: string[] = []
  private readonly queue: Pending[] = []
  /** `job/task` keys that are queued, running, or finished but not yet published: all still ours to renew. */
  private readonly mine = new Set<string>()
  /** Jobs seen done or failed: never scanned again. */
  private readonly finished = new Set<string>()
  private lastTick = 0
  private readonly active = new Map<string, { job: string, task: number, controller: AbortController }>()
  private readonly results = new Map<string, FinishedResult[]>()
  private readonly flushing = new Set<string>()
  private readonly locality = new Map<string, Set<number> | 'pending'>()
  /** Per job, for one membership: this peer's rendezvous rank of each task among the live peers, and the tasks it is designated for. */
  private readonly ranks = new Map<string, RankTable>()
  /** When this peer first saw each job (for STEAL_AFTER_RANK_STEPS). */
  private readonly firstSeen = new Map<string, number>()
  private readonly stealTimers = new Set<string>()
  /** `job/task` keys of queued tasks whose inputs are being fetched ahead (see PREFETCH_PER_SLOT). */
  private readonly prefetched = new Set<string>()
  /** Kademlia ids of peers, by peer id string. */
  private readonly kadIds = new Map<string, Uint8Array>()
  /** When each of `mine` was last claimed or renewed: every task's lease is renewed on its own clock. */
  private readonly leasedAt = new Map<string, number>()
  private avgTaskMs = 50
  /** `job/task` keys this peer leaves alone until the time given (see ISOLATED_RETRY_MS). */
  private readonly notBefore = new Map<string, number>()
  private timer?: ReturnType<typeof setInterval>
  private renewTimer?: ReturnType<typeof setInterval>
  private ticking = false
  private running = false
  private readonly onChange = (): void => { this.kick() }
  private kickPending = false

  constructor (init: SchedulerInit) {
    this.jobs = init.jobs
    this.executor = init.executor
    this.data = init.data
    this.me = init.peerId
    this.replicas = init.replicas ?? 3
    this.stealRankStepMs = init.stealRankStepMs ?? STEAL_RANK_STEP_MS
    if (!Number.isSafeInteger(this.stealRankStepMs) || this.stealRankStepMs < 0) {
      throw new RangeError(`stealRankStepMs must be a whole number of ms >= 0, got ${String(init.stealRankStepMs)}`)
    }
    this.stealAfterMs = STEAL_AFTER_RANK_STEPS * this.stealRankStepMs
    this.capabilities = init.capabilities
  }

  start (): void {
    this.running = true
    this.jobs.addEventListener('change', this.onChange)
    this.timer = setInterval(() => { void this.tick() }, TICK_MS)
    this.timer.unref()
    this.renewTimer = setInterval(() => { this.renewAll() }, RENEW_CHECK_MS)
    this.renewTimer.unref()
  }

  stop (): void {
    this.running = false
    clearInterval(this.timer)
    clearInterval(this.renewTimer)
    this.jobs.removeEventListener('change', this.onChange)
    for (const a of this.active.values()) a.controller.abort(new Error('peer stopping'))
    this.queue.length = 0
    this.prefetched.clear()
    this.executor.clearPrefetched()
  }

  /** Schedules a tick soon, at most one per MIN_TICK_GAP_MS however many facts arrive. */
  private kick (): void {
    if (this.kickPending || !this.running) return
    this.kickPending = true
    const wait = Math.max(0, MIN_TICK_GAP_MS - (Date.now() - this.lastTick))
    setTimeout(() => { this.kickPending = false; void this.tick() }, wait).unref()
  }

  private claimAhead (): number {
    const perSlot = Math.round(CLAIM_BATCH_TARGET_MS / Math.max(1, this.avgTaskMs))
    return this.capabilities.slots * Math.min(MAX_CLAIM_AHEAD_PER_SLOT, Math.max(CLAIM_AHEAD_PER_SLOT, perSlot))
  }

  private isQueued (job: string, task: number): boolean {
    return this.mine.has(`${job}/${task}`)
  }

  private computeLocality (state: JobState): void {
    const doc = state.doc
    if (doc == null) return
    this.locality.set(state.id, 'pending')
    void (async () => {
      const local = new Set<number>()
      for (let i = 0; i < doc.tasks.length; i++) {
        if (await this.data.hasLocal(taskCid(doc, i)).catch(() => false)) local.add(i)
      }
      this.locality.set(state.id, local)
      this.kick()
    })()
  }

  /** One round: drop finished work, renew leases, claim, run. */
  async tick (): Promise<void> {
    if (!this.running || this.ticking) return
    this.ticking = true
    this.lastTick = Date.now()
    try {
      const now = Date.now()
      const candidates: Candidate[] = []
      const queuedCount = this.queue.length + this.active.size
      const alone = this.jobs.jobPeers() === 0
      for (const [key, until] of this.notBefore) if (until <= now) this.notBefore.delete(key)
      // claim in batches: only once nothing is left queued beyond the running slots
      const capacity = this.capabilities.slots === 0 || queuedCount > this.capabilities.slots ? 0 : this.claimAhead() - queuedCount
      for (const state of this.jobs.jobs()) {
        const doc = state.doc
        if (doc == null || this.finished.has(state.id)) continue
        if (state.failed || state.doneResult() != null) {
          this.finished.add(state.id)
          // per-job scheduling state is not needed once the job is never scanned again
          this.ranks.delete(state.id)
          this.firstSeen.delete(state.id)
          this.locality.delete(state.id)
        }
        if (state.failed || state.complete) {
          this.abortJob(state.id)
          continue
        }
        this.abortAccepted(state, now)
        if (capacity <= 0) continue
        // a peer untrusted from earlier jobs is never granted a task here: claiming would only add facts
        if (state.avoids(this.me) || !this.executor.canRun(doc) || !fits(doc.requirements, this.capabilities)) continue
        const loc = this.locality.get(state.id)
        if (loc == null) { this.computeLocality(state); continue }
        if (loc === 'pending') continue
        const { ranks, designated, scores } = this.ranksOf(state)
        let seen = this.firstSeen.get(state.id)
        if (seen == null) { seen = now; this.firstSeen.set(state.id, now) }
        const stealingFor = now - seen - this.stealAfterMs
        const stealing = stealingFor >= 0
        for (const i of state.pendingTasks()) {
          if (designated[i] === 0 && stealingFor < ranks[i] * this.stealRankStepMs) continue
          if ((alone && !loc.has(i)) || this.notBefore.has(`${state.id}/${i}`)) continue
          // most pending tasks are held by someone: ruled out without building their views
          if (!state.hasOpenSlot(i, now) || state.involves(i, this.me, now) || this.isQueued(state.id, i)) continue
          // a task opened again (a lease lapsed, a run failed) goes to the idle peers in rank
          // order too, not to all at once: at 200 peers every lapse drew 10-20 claims, each a
          // fact every peer checks, and most of them lost
          const reopenedAt = state.task(i, now).reopenedAt
          if (reopenedAt != null && now < reopenedAt + (designated[i] === 1 ? 0 : Math.min(ranks[i], REOPEN_RANK_CAP) + 1) * this.stealRankStepMs) continue
          candidates.push({ job: state.id, task: i, realtime: doc.priority === 'realtime', createdAt: doc.createdAt, local: loc.has(i), designated: designated[i] === 1, rank: ranks[i], score: scores[i] })
        }
        if (!stealing && !this.stealTimers.has(state.id)) {
          this.stealTimers.add(state.id)
          setTimeout(() => { this.stealTimers.delete(state.id); this.kick() }, seen + this.stealAfterMs - now).unref()
        }
      }
      // all the tasks this peer is designated for, and a fair share of the others, so peers spread out
      const mineCount = candidates.filter(c => c.designated === true).length
      const others = candidates.length - mineCount
      const share = mineCount + (others === 0 ? 0 : Math.ceil(others / (this.jobs.livePeers() + 1)))
      const chosen = chooseTasks(candidates, this.me, Math.min(capacity, Math.max(this.capabilities.slots, share)))
      const byJob = new Map<string, number[]>()
      for (const c of chosen) byJob.set(c.job, [...(byJob.get(c.job) ?? []), c.task])
      for (const [job, tasks] of byJob) {
        const doc = this.jobs.state(job)?.doc
        if (doc == null) continue
        for (let i = 0; i < tasks.length; i += MAX_TASKS_PER_FACT) {
          const slice = tasks.slice(i, i + MAX_TASKS_PER_FACT)
          const claim = { tasks: slice, lease: doc.leaseMs }
          // the finished results go out with the work request: one fact, not two
          const finished = this.takeInline(job)
          if (finished.length > 0) await this.publishResults(job, finished, claim)
          else await this.jobs.publish({ t: 'claim', job, tasks: slice, at: Date.now(), lease: doc.leaseMs })
          this.metrics.claimed += slice.length
          const at = Date.now()
          for (const task of slice) { this.queue.push({ job, task }); this.own(`${job}/${task}`, at) }
        }
      }
      this.pump()
    } finally {
      this.ticking = false
    }
  }

  /**
   * For every task of a job, recomputed when membership changes: this peer's
   * rendezvous rank among the live peers, and whether it is the task's
   * designated peer. The designated peer is the first by rendezvous hash among
   * the peers expected to hold the task's input shard (the `replicas` live
   * peers closest to its key, where the data layer places it), so it is a
   * holder and every peer with the same view picks the same one.
   */
  private ranksOf (state: JobState): RankTable {
    const doc = state.doc
    if (doc == null) return { live: [], keys: [], hashes: [], ranks: new Uint16Array(0), designated: new Uint8Array(0), scores: new Float64Array(0) }
    const live = this.jobs.livePeerIds()
    const cached = this.ranks.get(state.id)
    if (cached != null && cached.live === live) return cached
    // the tasks' shard keys and rendezvous hashes do not change with membership: made once per job
    const keys = cached?.keys ?? doc.tasks.map((_, i) => blockKadId(taskCid(doc, i)))
    const hashes = cached?.hashes ?? doc.tasks.map((_, i) => keyHash(`${state.id}/${i}`))
    const peers = [this.me, ...live]
    const ids = peers.map(p => this.kadIdOf(p))
    const peerHashes = peers.map(p => peerHash(p))
    const n = doc.tasks.length
    const ranks = new Uint16Array(n)
    const designated = new Uint8Array(n)
    const scores = new Float64Array(n)
    const holderCount = Math.max(1, this.replicas)
    const others = peerHashes.slice(1)
    for (let i = 0; i < n; i++) {
      const h = hashes[i]
      ranks[i] = Math.min(65_535, rankAmong(peerHashes[0], others, h))
      scores[i] = scoreOf(h, peerHashes[0])
      // peers[0] is this peer: designated when it is a holder and no other holder scores higher
      const holders = closestIndexes(keys[i], ids, holderCount)
      if (holders.includes(0) && rankAmong(peerHashes[0], holders.filter(k => k !== 0).map(k => peerHashes[k]), h) === 0) designated[i] = 1
    }
    const entry = { live, keys, hashes, ranks, designated, scores }
    this.ranks.set(state.id, entry)
    return entry
  }

  private kadIdOf (peer: string): Uint8Array {
    let id = this.kadIds.get(peer)
    if (id == null) {
      id = peerKadId(peerIdFromString(peer))
      if (this.kadIds.size > 10_000) this.kadIds.clear()
      this.kadIds.set(peer, id)
    }
    return id
  }

  /**
   * Starts queued tasks while slots are free; drops those already settled
   * (accepted or failed). A claim that lost a race in this peer's view is run
   * anyway: on a loaded swarm views differ for a while (facts arrive late, or
   * by sync), and when each claimant dropped the task for a winner that, in its
   * own view, had lost to an earlier holder, nobody ran it (at 200 peers a
   * job's last tasks were claimed again and again for minutes). Its result
   * counts if the task has a free slot when it arrives; the winner's counts anyway.
   */
  private pump (): void {
    while (this.running && this.active.size < this.capabilities.slots && this.queue.length > 0) {
      const next = this.queue.shift() as Pending
      const state = this.jobs.state(next.job)
      if (state == null || this.settled(state, next.task) || state.avoids(this.me)) { this.disown(`${next.job}/${next.task}`); continue }
      void this.execute(state, next.task)
    }
    this.metrics.running = this.active.size
    this.prefetch()
  }

  /** Fetches the inputs of the next queued tasks ahead of their runs (see PREFETCH_PER_SLOT). */
  private prefetch (): void {
    // a task reads at most two shards ahead: never more tasks than the executor keeps shards for
    const ahead = Math.min(this.queue.length, this.capabilities.slots * PREFETCH_PER_SLOT, Math.floor(MAX_PREFETCHED_SHARDS / 2))
    for (let k = 0; k < ahead; k++) {
      const { job, task } = this.queue[k]
      const key = `${job}/${task}`
      if (this.prefetched.has(key)) continue
      const doc = this.jobs.state(job)?.doc
      if (doc == null) continue
      this.prefetched.add(key)
      this.executor.prefetch(doc, task)
    }
  }

  private abortJob (job: string): void {
    for (const [key, a] of this.active) {
      if (a.job === job) { a.controller.abort(new Error('job finished')); this.active.delete(key); this.disown(key); this.metrics.duplicates++ }
    }
    for (let i = this.queue.length - 1; i >= 0; i--) {
      if (this.queue[i].job === job) { this.disown(`${job}/${this.queue[i].task}`); this.queue.splice(i, 1) }
    }
  }

  /** Whether a task needs no more runs: accepted, or failed for good. */
  private settled (state: JobState, task: number): boolean {
    const status = state.task(task).status
    return status === 'done' || status === 'failed'
  }

  /** Aborts running tasks that are settled (accepted already); a lost race alone does not stop a run (see pump). */
  private abortAccepted (state: JobState, now: number): void {
    for (const [key, a] of this.active) {
      if (a.job !== state.id) continue
      const t = state.task(a.task, now)
      if (t.status === 'done') {
        a.controller.abort(new Error('task accepted already'))
        this.active.delete(key)
        this.disown(key)
        this.metrics.duplicates++
      }
    }
  }

  private own (key: string, at: number): void {
    this.mine.add(key)
    this.leasedAt.set(key, at)
  }

  private disown (key: string): void {
    this.mine.delete(key)
    this.prefetched.delete(key)
    this.leasedAt.delete(key)
  }

  /**
   * Renews this peer's leases of a job once any of them is due (renewalDueMs:
   * half way to expiring for short leases): all of the job's tasks in one fact
   * (per MAX_TASKS_PER_FACT), so their clocks align and a peer sends at most
   * one renewal per job per interval. Tasks claimed ahead and still queued are
   * renewed too. A renewal that comes late at worst lets another peer run the
   * task too, never a wrong result.
   */
  private renewAll (): void {
    if (!this.running || this.mine.size === 0) return
    const now = Date.now()
    const held = new Map<string, { tasks: number[], due: boolean }>()
    for (const key of this.mine) {
      const [job, task] = splitKey(key)
      const lease = this.jobs.state(job)?.doc?.leaseMs
      if (lease == null) continue
      let entry = held.get(job)
      if (entry == null) { entry = { tasks: [], due: false }; held.set(job, entry) }
      entry.tasks.push(task)
      if (now - (this.leasedAt.get(key) ?? 0) >= renewalDueMs(lease)) entry.due = true
    }
    for (const [job, { tasks, due }] of held) {
      if (!due) continue
      const lease = this.jobs.state(job)?.doc?.leaseMs as number
      for (const task of tasks) this.leasedAt.set(`${job}/${task}`, now)
      // finished results held for a claim go out now instead, renewing the rest: one fact either way
      const finished = tasks.length <= MAX_TASKS_PER_FACT ? this.takeInline(job) : []
      if (finished.length > 0) {
        void this.publishResults(job, finished).catch(() => { void this.flush(job) })
        continue
      }
      for (let i = 0; i < tasks.length; i += MAX_TASKS_PER_FACT) {
        void this.jobs.publish({ t: 'renew', job, tasks: tasks.slice(i, i + MAX_TASKS_PER_FACT), at: now, lease }).catch(() => {})
      }
    }
  }

  /**
   * This peer's tasks of `job` other than `except` (queued, running, or done
   * and not yet reported), as a renewal for a result fact to carry.
   * Undefined when there are none.
   */
  private renewalOf (job: string, except: ReadonlySet<number>): { tasks: number[], lease: number } | undefined {
    const lease = this.jobs.state(job)?.doc?.leaseMs
    if (lease == null) return undefined
    const tasks: number[] = []
    for (const key of this.mine) {
      if (tasks.length >= MAX_TASKS_PER_FACT) break
      const [of, task] = splitKey(key)
      if (of === job && !except.has(task)) tasks.push(task)
    }
    if (tasks.length === 0) return undefined
    return { tasks, lease }
  }

  private async execute (state: JobState, task: number): Promise<void> {
    const key = `${state.id}/${task}`
    const controller = new AbortController()
    this.active.set(key, { job: state.id, task, controller })
    this.metrics.running = this.active.size
    const started = Date.now()
    try {
      const timing = { inputMs: 0 }
      const bytes = await this.executor.run(state.doc as JobDocument, task, controller.signal, timing)
      if (controller.signal.aborted) { this.disown(key); return }
      this.metrics.executed++
      // the run's own time, without waiting for its input: claim batches are sized by the work,
      // and the inputs of queued tasks are fetched ahead (a peer that fetched every next shard
      // measured its tiny tasks at ~60 ms and claimed 10 at a time, one batch per ~300 ms)
      this.avgTaskMs = this.avgTaskMs * 0.8 + Math.max(0, Date.now() - started - timing.inputMs) * 0.2
      if (state.task(task).status === 'done') this.metrics.duplicates++
      const list = this.results.get(state.id) ?? []
      list.push({ task, bytes })
      this.results.set(state.id, list)
      void this.flush(state.id)
    } catch (err) {
      this.disown(key)
      if (controller.signal.aborted || !this.running) return
      if (err instanceof Error && err.name === 'NotFoundError' && (this.jobs.jobPeers() === 0 || ('searched' in err && err.searched === false))) {
        // not the task's fault: this peer has nobody to fetch from, or its search said nothing of
        // the block (peers it asked were silent and no DHT lookup finished); its lease lapses
        this.notBefore.set(key, Date.now() + ISOLATED_RETRY_MS)
        return
      }
      this.metrics.failed++
      const reason = (err instanceof Error ? `${err.name}: ${err.message}` : String(err)).slice(0, MAX_REASON_CHARS)
      this.recentFailures.push(reason)
      if (this.recentFailures.length > MAX_RECENT_FAILURES) this.recentFailures.shift()
      // the next attempt goes to another peer first (see RETRY_ELSEWHERE_STEPS)
      this.notBefore.set(key, Date.now() + RETRY_ELSEWHERE_STEPS * this.stealRankStepMs)
      await this.jobs.publish({ t: 'fail', job: state.id, task, at: Date.now(), reason }).catch(() => {})
    } finally {
      if (this.active.get(key)?.controller === controller) this.active.delete(key)
      this.pump()
      this.kick()
    }
  }

  /**
   * Publishes this peer's finished results of a job in as few facts as fit
   * (see batchLength). Small results travel inline (every peer keeps the
   * facts, persisted) and are also stored in the swarm as one batch block
   * (encodeResultBatch), named by the fact's `batch` CID: kept here, and by
   * the peers closest to it from the fact itself (no transfer); large ones
   * are stored first (`put`) and referenced. While this peer still has
   * tasks of the job queued or running, results wait (at most
   * RESULT_MAX_DELAY_MS): they go out with its next claim, or with its next
   * renewal, in the same fact (see publishResults). One flush per job at a
   * time, so results batch up under load. Tasks stay ours (renewed) until
   * their result is published.
   */
  private async flush (job: string): Promise<void> {
    if (this.flushing.has(job)) return
    this.flushing.add(job)
    try {
      const first = Date.now()
      await new Promise(resolve => setTimeout(resolve, RESULT_BATCH_MS))
      while (this.running && (this.results.get(job)?.length ?? 0) > 0 && this.holdsWork(job) && Date.now() - first < RESULT_MAX_DELAY_MS) {
        await new Promise(resolve => setTimeout(resolve, RESULT_BATCH_MS))
      }
      while (this.running) {
        const pending = this.results.get(job) ?? []
        if (pending.length === 0) break
        const batch = pending.splice(0, batchLength(pending))
        try {
          await this.publishResults(job, batch)
        } catch {
          // kept (publishResults put them back): the next round retries (their leases are still renewed)
          await new Promise(resolve => setTimeout(resolve, 500))
        }
      }
    } finally {
      this.flushing.delete(job)
    }
  }

  /** Whether this peer has tasks of `job` queued or running. */
  private holdsWork (job: string): boolean {
    for (const a of this.active.values()) if (a.job === job) return true
    return this.queue.some(q => q.job === job)
  }

  /**
   * Takes the finished results of `job` that can go in one fact at once:
   * inline ones only (a large one is stored in the swarm first, by flush),
   * as many as batchLength allows.
   */
  private takeInline (job: string): FinishedResult[] {
    const pending = this.results.get(job)
    if (pending == null || pending.length === 0) return []
    let n = 0
    const fit = batchLength(pending)
    while (n < fit && pending[n].bytes.length <= INLINE_RESULT_MAX_BYTES) n++
    return pending.splice(0, n)
  }

  /**
   * One result fact of `batch` (taken from this.results): it renews this
   * peer's other tasks of the job, and with `claim` it claims those tasks
   * too, folded as the claim fact of its time would be. On failure the
   * results are put back (first) and the error thrown.
   */
  private async publishResults (job: string, batch: FinishedResult[], claim?: { tasks: number[], lease: number }): Promise<void> {
    try {
      const entries: ResultEntry[] = []
      for (const r of batch) {
        const entry: ResultEntry = { task: r.task, hash: resultHash(r.bytes), size: r.bytes.length }
        if (r.bytes.length <= INLINE_RESULT_MAX_BYTES) entry.data = r.bytes
        else entry.ref = (await this.data.put(r.bytes)).toString()
        entries.push(entry)
      }
      // the inline results are stored in the swarm as one block, which the fact names
      const stored = encodeResultBatch(job, entries)
      const batchCid = stored != null ? cidOf(stored).toString() : undefined
      // the fact renews this peer's other tasks of the job too: fewer renew facts
      const at = Date.now()
      const renew = this.renewalOf(job, new Set(batch.map(r => r.task)))
      await this.jobs.publish({ t: 'result', job, at, results: entries, ...(batchCid != null ? { batch: batchCid } : {}), ...(renew != null ? { renew } : {}), ...(claim != null ? { claim } : {}) })
      // their lease clocks restart with the fact, once it is out
      for (const task of renew?.tasks ?? []) if (this.mine.has(`${job}/${task}`)) this.leasedAt.set(`${job}/${task}`, at)
      for (const r of batch) this.disown(`${job}/${r.task}`)
      if (stored != null) void this.data.keepBlock(stored).catch(() => {})
    } catch (err) {
      const pending = this.results.get(job) ?? []
      pending.unshift(...batch)
      this.results.set(job, pending)
      throw err
    }
  }
}

/** A finished run whose result is not published yet. */
interface FinishedResult { task: number, bytes: Uint8Array }

/** The job id and task index of a `job/task` key. */
function splitKey (key: string): [string, number] {
  const slash = key.indexOf('/')
  return [key.slice(0, slash), Number(key.slice(slash + 1))]
}

/**
 * How many of `pending` results go in the next result fact: at most
 * MAX_RESULTS_PER_FACT, and inline bytes up to MAX_INLINE_BYTES_PER_FACT
 * (always at least one), so the fact fits MAX_FACT_BYTES: a peer finishing
 * dozens of tasks with ~15 KiB results in one batching window built facts
 * too large to sign, retried them forever, and its job never finished.
 */
export function batchLength (pending: ReadonlyArray<{ bytes: Uint8Array }>): number {
  let n = 0
  let inline = 0
  while (n < pending.length && n < MAX_RESULTS_PER_FACT) {
    const size = pending[n].bytes.length
    const add = size <= INLINE_RESULT_MAX_BYTES ? size : 0
    if (n > 0 && inline + add > MAX_INLINE_BYTES_PER_FACT) break
    inline += add
    n++
  }
  return n
}

/** A job's tasks as this peer ranks them, for one view of the live peers (see `ranksOf`). */
interface RankTable {
  live: readonly string[]
  /** Each task's input shard's Kademlia key. */
  keys: Uint8Array[]
  /** Each task's rendezvous hash (`keyHash` of `job/index`). */
  hashes: Uint32Array[]
  /** How many live peers outscore this peer, per task. */
  ranks: Uint16Array
  /** 1 where this peer is the task's designated peer. */
  designated: Uint8Array
  /** This peer's rendezvous score, per task. */
  scores: Float64Array
}
