/**
 * data/types: the data layer's shapes: the components and init of its
 * service, the options and results of its operations, its metrics and the
 * pins the layer above gives. Plain declarations, so the layer's modules and
 * its front door (index.ts) share them without importing each other.
 */
import type { ComponentLogger, Histogram, Libp2p, Metrics, PeerId, PrivateKey } from '@libp2p/interface'
import type { KadDHT } from '@libp2p/kad-dht'
import type { Blockstore } from 'interface-blockstore'
import type { Datastore } from 'interface-datastore'
import type { CID } from 'multiformats/cid'
import type { ShardServer } from './protocol.ts'
import type { RecordPubSub } from './record-sync.ts'
import type { DiskSpace } from './storage-budget.ts'

/** The parts of kad-dht the data layer uses. */
export interface DataDHT extends Pick<KadDHT, 'k' | 'provide' | 'findProviders' | 'getClosestPeers'> {
  /**
   * kad-dht's routing table, which its interface does not declare: its size
   * says whether a lookup can run at all. The connected peers stand in when
   * it is absent.
   */
  readonly routingTable?: { readonly size?: number }
}

/**
 * Blocks the layer above keeps alive (the job layer: job documents, result
 * batches until the job's final result is stored, final results until their
 * retention passes), given as `DataServiceComponents.pins`.
 *
 * - A pinned block is never collected, whatever its puts' state.
 * - A block stored outside a put (`keepBlock`, `adoptBlock`) is never
 *   collected while no pins are given (`ls --all` says `untracked`); once
 *   pins are given, an unpinned one goes after `gcGraceMs` from its storing
 *   (`unpinned`). So give pins only when they cover every such block the
 *   layer still needs, from its first answer on (a pass may run soon after
 *   start: answer from persisted state).
 * - A block of a put (`put`, `listed: false` for the layer's own) lives
 *   while that put's root record is unreleased: its putter ends it with
 *   `rm(root)`, as a user does, and pins can only keep it past that.
 * - `isPinned` is called for every held block in each collection pass and
 *   by repair (which skips garbage): make it a lookup, never I/O.
 *
 * @example
 * ```ts
 * const pinned = new Set<string>()
 * const pins: Pins = { isPinned: cid => pinned.has(cid.toString()) }
 * const data = new DataService({ ...components, pins }, init)
 * pinned.add(batchCid.toString()) // kept until deleted from the set
 * ```
 */
export interface Pins {
  /** Whether `cid` must be kept now: synchronous and cheap. */
  isPinned: (cid: CID) => boolean
}

/** What a DataService uses of its peer. */
export interface DataServiceComponents {
  /** This peer: never asked for a block, and counted among the closest to one when it holds it. */
  peerId: PeerId
  /** This peer's key: signs its root and release records. */
  privateKey: PrivateKey
  /** Logs under `edgeswarm:data`. */
  logger: ComponentLogger
  /** The node's streams, connections and their events: the shard and record protocols' handlers and dials, the connected peers, providers' addresses. */
  libp2p: Pick<Libp2p, 'handle' | 'unhandle' | 'dialProtocol' | 'getConnections' | 'peerStore' | 'addEventListener' | 'removeEventListener'>
  /** Closest-peer and provider lookups, and provider announcements. */
  dht: DataDHT
  /** The data topic: root and release records. */
  pubsub: RecordPubSub
  /** Where this peer's blocks live (blockstore-level under `<repo>/blocks` for a daemon). */
  blockstore: Blockstore
  /** Index of the blocks held, of the puts this peer made and of every root and release record; in memory when absent. */
  datastore?: Datastore
  /** Blocks the layer above keeps alive; absent: none, and blocks stored outside a put are never collected. */
  pins?: Pins
  /** Reads the free space of the repo's filesystem (`storagePath`). @default statfs */
  diskSpace?: DiskSpace
  /** Returns the space of deleted blocks to the filesystem (compacts blockstore-level); none when the store needs no compaction. */
  reclaim?: () => Promise<void>
  /**
   * Wraps the shard server that answers other peers' requests (the default
   * serves this peer's store): a peer that serves differently, such as a
   * test's corrupting holder, is composed here.
   */
  shardServer?: (server: ShardServer) => ShardServer
  /** Where the data layer registers its `edgeswarm_data_*` metrics; none: no metrics. */
  metrics?: Metrics
}

export interface DataServiceInit {
  /** Peers that hold each shard and root, 1..MAX_REPLICAS. @default DEFAULT_REPLICAS */
  replicas?: number
  /** Shard size in bytes, MIN_CHUNK_SIZE..MAX_CHUNK_SIZE. @default DEFAULT_CHUNK_SIZE */
  chunkSize?: number
  /**
   * Bytes accepted for other peers' blocks; a full peer refuses pushes with
   * `storage-full`. @default with `storagePath`, a share of its filesystem
   * (STORAGE_SHARE_FOR_OTHERS, less the space kept free); without, DEFAULT_STORAGE_MAX
   */
  storageMax?: number
  /** A directory on the filesystem the blocks are stored on (a repo's `blocks/`): its free space sets the budget. None: a node in memory. */
  storagePath?: string
  /** The ballast file that lets a full disk start again (see STORAGE_BALLAST_BYTES); none keeps none. */
  ballastPath?: string
  /** Period of garbage collection (ms); 0 turns the timer off (`gc` still runs it). @default DEFAULT_GC_INTERVAL_MS */
  gcIntervalMs?: number
  /** How long (ms) a block no live put lists is kept before it is garbage. @default DEFAULT_GC_GRACE_MS */
  gcGraceMs?: number
  /** Period of record reconciliation with a random peer (ms). @default RECORD_SYNC_INTERVAL_MS */
  recordSyncIntervalMs?: number
  /** Period of the repair loop (ms); 0 turns it off. @default DEFAULT_REPAIR_INTERVAL_MS */
  repairIntervalMs?: number
  /** Provider announcements started per second at most (fractions allowed: 0.25 is one every 4 s). @default DEFAULT_PROVIDE_RATE_PER_S */
  provideRatePerSecond?: number
  /** Period of the re-announcement of every held block (ms); 0 turns it off. @default DEFAULT_REPROVIDE_INTERVAL_MS */
  reprovideIntervalMs?: number
  /** Bound of the in-memory cache of fetched blocks (bytes). @default DEFAULT_CACHE_MAX_BYTES */
  cacheMaxBytes?: number
}

export type PutProgressEvent =
  | { type: 'shard', index: number, cid: string, size: number, holders: number, shardsDone: number, bytesDone: number }
  | { type: 'done', cid: string, size: number, shards: number, replicas: number, minHolders: number, underReplicated: boolean, /** the put's id, which its blocks carry */ put: string }

export interface PutOptions {
  /** @default the service's `replicas` */
  replicas?: number
  /** @default the service's `chunkSize` */
  chunkSize?: number
  /** The name `ls` shows (at most MAX_PUT_NAME_LENGTH characters). @default none */
  name?: string
  /** Whether `ls` lists the put: false for the blocks of the layers above (job documents, results). @default true */
  listed?: boolean
  /**
   * Whether the put announces a root record, which keeps its blocks alive on
   * every holder until `rm`. false: the layer above keeps them through `pins`
   * (held elsewhere, they are collected once the grace passes). @default true
   */
  record?: boolean
  signal?: AbortSignal
  onProgress?: (ev: PutProgressEvent) => void
}

export interface GetOptions {
  signal?: AbortSignal
  /** First byte to return. @default 0 */
  offset?: number
  /** Bytes to return from `offset`. @default to the end */
  length?: number
}

export interface StatOptions {
  signal?: AbortSignal
  /** Called as holders answer: peer-block pairs checked of those asked. */
  onProgress?: (p: { checked: number, total: number }) => void
  /** Replica target to judge against. @default the one recorded when this peer holds the root, else the service's */
  replicas?: number
}

export interface ShardStat {
  cid: string
  size: number
  /** Peers that answered `has` with yes just now (this peer included). */
  holders: string[]
}

export interface FileStat {
  cid: string
  size: number
  chunkSize: number
  shards: ShardStat[]
  /** Live holders of the root block. */
  rootHolders: string[]
  replicas: number
  underReplicated: boolean
}

/** A file this peer put (`ls`). */
export interface RootListing {
  cid: string
  /** The put's name: `put --name`, else the file's name; null for stdin and unnamed puts. */
  name: string | null
  size: number
  shards: number
  createdAt: number
}

/** Blocks held here for one reason (`ls --all`): the putter's root they belong to, or why they are kept or garbage. */
export interface HeldGroup {
  /**
   * `root`: part of a live root; `pinned`: kept by the layer above;
   * `grace`: no live root lists it yet (a put in progress, or a record not
   * yet here); `untracked`: stored outside a put, kept; `released`, `orphan`,
   * `unpinned`: garbage, collected at the next pass.
   */
  reason: 'root' | 'pinned' | 'grace' | 'untracked' | 'released' | 'orphan' | 'unpinned'
  /** The root, when the blocks' puts name one. */
  root: string | null
  /** Its putter. */
  putter: string | null
  /** Whether this peer holds them for other peers (else as its own). */
  forOthers: boolean
  blocks: number
  bytes: number
}

/** `ls --all`: the files this peer put, and everything it holds, grouped. */
export interface FullListing {
  roots: RootListing[]
  held: HeldGroup[]
}

/** What `rm` did. */
export interface RemoveResult {
  cid: string
  /** This peer's puts of the root that were released (the same file put twice is two puts). */
  puts: number
}

export interface RepairReport {
  /** Blocks checked. */
  checked: number
  /** Copies made: block and the peer that received it. */
  copies: Array<{ cid: string, peer: string }>
  /** Blocks still below their replica count after the pass. */
  underReplicated: string[]
  durationMs: number
}

export interface DataMetrics {
  /** Block bytes sent (pushes and served gets). */
  bytesSent: number
  /** Block bytes received (fetched and accepted pushes). */
  bytesReceived: number
  /** Peers that served bytes not matching the CID; avoided afterwards. */
  badPeers: Set<string>
  /** Provider announcements completed. */
  provides: number
  /** Blocks kept from facts as one of their closest peers (see `adoptBlock`). */
  adopted: number
  /** Blocks fetched from the swarm (one per fetch, however many readers waited on it). */
  fetches: number
  /** Fetches from the swarm that ended without the block. */
  fetchMisses: number
  /** Sum of the times (ms) of the swarm fetches counted in `fetches`: its growth over theirs is the mean latency of an interval. */
  fetchMsTotal: number
  /** The time of each swarm fetch, when the node has metrics. */
  fetchSeconds?: Histogram
  /** Provider announcements that failed (each attempt). */
  provideFailures: number
  /** Repair passes completed, and the copies they made. */
  repairPasses: number
  repairCopies: number
  /** Blocks held here that the last repair pass left below their replica count. */
  underReplicated: number
  /** Since when repair passes have found blocks below their replica count; undefined once a pass finds none. */
  underReplicatedSince?: number
  /** The last repair pass: when it ended and what it found. */
  lastRepair?: { at: number, checked: number, copies: number, underReplicated: number, durationMs: number }
}
