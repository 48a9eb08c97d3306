/**
 * node/constants: the defaults and limits of the peer layer, each with its rule
 * and reason. Constants only; the decision records under docs/decisions/node-*
 * hold the measurements behind them.
 */

/** The DHT protocol of an edgeswarm swarm: a DHT of its own, apart from the public IPFS DHT. */
export const DHT_PROTOCOL = '/edgeswarm/kad/1.0.0'

/** Default TCP listen addresses of a device: every interface, one fixed port, so peers can find it again. */
export const DEFAULT_LISTEN = ['/ip4/0.0.0.0/tcp/4010']

/** Default RPC API address: loopback only, any free port (the bound one is written to `<repo>/api`). */
export const DEFAULT_API = '127.0.0.1:0'

/**
 * Inbound connections accepted per second from one host. libp2p's default of 5
 * resets dials where many devices share an IP (one machine, one NAT).
 */
export const DEFAULT_INBOUND_CONNECTION_THRESHOLD = 100

/** Upper bound on open connections: the DHT drives a swarm towards all-to-all connections. */
export const DEFAULT_MAX_CONNECTIONS = 300

/** Connections a peer keeps at least: below this it dials what discovery finds and walks the DHT. */
export const DEFAULT_TARGET_PEERS = 12

/**
 * Requests in flight per DHT lookup path (Kademlia's alpha). With one path a
 * lookup asks about k + 3·log2(n) peers, so its cost grows with the log of the
 * swarm (docs/decisions/node-dht-one-path-alpha-3.md).
 */
export const DHT_ALPHA = 3

/** Disjoint paths per DHT lookup: one, Kademlia's own (see DHT_ALPHA). */
export const DHT_DISJOINT_PATHS = 1

/** Shortest timeout kad-dht's adaptive timeout may give one DHT request (the adaptive timeout's own minimum). */
export const DHT_REQUEST_TIMEOUT_MIN_MS = 5_000

/**
 * Longest timeout kad-dht's adaptive timeout may give one DHT request: a peer
 * silent for this long is passed over and the lookup goes on with the next
 * closest, so a few silent peers cannot hold a lookup past its caller's limit
 * (docs/decisions/node-dht-request-timeout-cap.md).
 */
export const DHT_REQUEST_TIMEOUT_MAX_MS = 8_000

/**
 * How long a peer named in DHT answers is not announced again with the same
 * addresses: its routing-table update and peer-store merge happen once per
 * window (docs/decisions/node-discovery-filter.md).
 */
export const DHT_DISCOVERY_TTL_MS = 60_000

/** Largest gossipsub mesh degree a peer accepts (gossipsub's own is 6; each mesh peer gets a copy of every message). */
export const MAX_GOSSIP_MESH_DEGREE = 32

/**
 * Smallest gossip message (bytes) for which a receiver tells its other mesh
 * peers IDONTWANT: below it the control frame costs about as much as the
 * duplicate it saves. Job facts stay below; result batches near their limit do
 * not (docs/decisions/node-gossip-idontwant-threshold.md).
 */
export const GOSSIP_IDONTWANT_MIN_BYTES = 16 * 1024

/** The mDNS service name edgeswarm peers query and answer: LAN peers of edgeswarm find each other, not other libp2p apps. */
export const MDNS_SERVICE_TAG = 'edgeswarm.local'

/** How often mDNS queries the LAN (@libp2p/mdns's default). */
export const MDNS_INTERVAL_MS = 10_000

/** Wait after start before the bootstrap list is reported for dialling (@libp2p/bootstrap's default). */
export const BOOTSTRAP_DELAY_MS = 1_000

/** edgeswarm's version, as package.json says (a test checks they agree): what a peer's status and the CLI report. */
export const EDGESWARM_VERSION = '0.1.0'

// ---------------------------------------------------------------- config.json bounds

/**
 * Longest delay Node's timers accept (2^31 - 1 ms, about 24.8 days): a longer
 * one fires at once with a warning, so a repeating timer set from it spins.
 * Every duration in config.json is bounded below it.
 */
export const MAX_TIMER_DELAY_MS = 2_147_483_647

/** Most listen addresses config.json may hold: each is a socket the peer keeps open. */
export const MAX_CONFIG_LISTEN_ADDRESSES = 16

/** Most bootstrap addresses config.json may hold: a peer alone dials them all every few seconds. */
export const MAX_CONFIG_BOOTSTRAP_ADDRESSES = 256

/** Largest connection limit accepted: each connection holds a socket and its buffers. */
export const MAX_CONFIG_MAX_CONNECTIONS = 10_000

/** Largest inbound connections per second per host accepted (a simulation on one host needs thousands). */
export const MAX_CONFIG_INBOUND_CONNECTION_THRESHOLD = 100_000

/** Most task slots accepted: each slot may hold a sandbox worker and its memory. */
export const MAX_CONFIG_SLOTS = 1_024

/** Most scheduler labels accepted, as many as a job may require. */
export const MAX_CONFIG_LABELS = 32

/** Longest scheduler label accepted, as long as a job's label may be. */
export const MAX_CONFIG_LABEL_LENGTH = 64

/** Shortest repair interval accepted: each pass asks the other holders of every block. */
export const MIN_CONFIG_REPAIR_INTERVAL_MS = 1_000

/** Longest repair interval accepted: blocks lost with a departed peer stay missing this long. */
export const MAX_CONFIG_REPAIR_INTERVAL_MS = 24 * 60 * 60 * 1000

/** Fewest provider announcements per second accepted (one in about 17 minutes): its period is a timer. */
export const MIN_CONFIG_PROVIDE_RATE_PER_S = 0.001

/** Most provider announcements per second accepted. */
export const MAX_CONFIG_PROVIDE_RATE_PER_S = 1_000

/** Shortest connection set-up limit accepted: below a second a loaded peer fails healthy handshakes. */
export const MIN_CONFIG_HANDSHAKE_TIMEOUT_MS = 1_000

/** Longest connection set-up limit accepted. */
export const MAX_CONFIG_HANDSHAKE_TIMEOUT_MS = 600_000

/** Most peers a heartbeat's lazy gossip may go to (gossipsub's own is 6). */
export const MAX_CONFIG_GOSSIP_LAZY_PEERS = 64

/** Shortest job anti-entropy interval accepted: each sync costs both peers a walk of their job state. */
export const MIN_CONFIG_JOB_SYNC_INTERVAL_MS = 100

/** Longest job anti-entropy interval accepted: a peer that missed a fact waits this long for it. */
export const MAX_CONFIG_JOB_SYNC_INTERVAL_MS = 600_000

/** Shortest retention of finished jobs accepted (`jobs.keepMs`; 0 keeps them forever): a job must outlast the wait of those following it. */
export const MIN_CONFIG_JOB_KEEP_MS = 1_000

/** Longest retention of finished jobs accepted: Node's timer limit, as for every config duration. */
export const MAX_CONFIG_JOB_KEEP_MS = MAX_TIMER_DELAY_MS

/** Longest stagger per rendezvous rank accepted: ten ranks of it are a task's longest wait for a steal. */
export const MAX_CONFIG_STEAL_RANK_STEP_MS = 60_000

/** Shortest garbage collection period accepted (`data.gcIntervalMs`; 0 turns it off): each pass walks every block held. */
export const MIN_CONFIG_GC_INTERVAL_MS = 1_000

/** Longest garbage collection period accepted (a day): a device should not wait longer to free space. */
export const MAX_CONFIG_GC_INTERVAL_MS = 24 * 60 * 60 * 1000

/** Shortest garbage grace accepted (`data.gcGraceMs`): a put's shards reach their holders before its root record, so a shorter grace could collect a put in progress. */
export const MIN_CONFIG_GC_GRACE_MS = 60_000

/** Longest garbage grace accepted (24 days, under Node's timer limit). */
export const MAX_CONFIG_GC_GRACE_MS = 24 * 24 * 60 * 60 * 1000

// ---------------------------------------------------------------- connection diagnostics

/** How long a cause of failing connections stays in `status` after it last occurred: a peer alone redials every few seconds, so a lasting cause stays. */
export const CONNECTION_PROBLEM_TTL_MS = 120_000

/** Least time between two log lines for the same cause: an operator needs it once, and again only if it lasts. */
export const CONNECTION_PROBLEM_REPORT_INTERVAL_MS = 600_000

/** Most causes kept at once: inbound failures come from any host. */
export const MAX_CONNECTION_PROBLEMS = 64

/** Most cause reports (log lines) a minute, however many hosts fail: a scan must not flood the log. */
export const MAX_CONNECTION_PROBLEM_REPORTS_PER_MINUTE = 10
