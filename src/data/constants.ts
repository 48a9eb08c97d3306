/**
 * data/constants: every limit and default of the data layer, one place, each
 * with its reason. Never imports anything but plain values.
 */

/** The shard exchange protocol: put / get / has of one content-addressed block. */
export const SHARD_PROTOCOL = '/edgeswarm/shard/1.0.0'

/** Default shard size: 256 KiB, the IPFS default chunk size. */
export const DEFAULT_CHUNK_SIZE = 256 * 1024

/** Smallest accepted chunk size: below this the root object dwarfs the data. */
export const MIN_CHUNK_SIZE = 1024

/** Largest accepted chunk size: 1 MiB, the largest block IPFS peers exchange. */
export const MAX_CHUNK_SIZE = 1024 * 1024

/**
 * Largest block (shard or root) a peer stores or sends. Shards are at most
 * MAX_CHUNK_SIZE and a root with MAX_SHARDS_PER_ROOT entries stays below it.
 */
export const MAX_BLOCK_SIZE = 1024 * 1024

/**
 * Most shards one root may list. Each entry is ~60 bytes of dag-cbor, so a full
 * root stays under MAX_BLOCK_SIZE; at the default chunk size this is 4 GiB, at
 * 1 MiB chunks 16 GiB. Larger inputs must use a larger chunk size.
 */
export const MAX_SHARDS_PER_ROOT = 16_384

/** Largest request/response header frame (JSON) on the shard protocol. */
export const MAX_HEADER_SIZE = 4 * 1024

/** Largest length-prefixed frame on the shard protocol: one block plus slack for a header. */
export const MAX_MESSAGE_SIZE = MAX_BLOCK_SIZE + MAX_HEADER_SIZE

/**
 * A block is pushed to at most this many of the closest peers per wanted copy
 * (the closest first, the next only when one fails): past those the put ends
 * with fewer copies and repair adds the rest.
 */
export const PLACEMENT_CANDIDATES_PER_REPLICA = 4

/** Default number of peers that hold each shard and root. */
export const DEFAULT_REPLICAS = 3

/** Most replicas a put may ask for: every copy costs a transfer and a repair check. */
export const MAX_REPLICAS = 20

/** Bytes stored for other peers by default: 10 GiB (same as the node's config default). */
export const DEFAULT_STORAGE_MAX = 10 * 1024 * 1024 * 1024

/** How often the repair loop checks every held block (ms). */
export const DEFAULT_REPAIR_INTERVAL_MS = 60_000

/** Spread of the repair interval: each wait is the interval times a random factor in 1 ± REPAIR_JITTER / 2. */
export const REPAIR_JITTER = 0.5

/**
 * How often every held block is announced again as a DHT provider (ms).
 * kad-dht's own reprovider only renews records about to expire (24 h); this
 * loop re-announces sooner so records lost with departed DHT peers come back.
 */
export const DEFAULT_REPROVIDE_INTERVAL_MS = 60 * 60 * 1000

/** Default bound of the in-memory cache of fetched shards: 256 MiB. */
export const DEFAULT_CACHE_MAX_BYTES = 256 * 1024 * 1024

/** Shards a put sends at once (each to `replicas` peers): bounds memory to ~this × chunk size. */
export const PUT_CONCURRENCY = 8

/** Shards a get fetches ahead of the consumer: bounds memory to ~this × chunk size (16 MiB at 1 MiB chunks). */
export const GET_PREFETCH = 16

/** Blocks the repair loop checks at once. */
export const REPAIR_CONCURRENCY = 4

/** Provider announcements running at once in the background. */
export const PROVIDE_CONCURRENCY = 4
/**
 * Provider announcements a peer starts per second at most. Each is a DHT
 * lookup plus messages to the closest peers: background work that must not
 * starve transfers and tasks (putting 2,000 small shards makes ~8,000 of them
 * across the swarm).
 */
export const DEFAULT_PROVIDE_RATE_PER_S = 20

/** Provider announcements waiting in the background queue before new ones are dropped (the reprovide loop catches up). */
export const PROVIDE_QUEUE_MAX = 65_536

/** A block fetch asks the next of the closest known peers when one has not answered in this long (a hedge, not a cancel). */
export const FETCH_HEDGE_MS = 300

/** A block fetch starts its provider lookup when the closest known peers have not served it in this long. */
export const LOOKUP_HEDGE_MS = 1_000

/** Queue priority of a file root's announcement: before every queued shard (readers ask for the root first). */
export const ROOT_PROVIDE_PRIORITY = 1

/** A single shard-protocol request (dial, send, answer) must finish within this (ms). */
export const REQUEST_TIMEOUT_MS = 10_000

/** An inbound shard-protocol stream must deliver its request within this (ms). */
export const INBOUND_TIMEOUT_MS = 10_000

/**
 * Looking a block up in the swarm gives up with NotFoundError after this (ms).
 * A block nobody holds ends sooner, once every lookup came back empty; this
 * bounds a lookup in a slow swarm (hundreds of peers sharing two cores needed
 * more than 12 s).
 */
export const FIND_TIMEOUT_MS = 30_000

/** A DHT closest-peers lookup is cut off after this (ms); what was found so far is used. */
export const LOOKUP_TIMEOUT_MS = 5_000

/** Providers asked per block before falling back to the closest peers. */
export const MAX_PROVIDERS = 20

/** Concurrent inbound/outbound shard streams per connection. */
export const MAX_STREAMS_PER_CONNECTION = 64

/** A provider announcement is abandoned after this (ms); the next pass retries. */
export const PROVIDE_TIMEOUT_MS = 30_000

/** Shards whose holders `stat` checks at once. */
export const STAT_CONCURRENCY = 8

/**
 * How long (ms) a complete view of a small swarm (a DHT lookup that found
 * fewer than k peers, i.e. every reachable peer) stands in for per-block
 * lookups. Short, so departed and joined peers are noticed quickly.
 */
export const SWARM_VIEW_TTL_MS = 5_000

/** Announcements wait for this long without new blocks arriving (ms), so they do not compete with a transfer. */
export const PROVIDE_QUIET_MS = 1_000

/** Announcements are never held back longer than this in all (ms). */
export const PROVIDE_MAX_DELAY_MS = 30_000

/** How long a peer found by a lookup stays in the placement view (a dead one is skipped when a push fails). */
export const KNOWN_PEER_TTL_MS = 60_000

/** Attempts of one provider announcement before it waits for the next repair pass. */
export const PROVIDE_ATTEMPTS = 4

/** Wait before announcing again after a failed attempt, times the attempt number. */
export const PROVIDE_RETRY_MS = 5_000

/** Kademlia ids a data service keeps of the peers it has placed blocks among (32 bytes each; cleared when full). */
export const KAD_ID_CACHE_MAX = 10_000
