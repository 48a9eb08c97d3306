/**
 * Limits and timings of jobs, one place, each with its reason.
 */

/** The gossip topic every job fact travels on. */
export const JOBS_TOPIC = 'edgeswarm/jobs/1'
/** The anti-entropy protocol: a peer catches up on job facts from another. */
export const JOB_SYNC_PROTOCOL = '/edgeswarm/job-sync/2.0.0'

/** Largest encoded fact (gossip message or sync frame); every peer uses the same limit. */
export const MAX_FACT_BYTES = 512 * 1024
/** Largest job document: the task list of a 1 GiB input at 256 KiB chunks fits easily. */
export const MAX_JOB_DOCUMENT_BYTES = 448 * 1024
/** Most tasks one job may have. */
export const MAX_TASKS_PER_JOB = 10_000
/** Most input files one job may have. */
export const MAX_INPUTS_PER_JOB = 5_000
/** Most peers that run the same task (redundancy). */
export const MAX_REDUNDANCY = 7
/** Default times a task may fail before its job fails. */
export const DEFAULT_MAX_ATTEMPTS = 3
/** Default claim lease: a task whose holder stops renewing is open again after this. */
export const DEFAULT_LEASE_MS = 3_000
/** A fact stamped this far in the future (clock skew) is rejected. */
export const MAX_CLOCK_SKEW_MS = 30_000
/** Task results up to this size travel inline in the result fact (and in a batch block stored in the swarm, which the fact names). */
export const INLINE_RESULT_MAX_BYTES = 16 * 1024
/** Most task ids in one claim or renewal fact. */
export const MAX_TASKS_PER_FACT = 2_000
/**
 * Most bytes of inline results in one result fact: what is left of
 * MAX_FACT_BYTES for the envelope, the signature and up to
 * MAX_RESULTS_PER_FACT entries' hashes (~100 bytes each) is ample.
 */
export const MAX_INLINE_BYTES_PER_FACT = 384 * 1024
/** Most results in one result fact. */
export const MAX_RESULTS_PER_FACT = 500
/** How often a peer runs anti-entropy with one random connected peer. */
export const SYNC_INTERVAL_MS = 3_000
/** Connected peers a job's result waiter syncs with before it reports the job failed (its view may be partial). */
export const FAILURE_CHECK_PEERS = 3
/** Fact envelopes whose verified signature a process remembers (see facts.ts; ~100 bytes each). */
export const MAX_VERIFIED_ENVELOPES = 100_000
/** Most facts one sync offers (and so sends). */
export const MAX_SYNC_FACTS = 50_000
/**
 * Most fact ids in one frame of a sync's offer or want list (an id is 43
 * characters: 8,000 fit a 512 KiB frame well); longer lists take more frames.
 */
export const MAX_SYNC_OFFER_IDS = 8_000
/** Connected peers a lookup of an unknown job syncs with at once. */
export const FIND_SYNC_PEERS = 8
/**
 * How long a lookup of an unknown job waits, when its caller sets no limit,
 * for a peer to answer (a device just started has no connection yet).
 */
export const FIND_TIMEOUT_MS = 30_000
/** Pause between rounds of such a lookup when no peer answered and none connected. */
export const FIND_RETRY_MS = 1_000
/** Time limit of one sync exchange. */
export const SYNC_TIMEOUT_MS = 10_000
/**
 * How long the peer ranked r-th to reduce a job waits for a `done` fact
 * before reducing itself: r x REDUCE_GRACE_MS, so a reducer that died costs a
 * few seconds, and a slow one is not joined by every peer at once (at 200
 * peers all of them reduced and stored the same result together, and none
 * finished for minutes). Also the pause before a failed reduce is retried.
 */
export const REDUCE_GRACE_MS = 2_000
/**
 * A final result up to this size travels inline in the `done` fact, which
 * every peer keeps: the reducer announces it as soon as it is computed and
 * stores it in the swarm in the background (at 200 peers on two cores a put
 * took minutes, and the job's end waited on it).
 */
export const INLINE_DONE_MAX_BYTES = 64 * 1024
/** Largest reason string in a failure fact. */
export const MAX_REASON_CHARS = 500
/** Longest `submit` waits for another peer to show it knows a new job. */
export const SUBMIT_WITNESS_TIMEOUT_MS = 5_000
/** Progress events of a job are coalesced to at most one per this interval. */
export const PROGRESS_INTERVAL_MS = 50
/** Input roots `submit` reads at once. */
export const SUBMIT_MANIFEST_CONCURRENCY = 32

/** Facts are written to the datastore in batches of up to this many (see JobService persist). */
export const FACT_PERSIST_BATCH = 512

/** Longest a fact waits before it is written to the datastore. */
export const FACT_PERSIST_DELAY_MS = 200

/** Pause between two asks for an input's root that was not found. */
export const SUBMIT_ROOT_RETRY_MS = 1_000

/** Times submit asks for one input's manifest before it gives up (see JobService manifestOf). */
export const SUBMIT_MANIFEST_ATTEMPTS = 3
