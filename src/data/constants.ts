/**
 * data/constants: every limit and default of the data layer, each with the
 * rule it sets and its reason. Never imports anything and holds plain values
 * only.
 */

// ---------------------------------------------------------------- blocks and the wire

/**
 * The shard exchange protocol: one put, get, has or batched has of content-addressed blocks
 * per stream. Version 2 added the batched has, the puts a pushed block belongs to and the
 * `released` refusal; a peer speaking another version is not asked.
 */
export const SHARD_PROTOCOL = '/edgeswarm/shard/2.0.0'

/** Shard size when none is given: the IPFS default chunk size. */
export const DEFAULT_CHUNK_SIZE = 256 * 1024

/** Smallest chunk size accepted: below it a root's per-shard entries outweigh the data they list. */
export const MIN_CHUNK_SIZE = 1024

/** Largest chunk size accepted: the largest block IPFS peers exchange. */
export const MAX_CHUNK_SIZE = 1024 * 1024

/** Largest block (shard or root) a peer stores or sends: a shard of MAX_CHUNK_SIZE and a root of MAX_SHARDS_PER_ROOT entries both fit. */
export const MAX_BLOCK_SIZE = 1024 * 1024

/** Most shards one root lists, so a full root still fits in MAX_BLOCK_SIZE; a larger input needs a larger chunk size. */
export const MAX_SHARDS_PER_ROOT = 16_384

/** Largest header frame (JSON) on the shard protocol: a header carries a CID and a few numbers, so a larger one is refused before it is parsed. */
export const MAX_HEADER_SIZE = 4 * 1024

/** Most blocks one batched `has` asks about: its CID frame (about 36 bytes a CID) stays far below a block frame, and a holder answers it in one pass. */
export const MAX_HAS_BATCH = 1024

/** Largest length-prefixed frame on the shard protocol, one block plus a header: a larger length prefix resets the stream before anything is read. */
export const MAX_MESSAGE_SIZE = MAX_BLOCK_SIZE + MAX_HEADER_SIZE

/** Shard streams open at once per connection, each way: a put's and a get's concurrency fit, and one peer cannot hold unbounded streams. */
export const MAX_STREAMS_PER_CONNECTION = 64

/** One shard-protocol request (dial, send, answer) ends within this (ms), even if the dial or stream under it ignores its abort. */
export const REQUEST_TIMEOUT_MS = 10_000

/** An inbound shard stream must deliver its request within this (ms) or is reset, so a silent sender holds no stream. */
export const INBOUND_TIMEOUT_MS = 10_000

// ---------------------------------------------------------------- placement and repair

/** Peers that hold each shard and root by default: a block outlives the loss of all but one holder until repair restores the count. */
export const DEFAULT_REPLICAS = 3

/** Most copies a put may ask for: every copy costs a transfer, and a `has` per repair pass. */
export const MAX_REPLICAS = 20

/**
 * Closest peers a put tries per wanted copy (the closest first, the next only
 * when one fails): past them the put ends short and repair adds the rest, so
 * peers that time out cannot stretch a put into a walk over the whole view.
 */
export const PLACEMENT_CANDIDATES_PER_REPLICA = 4

/**
 * Bytes a peer without a repo (in memory) stores for other peers unless told otherwise: it
 * has no filesystem to measure, so its budget is a fixed size. A peer with a repo measures
 * its disk instead (STORAGE_SHARE_FOR_OTHERS).
 */
export const DEFAULT_STORAGE_MAX = 10 * 1024 * 1024 * 1024

/** Period of the repair loop (ms): after holders leave or join, each block is back on its closest live peers within about one period. */
export const DEFAULT_REPAIR_INTERVAL_MS = 60_000

/** Spread of the repair period (each wait is the period times 1 ± REPAIR_JITTER / 2), so peers started together do not repair together. */
export const REPAIR_JITTER = 0.5

/** Blocks a repair pass checks at once: repair is background work and leaves room for puts and gets. */
export const REPAIR_CONCURRENCY = 4

/** Shards a put places at once: bounds its memory to about this many chunks. */
export const PUT_CONCURRENCY = 8

/** A DHT lookup for placement or `stat` is read for this long (ms); what it found by then is used. */
export const LOOKUP_TIMEOUT_MS = 5_000

/**
 * How long (ms) a lookup that found fewer than k peers (every reachable peer:
 * a small swarm, seen whole) stands in for per-block lookups: short, so
 * departed and joined peers are noticed soon.
 */
export const SWARM_VIEW_TTL_MS = 5_000

/** How long (ms) a peer a lookup found stays in the placement view: lookups are spared, and a departed peer leaves the view (a push to it fails and is skipped meanwhile). */
export const KNOWN_PEER_TTL_MS = 60_000

/** Kademlia ids of peers kept so adoption need not hash every peer of the view each time; cleared when full, so its memory is bounded. */
export const KAD_ID_CACHE_MAX = 10_000

/** Peers found by lookups that the view remembers at most (the oldest go first): bounded memory whatever the swarm's size. */
export const KNOWN_PEERS_MAX = 10_000

/** Peers found serving wrong bytes that are remembered (and never asked again) at most, the oldest forgotten first. */
export const MAX_BAD_PEERS = 10_000

/**
 * Peers `stat` asks about each block beyond its replica count, closest first in its
 * view: repair and puts by partial views leave copies a little off the closest peers.
 */
export const STAT_EXTRA_CANDIDATES = 2

/** Peers `stat` asks at once (each a batched `has` of every block it may hold). */
export const STAT_PEER_CONCURRENCY = 16

/**
 * Blocks `stat` found short of their replicas that get a provider lookup, at most, and
 * only when its view did not cover the swarm: past that the holders it saw are the answer,
 * since a lookup per block is what made a large file's stat slow.
 */
export const STAT_MAX_LOOKUPS = 64

/** Provider lookups `stat` runs at once. */
export const STAT_LOOKUP_CONCURRENCY = 4

// ---------------------------------------------------------------- storage that fits the device

/**
 * Share of the repo filesystem's usable space (free space plus what other peers' blocks
 * already take, less the space kept free) that other peers' blocks may take by default:
 * the device's own files and its operator keep the other half.
 */
export const STORAGE_SHARE_FOR_OTHERS = 0.5

/** Free space always kept on the repo's filesystem, at least, before other peers' blocks are accepted: LevelDB needs room to open, flush and compact. */
export const STORAGE_KEEP_FREE_MIN_BYTES = 64 * 1024 * 1024

/** Free space always kept, as a share of the filesystem's size, where that is more than STORAGE_KEEP_FREE_MIN_BYTES: large disks slow down and fragment when nearly full. */
export const STORAGE_KEEP_FREE_FRACTION = 0.05

/**
 * This peer's own writes (its puts, its task results) are refused once the repo's
 * filesystem would have less than this free: below it LevelDB may fail to flush or to
 * open again, which would take the whole peer down, not just the write.
 */
export const STORAGE_WRITE_FLOOR_BYTES = 16 * 1024 * 1024

/** Period (ms) of the free-space reading: other programs write to the same disk, and writes between readings are counted as they happen. */
export const STORAGE_REFRESH_MS = 30_000

/**
 * Size of the ballast file a repo keeps while its filesystem is short of space, deleted
 * when a start finds the disk full: LevelDB cannot open a store on a full disk (it writes
 * a new manifest and log), so this is the room a full peer starts in.
 */
export const STORAGE_BALLAST_BYTES = 8 * 1024 * 1024

/** The ballast is kept while the repo's filesystem has less free than this: a large free disk needs none, and a simulation's many repos do not each write one. */
export const STORAGE_BALLAST_BELOW_FREE_BYTES = 1024 * 1024 * 1024

/** The ballast file in the repo directory. */
export const STORAGE_BALLAST_FILE = 'ballast'

// ---------------------------------------------------------------- roots, releases and garbage

/** The gossipsub topic of root and release records: small signed statements every peer keeps. */
export const DATA_TOPIC = 'edgeswarm/data/1'

/** The protocol two peers reconcile their root and release records on, at connect and periodically. */
export const RECORD_SYNC_PROTOCOL = '/edgeswarm/data-records/1.0.0'

/** Largest signed record (a root or a release): a CID, an id and a signature fit many times over, so anything larger is refused unread. */
export const MAX_RECORD_BYTES = 1024

/**
 * Records a peer keeps at most: each is a few hundred bytes in the datastore and an entry
 * in memory. Past it, the oldest released roots (root and release records together) are
 * forgotten first; live roots are never forgotten.
 */
export const MAX_DATA_RECORDS = 200_000

/** Buckets record reconciliation compares digests of (by the first byte of a record's id): peers exchange only the records of buckets that differ. */
export const RECORD_BUCKETS = 256

/** Period (ms) of reconciliation with one random connected peer, besides each peer that connects: a record gossip missed arrives within it. */
export const RECORD_SYNC_INTERVAL_MS = 60_000

/** One reconciliation ends within this (ms) on both sides. */
export const RECORD_SYNC_TIMEOUT_MS = 30_000

/** Repair waits at most this (ms) after start for its first reconciliation, so a peer back from a long absence learns the releases before it pushes anything. */
export const RECORDS_READY_TIMEOUT_MS = 20_000

/** A record stamped more than this (ms) ahead of the receiver's clock is refused, so a skewed clock cannot order a release after a later put. */
export const MAX_RECORD_CLOCK_SKEW_MS = 10 * 60 * 1000

/** Puts one block is recorded as part of, at most: the same bytes in many files are rare, and a pushed header stays small. More are dropped, newest kept. */
export const MAX_PUTS_PER_BLOCK = 16

/** Length of a put id (22 base64url characters: 128 random bits): unique without coordination. */
export const PUT_ID_LENGTH = 22

/** Longest name a put records for `ls`. */
export const MAX_PUT_NAME_LENGTH = 255

/** Period (ms) of garbage collection by default (each pass jittered like repair). */
export const DEFAULT_GC_INTERVAL_MS = 10 * 60 * 1000

/**
 * How long (ms) a block no live root lists is kept by default before it is garbage: an
 * interrupted or still running put's shards reach their holders before its root record,
 * and a record gossip missed arrives by reconciliation well within it.
 */
export const DEFAULT_GC_GRACE_MS = 60 * 60 * 1000

/** A release received makes a collection run this (ms) later, so holders drop released data soon, and a burst of releases costs one pass. */
export const GC_AFTER_RELEASE_MS = 2_000

/**
 * A pass that freed at least this much compacts the blockstore, so the space returns to
 * the filesystem (LevelDB frees deleted blocks only when it compacts them); smaller
 * passes leave it to LevelDB unless the disk is short of space or `gc` was asked for.
 */
export const GC_COMPACT_MIN_BYTES = 64 * 1024 * 1024

// ---------------------------------------------------------------- provider announcements

/**
 * Provider announcements a peer starts per second at most by default: each is
 * a DHT lookup plus messages to the closest peers, background work that must
 * not starve transfers and tasks.
 */
export const DEFAULT_PROVIDE_RATE_PER_S = 20

/** Provider announcements running at once. */
export const PROVIDE_CONCURRENCY = 4

/** Announcements waiting before new ones are dropped: the queue's memory stays bounded, and the reprovide loop announces what was dropped. */
export const PROVIDE_QUEUE_MAX = 65_536

/**
 * Period (ms) of the re-announcement of every held block: kad-dht renews only
 * records about to expire, and this brings back records lost with departed DHT
 * peers sooner.
 */
export const DEFAULT_REPROVIDE_INTERVAL_MS = 60 * 60 * 1000

/** Queue priority of a file root's announcement, above every shard's: readers ask for the root first. */
export const ROOT_PROVIDE_PRIORITY = 1

/**
 * Announcements wait until no new block has arrived for this long (ms): each
 * is a lookup plus messages to k peers, and running them alongside a transfer
 * slows it.
 */
export const PROVIDE_QUIET_MS = 1_000

/** Announcements are held back at most this long (ms) in all, so a long put does not leave its blocks unannounced. */
export const PROVIDE_MAX_DELAY_MS = 30_000

/** A provider announcement is abandoned after this (ms); it is retried (PROVIDE_ATTEMPTS) and repeated by the reprovide loop. */
export const PROVIDE_TIMEOUT_MS = 30_000

/** Attempts of one announcement before it waits for the next repair pass: a block placed off its closest peers is found only through its announcement. */
export const PROVIDE_ATTEMPTS = 4

/** Wait (ms) before announcing again after a failed attempt, times the attempt number, so a busy swarm gets longer to recover each time. */
export const PROVIDE_RETRY_MS = 5_000

// ---------------------------------------------------------------- fetching

/**
 * A fetch ends with NotFoundError after this at most (ms), even if a request
 * or lookup under it ignores its abort: every later reader of the block waits
 * on that one fetch. A block nobody holds ends sooner, once every search came
 * back empty; the bound is long enough for a lookup in a slow swarm.
 */
export const FETCH_TIMEOUT_MS = 30_000

/** A fetch asks the next of the closest known peers when the one before has not answered in this long (ms), without cancelling it: a slow peer costs the search this, not a request timeout. */
export const FETCH_HEDGE_MS = 300

/**
 * A fetch starts its provider lookup once the closest known peers all had
 * none, or have not served the block in this long (ms): the first peer asked
 * usually holds it, and a lookup costs dozens of DHT messages.
 */
export const LOOKUP_HEDGE_MS = 1_000

/** Providers a fetch asks per block at most: bounds the requests one lookup can start; the closest peers are asked after them. */
export const MAX_PROVIDERS = 20

/** Shards a get fetches ahead of its reader: bounds its memory to about this many chunks while transfers overlap. */
export const GET_PREFETCH = 16

/**
 * Bound (bytes) of the in-memory cache of fetched blocks by default: a task's
 * input and its read-ahead, and readers of the same block, fit many times
 * over, and a small device's memory is not spent on blocks it may never read again.
 */
export const DEFAULT_CACHE_MAX_BYTES = 64 * 1024 * 1024

/** A cached block unread this long (ms) is dropped, so a daemon's memory returns to its baseline once reading stops. */
export const CACHE_IDLE_MS = 5 * 60 * 1000

/**
 * LevelDB table files a repo's block store keeps open at most (LevelDB's
 * least: it keeps 10 for itself and caches the rest). An open table is
 * memory-mapped and every page read from it stays in the daemon's RSS while
 * it is open, so the default of 1000 let a 1 GiB get raise a daemon's RSS by
 * the file's size; with 1 MiB blocks a table holds a few of them, and
 * reopening one costs little beside reading a block.
 */
export const BLOCKSTORE_MAX_OPEN_FILES = 74
