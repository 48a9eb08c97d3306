/**
 * sim/constants: every default, limit and timing of the simulation, one
 * place, each with its rule and reason. Plain values only; the tuning of the
 * devices themselves is node/tuning.ts's `crowded` profile and the fields
 * sim/tuning.ts sets.
 */

/** Peers of a default run: a small edge site. */
export const DEFAULT_PEERS = 12
/** Peers killed during the job by default. */
export const DEFAULT_KILL = 2
/** Killed peers restarted from their repo by default. */
export const DEFAULT_RESTART = 1
/** Churn (leave/join events per minute) by default: none. */
export const DEFAULT_CHURN_PER_MIN = 0
/** Peers that run each task. */
export const DEFAULT_REDUNDANCY = 1
/** Default seed: a fixed one, so two plain runs see the same data and faults. */
export const DEFAULT_SEED = '1'
/** Up to this many peers, a single process hosts them all by default. */
export const SINGLE_PROCESS_MAX_PEERS = 16
/** Processes used above SINGLE_PROCESS_MAX_PEERS by default: one per core of the reference machine (2 cores). */
export const DEFAULT_MULTI_PROCESSES = 2

/** The smallest swarm worth simulating. */
export const MIN_PEERS = 2
/** The largest swarm the simulation accepts: each peer holds tens of MB of memory. */
export const MAX_PEERS = 1_000
/** Most peer-hosting child processes. */
export const MAX_PROCESSES = 32
/** Most churn events per minute. */
export const MAX_CHURN_PER_MIN = 600

/** Readings each device generates by default (rows of its CSV, or lines). */
export const DEFAULT_ROWS_PER_DEVICE = 1_000
/**
 * Shard size of the devices' files: small, so each device file is several
 * shards and the job has several tasks per device (tasks = shards).
 */
export const SIM_CHUNK_SIZE = 32 * 1024
/** Claim lease of the sim's jobs: a killed peer's tasks reopen this long after its last renewal. */
export const SIM_LEASE_MS = 2_000
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

/**
 * Up to this many peers a simulated swarm is nearly fully connected (a peer
 * dials until it has the default target of 12, and the DHT's own dials add
 * the rest), so a fact's flood publish reaches nearly every peer at once.
 */
export const SMALL_SWARM_PEERS = 16
/**
 * gossipsub's mesh degree up to SMALL_SWARM_PEERS: 1. Where the flood
 * publish already reaches every peer, mesh forwarding only sends duplicates;
 * one mesh peer still carries a message to a peer the publisher missed.
 */
export const SMALL_SWARM_GOSSIP_MESH_DEGREE = 1
/**
 * Above this many peers the swarm runs with bounded connections and slower
 * background work (announcements, repair, job sync): the DHT tends towards
 * all-to-all connections, and peers share the machine's cores.
 */
export const LARGE_SWARM_PEERS = 30
/** Connections a peer aims for in a large swarm (random walks stop here). */
export const LARGE_SWARM_TARGET_PEERS = 8
/** Connections a peer keeps at most in a large swarm: at least this many... */
export const LARGE_SWARM_MAX_CONNECTIONS = 40
/**
 * ...and at least this fraction of the swarm. A DHT lookup asks ~k + 3 log2(n)
 * peers, mostly far from each other, and a request to an unconnected peer
 * costs both sides a dial (TCP, Noise, identify, gossip subscriptions) and
 * then a trimmed connection to make room: an idle connection costs far less.
 */
export const LARGE_SWARM_CONNECTION_FRACTION = 0.5
/**
 * Provider announcements a peer starts per second in a large swarm. Each is
 * a lookup plus 20 ADD_PROVIDER messages and every holder announces every
 * block: a device announces on its own CPU, where simulated devices share the
 * machine's cores.
 */
export const LARGE_SWARM_PROVIDE_RATE_PER_S = 0.25
/** Claim lease of the jobs in a large swarm: event loops of shared hosts stall for a second and more. */
export const LARGE_SWARM_LEASE_MS = 6_000
/**
 * Above this many peers each core carries a hundred peers or so, and every
 * device runs node/tuning.ts's `crowded` profile.
 */
export const CROWDED_SWARM_PEERS = 100
/**
 * Claim lease of the jobs above CROWDED_SWARM_PEERS (renewed every third of
 * it). A host's event loop there takes seconds to tens of seconds a turn, and
 * renewals fire once a turn: a shorter lease lapses under running tasks, each
 * lapse draws new claims, and their facts make the turns longer still.
 */
export const CROWDED_SWARM_LEASE_MS = 60_000
/** Limit of the job phase above CROWDED_SWARM_PEERS: reading hundreds of input roots and the tasks take minutes there. */
export const CROWDED_SWARM_JOB_TIMEOUT_MS = 1_800_000
/** Inbound connections per second accepted from one host: every sim peer shares 127.0.0.1. */
export const SIM_INBOUND_CONNECTION_THRESHOLD = 10_000

/** Connections every peer must have before the scenario starts. */
export const MIN_READY_CONNECTIONS = 2
/** How long the swarm may take to connect and mesh: SWARM_READY_BASE_MS plus this per peer. */
export const SWARM_READY_PER_PEER_MS = 400
/** How long the swarm may take to connect and mesh, whatever its size (see SWARM_READY_PER_PEER_MS). */
export const SWARM_READY_BASE_MS = 20_000
/** How often the coordinator asks the hosts whether the swarm is connected. */
export const READY_POLL_MS = 500
/** Gossip meshes need a few heartbeats (1 s each) after subscriptions are known. */
export const MESH_SETTLE_MS = 2_000

/** Devices putting their readings at once, over the whole swarm. */
export const LOAD_CONCURRENCY = 16
/**
 * Longest the run waits after the data load for the devices' provider
 * announcements (and the placement they settle); past it they go on in the
 * background during the measurements and the job.
 */
export const ANNOUNCE_TIMEOUT_MS = 180_000

/** Default limit of the whole job phase (submit → verified result). */
export const DEFAULT_JOB_TIMEOUT_MS = 300_000
/**
 * Times the submitting device asks for each input's root (30 s each) before
 * its submit fails: on a saturated swarm a root takes several asks to find,
 * and the submit is still bounded by the job phase's limit.
 */
export const SIM_SUBMIT_ROOT_ATTEMPTS = 20
/** A job submitted when the job phase's time is (nearly) used up still gets this long. */
export const MIN_SUBMIT_TIMEOUT_MS = 10_000
/** How often the coordinator polls job progress (it triggers the faults). */
export const PROGRESS_POLL_MS = 50
/** Faults are triggered when this fraction of tasks is done, spread over [min, max). */
export const KILL_FRACTION_MIN = 0
/** Upper end of the fault trigger fractions (see KILL_FRACTION_MIN). */
export const KILL_FRACTION_MAX = 0.5
/** A killed peer is restarted from its repo after this long (seeded in [min, max)). */
export const RESTART_DELAY_MIN_MS = 500
/** Upper end of the restart delay (see RESTART_DELAY_MIN_MS). */
export const RESTART_DELAY_MAX_MS = 2_000
/** A churned peer stays away this long before it comes back from its repo (seeded in [min, max)). */
export const CHURN_AWAY_MIN_MS = 1_000
/** Upper end of the time away (see CHURN_AWAY_MIN_MS). */
export const CHURN_AWAY_MAX_MS = 4_000
/** How long a restarted peer may take to fetch the job result. */
export const REFETCH_TIMEOUT_MS = 60_000
/** Characters of the job result shown in the report. */
export const RESULT_PREVIEW_CHARS = 160
/** Largest result a host sends back whole, as text (a training's JSON, whose model CID a later job takes). */
export const RESULT_TEXT_MAX_BYTES = 1024 * 1024
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
/** How long a kill waits for the counters of the one-device process it is about to end: a kill is never held up by the device it kills. */
export const CRASH_SNAPSHOT_TIMEOUT_MS = 5_000
/** Old-space limit of child hosts (MB): a hundred peers are a few GB of heap. */
export const HOST_MAX_OLD_SPACE_MB = 8_192
/**
 * Young-generation size of a host process (MB per semi-space; V8's default is
 * 16). A host of many peers allocates fast (frames, buffers, promises) and a
 * small nursery promotes much of it, which then costs full collections.
 */
export const HOST_MAX_SEMI_SPACE_MB = 64
/** Bytes of a child host's stderr kept for error messages. */
export const HOST_STDERR_TAIL_BYTES = 4_096
