/**
 * jobs/constants: the job layer's limits, timings and wire names, each with
 * the rule it sets and why. Never computed values or state; the measurements
 * behind the timings are in docs/decisions/jobs-*.md.
 */

// ---------------------------------------------------------------- wire names

/** The gossip topic every job fact travels on; peers on other versions of it never see these facts. */
export const JOBS_TOPIC = 'edgeswarm/jobs/1'
/** The anti-entropy protocol by which a peer pulls the job facts it missed from another. */
export const JOB_SYNC_PROTOCOL = '/edgeswarm/job-sync/2.0.0'

// ---------------------------------------------------------------- sizes of facts and jobs

/** Largest encoded fact (a gossip message or a sync frame): the same on every peer, so a fact one peer accepts every peer can carry. */
export const MAX_FACT_BYTES = 512 * 1024
/** Largest encoded job document: it travels inside a `job` fact, so it leaves room in MAX_FACT_BYTES for the envelope and signature. */
export const MAX_JOB_DOCUMENT_BYTES = 448 * 1024
/** Most input shards one job may have (its tasks are at most as many): every peer folds and ranks every task and keeps every shard entry, so the count bounds each peer's work per job. */
export const MAX_SHARDS_PER_JOB = 10_000
/** Most consecutive shards one task reads (JobSpec.shardsPerTask): 16 MiB at the largest chunk size, within a small device's memory. */
export const MAX_SHARDS_PER_TASK = 16
/** Input bytes a gradient round's task reads when the input's shards are smaller (training.ts shardsPerTaskFor). */
export const TRAIN_TASK_INPUT_BYTES = 1024 * 1024
/** Fewest tasks a pass of a training is grouped down to, so that many peers still share every round. */
export const MIN_GROUPED_TRAIN_TASKS = 32
/** Most input files one job may have: submit reads each input's root before announcing the job. */
export const MAX_INPUTS_PER_JOB = 5_000
/** Most peers that run the same task: a result needs a majority of them, and each run costs a slot somewhere. */
export const MAX_REDUNDANCY = 7
/** Failures a task may have before its job fails, when the spec does not say: a failure may be the peer's, not the task's, so one is not enough. */
export const DEFAULT_MAX_ATTEMPTS = 3
/** Most failures a spec may allow per task: past it a broken task only burns the swarm's time. */
export const MAX_ATTEMPTS_LIMIT = 20
/** Claim lease when the spec does not say: a task whose holder stops renewing is open to others after it, so a dead peer costs this long. */
export const DEFAULT_LEASE_MS = 3_000
/** Shortest lease a spec may ask for: a lease must outlast the gossip of its renewal. */
export const MIN_LEASE_MS = 200
/** Longest lease a spec may ask for: a dead holder keeps its tasks for a whole lease. */
export const MAX_LEASE_MS = 600_000
/** A fact stamped further than this in the future is rejected, so an author cannot hold a lease open by its clock; clocks may differ by less. */
export const MAX_CLOCK_SKEW_MS = 30_000
/** Task results up to this size travel inline in the result fact (and in the batch block it names), so most results need no transfer of their own. */
export const INLINE_RESULT_MAX_BYTES = 16 * 1024
/** Most task ids in one claim or renewal: keeps the fact well inside MAX_FACT_BYTES. */
export const MAX_TASKS_PER_FACT = 2_000
/** Most bytes of inline results in one result fact: what MAX_FACT_BYTES leaves for them after the envelope, signature and MAX_RESULTS_PER_FACT entries' hashes. */
export const MAX_INLINE_BYTES_PER_FACT = 384 * 1024
/** Most results in one result fact: their hashes must fit the fact beside MAX_INLINE_BYTES_PER_FACT of inline data. */
export const MAX_RESULTS_PER_FACT = 500
/** Longest reason string in a failure fact: enough to say why, bounded because every peer keeps every fact. */
export const MAX_REASON_CHARS = 500
/**
 * A final result up to this size travels inline in the `done` fact, which
 * every peer keeps: the job is done as soon as it is reduced, and the copy in
 * the swarm is stored in the background instead of delaying the end.
 */
export const INLINE_DONE_MAX_BYTES = 64 * 1024
/**
 * Fact envelopes whose verified signature a process remembers: peers sharing a
 * process get a fact within moments of each other and check it once. Each
 * entry is about 100 bytes, and a device running one peer fills the cache
 * over hours without a hit, so it covers moments, not history.
 */
export const MAX_VERIFIED_ENVELOPES = 16_384
/**
 * How long a peer holds back forwarding a gossiped fact of GOSSIP_IDONTWANT_MIN_BYTES or
 * more once it accepted it. Its author sends it to every peer on the topic at once, and each
 * receiver tells its mesh peers IDONTWANT on receipt; a forward decided before those arrive
 * goes to a peer that has the fact. Only the forward waits (it serves peers the author may
 * not reach): the fact counts here at once.
 */
export const FACT_FORWARD_PAUSE_MS = 10
/** Facts a process keeps opened (decoded, validated, with their ids) for the peers it hosts, newest kept: they get a gossiped fact within moments of each other. */
export const MAX_OPENED_FACTS = 1_024
/** Envelope bytes those opened facts hold at most, so the cache stays small whatever the facts' sizes. */
export const MAX_OPENED_FACT_BYTES = 16 * 1024 * 1024

// ---------------------------------------------------------------- iterative jobs

/**
 * Most passes one job may have: a training's rounds (at most 100,000) and its scan. Every
 * peer keeps every pass's facts and recomputes every pass's reduce, so the count bounds both.
 */
export const MAX_PASSES_PER_JOB = 100_001
/**
 * Largest state of an iterative job's pass (a model, at most a few hundred KiB): it travels
 * inside its `pass` fact, which every peer keeps, so peers check it and run the next pass
 * without fetching anything; it leaves room in MAX_FACT_BYTES as a job document does. A pass
 * whose state is larger fails.
 */
export const MAX_PASS_STATE_BYTES = 448 * 1024
/**
 * How long a `pass` (or an iterative job's `done`) fact that cannot be checked yet waits here
 * for what it needs (the pass's results, the state before it): results and a pass fact race
 * on gossip, and a device catching up gets them out of order. Past it the fact is dropped,
 * unaccepted, and comes again with a later sync.
 */
export const PASS_FACT_WAIT_MS = 60_000
/** Most facts of one job that wait to be checked (see PASS_FACT_WAIT_MS), oldest dropped first: they cost memory until they are checked. */
export const MAX_WAITING_PASS_FACTS = 256
/** Largest block a function's `blockParams` may name (a model): submit and every executor of the job read it whole into memory. */
export const MAX_PARAM_BLOCK_BYTES = 16 * 1024 * 1024
/** Computed pass outcomes and final results a process keeps per iterative function (the reducers' and the checks' shared work), oldest dropped first. */
export const MAX_CACHED_PASS_OUTCOMES = 64

// ---------------------------------------------------------------- sync

/** How often a peer runs anti-entropy with one random connected peer: gossip is the fast path, so this only bounds how long a missed fact stays missed. */
export const SYNC_INTERVAL_MS = 3_000
/** Time limit of one sync exchange, both sides: a peer that stalls cannot hold a stream or a requester forever. */
export const SYNC_TIMEOUT_MS = 10_000
/** Most facts one sync offers (and so sends): bounds a served exchange; what is left comes in the next one. */
export const MAX_SYNC_FACTS = 50_000
/** Most fact ids in one frame of a sync's offer or want list, so a frame of ids stays well inside MAX_FACT_BYTES; longer lists take more frames. */
export const MAX_SYNC_OFFER_IDS = 8_000
/**
 * How long after it finished a job is still named in sync summaries: its late facts (another
 * reducer's `done`) have reached every live peer by then, and a summary of every job kept
 * would grow with the days of jobs retention keeps, on every exchange.
 */
export const SYNC_FINISHED_WINDOW_MS = 10 * 60_000
/** Most bytes the jobs of one sync summary take: the summary is one frame, well inside MAX_FACT_BYTES; the newest jobs go first. */
export const MAX_SYNC_SUMMARY_BYTES = 256 * 1024
/** Most jobs whose witnesses (peers that showed by sync they hold it) are counted, the most recently witnessed kept: a submit waits on its own new job only. */
export const MAX_WITNESSED_JOBS = 10_000
/** Inbound sync streams one connection may hold at once: a peer runs one exchange with another at a time, so this only bounds a misbehaving one. */
export const JOB_SYNC_MAX_INBOUND_STREAMS = 32
/** Pause between a new connection and the sync with its peer, so the connection has finished setting up before the sync stream opens. */
export const SYNC_ON_CONNECT_DELAY_MS = 200

// ---------------------------------------------------------------- find and results

/** Connected peers a lookup of an unknown job syncs with at once: enough that one busy peer does not make the job look unknown. */
export const FIND_SYNC_PEERS = 8
/** How long a lookup of an unknown job waits for a peer to answer when its caller sets no limit: a device just started has no connection yet. */
export const JOB_FIND_TIMEOUT_MS = 30_000
/** Pause between rounds of such a lookup when no peer answered and none connected, so a lookup waiting for a peer does not spin. */
export const FIND_RETRY_MS = 1_000
/** Connected peers a result waiter syncs with before it reports a job failed: its own view may be partial, and a result elsewhere outweighs the failures. */
export const FAILURE_CHECK_PEERS = 3
/** Progress events of a job are coalesced to at most one per this interval, so a burst of facts makes one event. */
export const PROGRESS_INTERVAL_MS = 50

// ---------------------------------------------------------------- reduce

/**
 * The peer ranked r-th to reduce a job waits r x this for a `done` fact before
 * reducing itself, so a dead reducer costs a few seconds and a slow one is not
 * joined by every peer at once; also the pause before a failed reduce is tried again.
 */
export const REDUCE_GRACE_MS = 2_000

// ---------------------------------------------------------------- submit

/** Longest `submit` waits for another peer to show it knows a new job, so the submitter may leave once it returns. */
export const SUBMIT_WITNESS_TIMEOUT_MS = 5_000
/** Input roots `submit` reads at once: each read mostly waits on other peers, so reads overlap. */
export const SUBMIT_MANIFEST_CONCURRENCY = 32
/** Times submit asks for one input's root before it fails: on a loaded swarm one ask can run out of time while the root is there. */
export const SUBMIT_MANIFEST_ATTEMPTS = 3
/** Pause between two asks for an input's root that was not found, so a quick "nobody holds it" is not asked again at once. */
export const SUBMIT_ROOT_RETRY_MS = 1_000
/** Connected peers a submitter syncs with right after announcing a job, so they pull it even if its gossip missed them. */
export const SUBMIT_NUDGE_PEERS = 3

// ---------------------------------------------------------------- how jobs end

/** Shortest deadline a spec may ask for: a job must outlast its own announcement and a first claim. */
export const MIN_DEADLINE_MS = 1_000
/** Longest deadline a spec may ask for: beyond it a deadline says nothing a retention would not. */
export const MAX_DEADLINE_MS = 365 * 24 * 3_600_000
/**
 * Longest single wait of a deadline's timer: Node's timers fire at once past 2^31 − 1 ms,
 * so a longer wait is made of several.
 */
export const MAX_JOB_TIMER_MS = 2_147_483_647

// ---------------------------------------------------------------- can anyone run it

/** Most names (labels, functions) a "nobody can run this job" warning lists of what the live peers have, so the line stays a line. */
export const MAX_WARNING_NAMES = 8

// ---------------------------------------------------------------- retention

/** How long a finished job (done, failed or canceled) is kept after its last fact, when the operator does not say: a few days to fetch its result. */
export const DEFAULT_JOB_KEEP_MS = 3 * 24 * 3_600_000
/** Longest pause between two looks for finished jobs past their retention (shorter when the retention is). */
export const JOB_RETENTION_CHECK_MS = 60_000
/**
 * How long a finished job stays whole in memory after its last fact was applied or its facts
 * were read back: late facts (another reducer's `done`) and the readers of its result find it
 * there; after it, only its summary stays in memory and its facts on disk (fact-store.ts).
 */
export const FINISHED_JOB_IDLE_MS = 60_000
/** How often the fact store looks for idle finished jobs, at most (a shorter idle time looks as often as it). */
export const FINISHED_JOB_SWEEP_MS = 15_000
/** Shortest idle time of a finished job accepted: the store looks for idle jobs no more often than this. */
export const MIN_FINISHED_JOB_IDLE_MS = 100
/**
 * How long a collected job's tombstone is kept: a peer that still holds the job (it was
 * offline, or keeps jobs longer) would otherwise sync it back; past this horizon such a
 * peer has collected it too, or is gone.
 */
export const JOB_TOMBSTONE_MS = 30 * 24 * 3_600_000
/** Most tombstones kept, oldest dropped first: each is a job id and a time, in memory and in the datastore. */
export const MAX_JOB_TOMBSTONES = 100_000

// ---------------------------------------------------------------- persistence

/** Facts are written to the datastore in batches of up to this many: a write per fact costs a busy peer more than the fact. */
export const FACT_PERSIST_BATCH = 512
/** Longest an accepted fact waits before it is written; the few a crash loses come back by sync. */
export const FACT_PERSIST_DELAY_MS = 200
