/**
 * @packageDocumentation
 *
 * The data layer of edgeswarm: files cut into content-addressed shards
 * (CIDv1 raw, sha2-256), a dag-cbor root object listing them, each block
 * placed on the `replicas` peers closest to it by XOR in the Kademlia DHT,
 * pushed over `/edgeswarm/shard/1.0.0`, announced as a DHT provider, fetched
 * back verified, and repaired when holders vanish.
 *
 * @example
 * ```ts
 * import { createPeer } from './node/index.ts'
 * import { DataService, createMemoryBlockstore } from './data/index.ts'
 *
 * const peer = await createPeer({ listen: ['/ip4/127.0.0.1/tcp/0'] })
 * const data = new DataService({
 *   peerId: peer.peerId, logger: peer.logger, libp2p: peer, dht: peer.services.dht,
 *   blockstore: createMemoryBlockstore()
 * }, { replicas: 3 })
 * await data.start()
 * const cid = await data.put(new TextEncoder().encode('hello'))
 * for await (const chunk of data.get(cid)) process.stdout.write(chunk)
 * await data.stop()
 * await peer.stop()
 * ```
 *
 * Owns everything about stored bytes. Never imports jobs, the API or the CLI.
 */
import type { ComponentLogger, Histogram, Libp2p, Metrics, PeerId } from '@libp2p/interface'
import type { KadDHT } from '@libp2p/kad-dht'
import { MemoryBlockstore } from 'blockstore-core/memory'
import type { Blockstore } from 'interface-blockstore'
import type { Datastore } from 'interface-datastore'
import type { ShardServer } from './protocol.ts'

/** The parts of kad-dht the data layer uses. */
export interface DataDHT extends Pick<KadDHT, 'k' | 'provide' | 'findProviders' | 'getClosestPeers'> {
  /**
   * kad-dht's routing table, which its interface does not declare: its size
   * says whether a lookup can run at all. The connected peers stand in when
   * it is absent.
   */
  readonly routingTable?: { readonly size?: number }
}

/** What a DataService uses of its peer. */
export interface DataServiceComponents {
  /** This peer: never asked for a block, and counted among the closest to one when it holds it. */
  peerId: PeerId
  /** Logs under `edgeswarm:data`. */
  logger: ComponentLogger
  /** The node's streams and connections: the shard protocol's handler and dials, the connected peers, providers' addresses. */
  libp2p: Pick<Libp2p, 'handle' | 'unhandle' | 'dialProtocol' | 'getConnections' | 'peerStore'>
  /** Closest-peer and provider lookups, and provider announcements. */
  dht: DataDHT
  /** Where this peer's blocks live (blockstore-level under `<repo>/blocks` for a daemon). */
  blockstore: Blockstore
  /** Index of the blocks held and of the roots this peer put; in memory when absent. */
  datastore?: Datastore
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
  /** Bytes accepted for other peers' blocks; a full peer refuses pushes with `storage-full`. @default DEFAULT_STORAGE_MAX */
  storageMax?: number
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
  | { type: 'done', cid: string, size: number, shards: number, replicas: number, minHolders: number, underReplicated: boolean }

export interface PutOptions {
  /** @default the service's `replicas` */
  replicas?: number
  /** @default the service's `chunkSize` */
  chunkSize?: number
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

export interface RootListing {
  cid: string
  size: number
  shards: number
  createdAt: number
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

export { DataService } from './data-service.ts'
export type { ShardServer, ShardRequest, ShardResponse } from './protocol.ts'
export {
  cidOf, parseCid, verifyBlock, blockMatches, encodeManifest, decodeManifest, endsWithNewline,
  MANIFEST_TYPE, MANIFEST_VERSION, type Manifest, type ShardRef
} from './blocks.ts'
export { chunk, checkChunkSize, type ByteSource } from './chunker.ts'
export { blockKadId, peerKadId, closestPeers, closestIndexes, sortByDistance, compareXor } from './placement.ts'
export {
  NotFoundError, InvalidCidError, ChunkSizeError, TooManyShardsError, ReplicasError, StorageFullError,
  IntegrityError, InvalidManifestError, ShardProtocolError, InvalidRangeError
} from './errors.ts'
export {
  SHARD_PROTOCOL, MAX_BLOCK_SIZE, MAX_MESSAGE_SIZE, MAX_SHARDS_PER_ROOT,
  DEFAULT_CHUNK_SIZE, MIN_CHUNK_SIZE, MAX_CHUNK_SIZE, DEFAULT_REPLICAS, MAX_REPLICAS, DEFAULT_STORAGE_MAX,
  DEFAULT_REPAIR_INTERVAL_MS, DEFAULT_PROVIDE_RATE_PER_S, DEFAULT_REPROVIDE_INTERVAL_MS, DEFAULT_CACHE_MAX_BYTES
} from './constants.ts'

/** An in-memory blockstore, for peers without a repo. */
export function createMemoryBlockstore (): Blockstore {
  return new MemoryBlockstore()
}
