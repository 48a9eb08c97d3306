/**
 * scheduler/constants: every limit and timing of the pull scheduler and the
 * task executor, one place, each with its rule and reason. The reasoning
 * behind the tuned ones is in docs/decisions/scheduler-*.md.
 *
 * Never imports anything but the job layer's lease default it is bound to.
 */
import { DEFAULT_LEASE_MS } from '../jobs/index.ts'

/** How often a peer runs a scheduling round even when no fact arrived: leases lapse and staggers end without one. */
export const SCHEDULER_ROUND_MS = 200

/** Least time between two scheduling rounds: a burst of facts costs one round, not one each. */
export const MIN_SCHEDULER_ROUND_GAP_MS = 25

/**
 * Tasks claimed ahead per slot, at least. A task's measured time is its wall
 * time, which overstates its work when slots outnumber free cores, so claims
 * sized by CLAIM_BATCH_TARGET_MS alone come out too small and cost a claim
 * fact (and the results that ride on it) every few tasks.
 */
export const MIN_CLAIM_AHEAD_PER_SLOT = 8

/** Tasks claimed ahead per slot, at most: very fast tasks still leave work for the other peers. */
export const MAX_CLAIM_AHEAD_PER_SLOT = 64

/** Work one claim should hold per slot, in ms of the peer's measured task time: few claims for fast tasks, small ones for slow tasks. */
export const CLAIM_BATCH_TARGET_MS = 250

/** The task time a peer assumes before it has run any task (it sizes its first claim). */
export const INITIAL_TASK_MS = 50

/** Weight of the latest run in the moving average of task time: claim sizes follow a change of workload within a few runs. */
export const TASK_TIME_WEIGHT = 0.2

/**
 * Queued tasks whose input shards are read ahead, per slot. A task holds its
 * slot until it ends, so a read started only when the task starts leaves the
 * slot idle through network round trips.
 */
export const PREFETCH_PER_SLOT = 8

/**
 * Input shards the executor holds in memory ahead of the tasks that read
 * them, oldest dropped first. A task reads its own shards and the next
 * one, so the scheduler reads ahead only for tasks whose shards fit.
 */
export const MAX_PREFETCHED_SHARDS = 64

/** Compiled WebAssembly modules the executor keeps, by CID: a job runs one module for all its tasks. */
export const MAX_CACHED_MODULES = 16

/** Jobs whose `blockParams` blocks (a model) the executor keeps in memory, oldest dropped first: a job reads its blocks once, not once per task. */
export const MAX_CACHED_PARAM_BLOCKS = 16

/** Input header lines the executor keeps, by input CID (cleared beyond it): a header is read once per input, not once per task. */
export const MAX_CACHED_HEADERS = 256

/** Kademlia ids of peers kept by the rank table (cleared beyond it): an id is a sha256 of the peer id, made once per peer. */
export const MAX_CACHED_KAD_IDS = 10_000

/** Finished results wait at least this long before they are published, so results finishing together share one fact. */
export const RESULT_BATCH_MS = 15

/**
 * Longest a finished result waits for the peer's next claim or renewal to
 * carry it: results go out with the peer's next work request, or once it
 * holds no more work of the job, and at the latest this long after the first
 * of them finished, so a job's results are never held back by a long task.
 */
export const RESULT_MAX_DELAY_MS = 1_000

/** Pause before a result fact that could not be published is tried again (its tasks' leases are still renewed meanwhile). */
export const RESULT_RETRY_MS = 500

/** How often leases due for renewal are looked for, on a timer of their own, so a slow round never holds a renewal up. */
export const RENEW_CHECK_MS = 200

/**
 * Leases up to this long are renewed half way to expiring, longer ones a
 * third of the way (see renewalDueMs). A short lease belongs to a responsive
 * swarm, where a renewal reaches every peer in tens of ms and half a lease is
 * ample, and each renewal is a fact every peer verifies; a long lease is
 * chosen for hosts whose event loops take seconds a turn, where a renewal
 * needs more of the lease to arrive.
 */
export const SHORT_LEASE_MS = DEFAULT_LEASE_MS

/**
 * Rank steps after a peer first sees a job during which it claims only the
 * tasks it is designated for; then it may steal other open tasks. Every task
 * has one designated peer, which claims within one round of seeing the job,
 * and gossip reaches every peer within one step, so two steps let the
 * designated claims arrive before anyone steals.
 */
export const STEAL_AFTER_RANK_STEPS = 2

/**
 * The stagger of stealing and of reopened tasks, per rendezvous rank: the
 * peer ranked r-th for a task may steal it (STEAL_AFTER_RANK_STEPS + r) steps
 * after it saw the job, so the first-ranked idle peer claims it and the
 * others see that claim before their turn, instead of every idle peer
 * claiming the same task at once. Longer than gossip takes to reach every
 * peer. A scheduler option (`stealRankStepMs`): hosts where gossip takes
 * seconds need longer steps.
 */
export const STEAL_RANK_STEP_MS = 100

/**
 * Ranks beyond this wait no longer for a reopened task (a lapsed lease, a
 * failed run): the best-ranked peers may be busy, or may have run the task
 * already and will not claim it again, so a task must not wait on them.
 */
export const REOPEN_RANK_CAP = 8

/**
 * Rank steps a peer whose attempt at a task failed leaves the task alone:
 * past the turn of every ranked peer (REOPEN_RANK_CAP + 1), so the next
 * attempt is another peer's. A failure can be the peer's own (a device back
 * from a crash with a partial view of the swarm), and the designated peer
 * would otherwise retake a reopened task at once and fail the job. A peer
 * alone in the swarm still retries, later.
 */
export const RETRY_ELSEWHERE_STEPS = REOPEN_RANK_CAP + 2

/**
 * How long a peer leaves a task alone after an attempt that could not search
 * the swarm for its input: the peer saw no peer on the jobs topic, or its
 * search was not conclusive (peers it asked were silent and no DHT lookup
 * finished; see the data layer's conclusiveMiss). Such a miss says nothing of
 * the task, so it is not published as a failure, and the peer tries again
 * once its view of the swarm may have filled in.
 */
export const INCONCLUSIVE_MISS_RETRY_MS = 5_000

/** Failure reasons a scheduler keeps, oldest dropped first: what its counters do not say, for status reports. */
export const MAX_RECENT_FAILURES = 50

/** Highest rank a rank table stores (its ranks are 16-bit): more peers than this rank last alike. */
export const MAX_STORED_RANK = 65_535
