/**
 * sim/constants: every default, limit and timing of the simulation, one
 * place, each with its reason. Plain values only.
 */

/** Peers of a default run: a small edge site. */
export const DEFAULT_PEERS = 12
/** Peers killed during the job by default. */
export const DEFAULT_KILL = 2
/** Killed peers restarted from their repo by default. */
export const DEFAULT_RESTART = 1
/** Churn (leave/join events per minute) by default: none. */
export const DEFAULT_CHURN_PER_MIN = 0
/** Copies of every shard (the data layer's default). */
export const DEFAULT_REPLICAS = 3
/** Peers that run each task. */
export const DEFAULT_REDUNDANCY = 1
/** Default seed: a fixed one, so two plain runs see the same data and faults. */
export const DEFAULT_SEED = '1'
/** Up to this many peers, a single process hosts them all by default. */
export const SINGLE_PROCESS_MAX_PEERS = 16
/** Processes used above SINGLE_PROCESS_MAX_PEERS by default: one per core of the reference machine. */
export const DEFAULT_MULTI_PROCESSES = 2

/** The smallest swarm worth simulating. */
export const MIN_PEERS = 2
/** The largest swarm the simulation accepts (memory: ~20 MB per peer). */
export const MAX_PEERS = 1_000
/** Most peer-hosting child processes. */
export const MAX_PROCESSES = 32
/** Most churn events per minute. */
export const MAX_CHURN_PER_MIN = 600

/** Readings each device generates by default (rows of its CSV, or lines). */
export const DEFAULT_ROWS_PER_DEVICE = 1_000
/**
 * Shard size of the sensor files: small, so each device file is several
 * shards and the job has several tasks per device (tasks = shards).
 */
export const DEFAULT_CHUNK_SIZE = 32 * 1024
/** Claim lease of the sim's jobs: a killed peer's tasks reopen this long after its last renewal. */
export const DEFAULT_LEASE_MS = 2_000
/** Task slots per simulated device: each is a small single-core edge box sharing this machine. */
export const SLOTS_PER_PEER = 1

/** DHT provide/find samples per run. */
export const DEFAULT_DHT_SAMPLES = 24
/** DHT samples measured at once. */
export const DHT_SAMPLE_CONCURRENCY = 4
/** One DHT provide or find is abandoned (and counted as failed) after this. */
export const DHT_SAMPLE_TIMEOUT_MS = 30_000
/** Gossip messages published per run. */
export const DEFAULT_GOSSIP_SAMPLES = 10
/** Pause between gossip samples, so they do not queue behind each other. */
export const GOSSIP_SAMPLE_GAP_MS = 100
/** A gossip message not received by a live peer within this is counted as lost. */
export const GOSSIP_RECEIPT_TIMEOUT_MS = 10_000
/** The topic the sim publishes its latency probes on (every peer subscribes). */
export const SIM_GOSSIP_TOPIC = 'edgeswarm/sim/probe/1'

/** Peers a host starts at once: bursts of inbound dials from one IP are throttled by libp2p. */
export const START_WAVE_SIZE = 10
/** Peers each new peer bootstraps to (the first peer and random earlier ones). */
export const BOOTSTRAP_FANOUT = 3
/** Above this many peers the swarm runs with bounded connections (LIBP2P-NOTES: the DHT tends to all-to-all). */
export const LARGE_SWARM_PEERS = 30
/** Connections a peer keeps at most in a large swarm: at least this many... */
export const LARGE_SWARM_MAX_CONNECTIONS = 40
/**
 * ...and at least this fraction of the swarm. A DHT lookup asks ~k + 3 log2(n)
 * peers, mostly far from each other: with 40 connections out of 200 peers most
 * of its requests dialled first, and every dial is a TCP + Noise handshake,
 * identify both ways and gossip subscriptions, several ms of CPU on each side,
 * and then a trimmed connection to make room. A device pays for an idle
 * connection far less than for a dial.
 */
export const LARGE_SWARM_CONNECTION_FRACTION = 0.5
/**
 * Provider announcements a peer starts per second in a large swarm. Each is a
 * lookup plus 20 ADD_PROVIDER messages, and every holder announces every
 * block: at 200 peers on two cores, announcing as fast as blocks arrive (20/s
 * per peer) kept both hosts saturated and their event loops stalled for
 * seconds. A device announces on its own CPU; 200 simulated ones share two.
 */
export const LARGE_SWARM_PROVIDE_RATE_PER_S = 0.25
/**
 * Repair interval in a large swarm: a pass asks the other holders of every
 * block whether they still have it (3 requests per block and peer). At 200
 * peers on two cores a pass every minute (or two) halved the speed of the
 * data load; runs last minutes and lose at most r-1 holders of a block, and
 * blocks a busy put placed off their closest peers are found through their
 * announcements (retried when they fail), so one pass in five minutes.
 */
export const LARGE_SWARM_REPAIR_INTERVAL_MS = 300_000
/** Connections a peer aims for in a large swarm (random walks stop here). */
export const LARGE_SWARM_TARGET_PEERS = 8
/** Job anti-entropy interval in a large swarm: every sync costs both sides a state walk. */
export const LARGE_SWARM_JOB_SYNC_MS = 6_000
/** Claim lease of the jobs in a large swarm (event loops stall longer; see options.ts). */
export const LARGE_SWARM_LEASE_MS = 6_000
/**
 * Above this many peers two cores carry a hundred peers each: event-loop
 * stalls of several seconds are common, a 6 s lease lapses under tasks that
 * are still running, and every idle peer then claims the task again.
 */
export const HUGE_SWARM_PEERS = 100
/**
 * Stagger of stealing and of reopened tasks per rendezvous rank above
 * HUGE_SWARM_PEERS peers: the next-ranked idle peer must see the claim before
 * its turn, and there gossip takes seconds (100 ms drew 10-20 claims per task).
 */
export const HUGE_SWARM_STEAL_RANK_STEP_MS = 1_000
/**
 * Claim lease above HUGE_SWARM_PEERS peers (renewed every third of it). Once
 * a job runs there, a host's event loop took up to 40 s a turn (timers,
 * renewals among them, fire once a turn): a 20 s lease lapsed under running
 * tasks, every lapse drew new claims, and the facts made the turns longer.
 * A killed peer's tasks run elsewhere a minute later, in a job of minutes.
 */
export const HUGE_SWARM_LEASE_MS = 60_000
/**
 * Gossipsub's lazy gossip above HUGE_SWARM_PEERS: none. At each heartbeat a
 * peer lists the ids of the messages of its last three heartbeats (up to
 * 5,000) to a quarter of its topic peers outside the mesh (~20 of ~85 here),
 * and each of them asks for those it has not processed yet. With a hundred
 * peers to a core a heartbeat comes late, its window spans everything since
 * the last one, and a peer whose event loop is behind asks for almost every
 * message again: in one 200-peer job a host sent 39,000 requested messages
 * and asked for 39,000 in 10 s while its partner's event loop ran 80 s late.
 * The mesh carries every message, and the job sync repairs what it misses.
 */
export const HUGE_SWARM_GOSSIP_LAZY_PEERS = 0

/**
 * Up to this many peers a simulated swarm is (nearly) fully connected (a peer
 * dials until it has targetPeers, 12, and the DHT's own dials add the rest: 9-14
 * connections per peer at 12 peers, kills included), so a fact's flood publish
 * reaches (nearly) every peer at once and mesh forwarding only sends duplicates.
 */
export const SMALL_SWARM_PEERS = 16
/**
 * gossipsub's mesh degree up to SMALL_SWARM_PEERS: 1 (each receiver forwards a
 * message to one or two mesh peers, so a peer the publisher missed still gets
 * it in one hop). At gossipsub's 6 an 8-peer swarm sent each fact ~40 times for
 * 7 receivers: 4.2-5.1 ms of CPU per fact against 1.9 ms at 1.
 */
export const SMALL_SWARM_GOSSIP_MESH_DEGREE = 1
/**
 * Provider announcements a peer starts per second above HUGE_SWARM_PEERS:
 * one in 50 s. At 200 peers no announcement finished within its 30 s (each
 * failed one is tried 4 times), and in a job two thirds of a host's DHT
 * requests were their lookups, on hosts already saturated. Blocks are placed
 * on their closest peers, which a lookup for the key reaches without any
 * announcement.
 */
export const HUGE_SWARM_PROVIDE_RATE_PER_S = 0.02
/**
 * Connection set-up limit above HUGE_SWARM_PEERS peers, dialling and answering:
 * a host of 100 peers turned its event loop once in 1 s (p50) to 23 s (p99), a
 * Noise handshake needs a few turns, and with libp2p's 6-10 s a device restarted
 * at 200 peers reached no peer in 20 min.
 */
export const HUGE_SWARM_HANDSHAKE_TIMEOUT_MS = 60_000
/** Limit of the job phase above HUGE_SWARM_PEERS peers: reading hundreds of input roots and the tasks take minutes there. */
export const HUGE_SWARM_JOB_TIMEOUT_MS = 1_800_000
/** Inbound connections per second accepted from one host: every sim peer shares 127.0.0.1. */
export const SIM_INBOUND_CONNECTION_THRESHOLD = 10_000
/** Connections every peer must have before the scenario starts. */
export const MIN_READY_CONNECTIONS = 2
/** How long the swarm may take to connect and mesh, per peer, on top of SWARM_READY_BASE_MS. */
export const SWARM_READY_PER_PEER_MS = 400
export const SWARM_READY_BASE_MS = 20_000
/** Gossip meshes need a few heartbeats (1 s each) after subscriptions are known. */
export const MESH_SETTLE_MS = 2_000

/** Default limit of the whole job phase (submit → verified result). */
export const DEFAULT_JOB_TIMEOUT_MS = 300_000
/**
 * Times the submitting device asks for each input's root (30 s each) before its
 * submit fails: at 200 peers on two cores three were not enough for every root
 * (the submit is still bounded by the job phase's limit).
 */
export const SIM_SUBMIT_ROOT_ATTEMPTS = 20
/** A job submitted when the job phase's time is (nearly) used up still gets this long. */
export const MIN_SUBMIT_TIMEOUT_MS = 10_000
/** How often the coordinator polls job progress (it triggers the faults). */
export const PROGRESS_POLL_MS = 50
/** Faults are triggered when this fraction of tasks is done, spread over [min, max). */
export const KILL_FRACTION_MIN = 0
export const KILL_FRACTION_MAX = 0.5
/** A killed peer is restarted from its repo after this long (seeded in [min, max)). */
export const RESTART_DELAY_MIN_MS = 500
export const RESTART_DELAY_MAX_MS = 2_000
/** A churned peer stays away this long before it comes back from its repo (seeded in [min, max)). */
export const CHURN_AWAY_MIN_MS = 1_000
export const CHURN_AWAY_MAX_MS = 4_000
/**
 * Longest the run waits after the data load for the devices' provider
 * announcements (and the placement they settle); past it they go on in the
 * background during the measurements and the job.
 */
export const ANNOUNCE_TIMEOUT_MS = 180_000
/** How long a restarted peer may take to fetch the job result. */
export const REFETCH_TIMEOUT_MS = 60_000
/** Characters of the job result shown in the report. */
export const RESULT_PREVIEW_CHARS = 160
/** How often hosts sample their RSS. */
export const RSS_SAMPLE_MS = 1_000

/** A request to a child host that gets no answer within this fails. */
export const HOST_REQUEST_TIMEOUT_MS = 600_000
/** A request that carries its own time limit (`timeoutMs`) gets that long plus this to answer. */
export const HOST_REQUEST_MARGIN_MS = 30_000
/** A child host must say it is ready within this after the fork. */
export const HOST_READY_TIMEOUT_MS = 60_000
/** A child host that does not exit this long after `shutdown` is killed. */
export const HOST_EXIT_TIMEOUT_MS = 20_000
/** How long a kill waits for the counters of the one-device process it is about to end. */
export const CRASH_SNAPSHOT_TIMEOUT_MS = 5_000
/** Old-space limit of child hosts (MB): a hundred peers are ~2 GB of heap. */
export const HOST_MAX_OLD_SPACE_MB = 8_192
/**
 * Young-generation size of a host process (MB per semi-space; V8's default is
 * 16). A host of 100 peers allocates fast (frames, buffers, promises) and a
 * small nursery promotes much of it, which then costs full collections.
 */
export const HOST_MAX_SEMI_SPACE_MB = 64
/** Bytes of a child host's stderr kept for error messages. */
export const HOST_STDERR_TAIL_BYTES = 4_096
