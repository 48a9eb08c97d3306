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
