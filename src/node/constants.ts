/**
 * Limits and defaults of the peer layer, one place, each with its reason.
 */

/** The DHT protocol of an edgeswarm swarm: a swarm of its own, apart from the public IPFS DHT. */
export const DHT_PROTOCOL = '/edgeswarm/kad/1.0.0'

/** Default TCP listen addresses of a real device: all interfaces, a fixed port. */
export const DEFAULT_LISTEN = ['/ip4/0.0.0.0/tcp/4010']

/** Default RPC API address: loopback only, ephemeral port (written to `<repo>/api`). */
export const DEFAULT_API = '127.0.0.1:0'

/**
 * Inbound connections accepted per second from one host. libp2p's default of 5
 * starves swarms where many devices share an IP (one machine, one NAT).
 */
export const DEFAULT_INBOUND_CONNECTION_THRESHOLD = 100

/** Upper bound on open connections: the DHT tends towards all-to-all. */
export const DEFAULT_MAX_CONNECTIONS = 300

/** How many peers a node tries to stay connected to (random walks refill below this). */
export const DEFAULT_TARGET_PEERS = 12

/**
 * Concurrent requests of one DHT lookup path. kad-dht's default is 10 with 10
 * disjoint paths, each converging on its own k closest peers: a lookup then
 * asks up to 10 x 20 peers, most of a swarm of a few hundred, and lookup
 * traffic grew faster than the swarm. Kademlia's alpha of 3 on one path asks
 * about k + 3 log2(n) peers.
 */
export const DHT_ALPHA = 3

/** Disjoint paths of one DHT lookup (S/Kademlia): 1, see DHT_ALPHA. */
export const DHT_DISJOINT_PATHS = 1

/**
 * Longest wait for one DHT request. kad-dht adapts each request's timeout to
 * recent ones, doubling the time of every failure, up to 60 s by default: on a
 * loaded swarm the timeouts grew until a lookup (alpha 3, one path) waited on
 * three silent peers for most of a minute, and block fetches of 30 s found no
 * one (200 peers on two cores: a provider lookup still running after 30 s).
 * A peer that has not answered in 8 s is passed over; the lookup goes on with
 * the next closest.
 */
export const DHT_REQUEST_TIMEOUT_MAX_MS = 8_000

/** Largest gossipsub mesh degree a peer accepts (gossipsub's own is 6; each mesh peer is a copy of every message). */
export const MAX_GOSSIP_MESH_DEGREE = 32

/** Shortest timeout kad-dht's adaptive timeout may pick for one request (its default). */
export const DHT_REQUEST_TIMEOUT_MIN_MS = 5_000

/** A peer the DHT reports again within this long is not re-merged into the peer store (discovery-filter.ts). */
export const DHT_DISCOVERY_TTL_MS = 60_000
