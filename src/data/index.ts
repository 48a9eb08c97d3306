/**
 * @packageDocumentation
 *
 * The data layer of edgeswarm: files cut into content-addressed shards
 * (CIDv1 raw, sha2-256), a dag-cbor root object listing them, each block
 * placed on the `replicas` peers closest to it by XOR in the Kademlia DHT,
 * pushed over `/edgeswarm/shard/2.0.0`, announced as a DHT provider, fetched
 * back verified, and repaired when holders vanish; within a budget that fits
 * the device's disk, and collected as garbage once its putter releases it.
 *
 * @example
 * ```ts
 * import { generateKeyPair } from '@libp2p/crypto/keys'
 * import { createPeer } from './node/index.ts'
 * import { DataService, createMemoryBlockstore } from './data/index.ts'
 *
 * const privateKey = await generateKeyPair('Ed25519')
 * const peer = await createPeer({ privateKey, listen: ['/ip4/127.0.0.1/tcp/0'] })
 * const data = new DataService({
 *   peerId: peer.peerId, privateKey, logger: peer.logger, libp2p: peer, dht: peer.services.dht,
 *   pubsub: peer.services.pubsub, blockstore: createMemoryBlockstore()
 * }, { replicas: 3 })
 * await data.start()
 * const cid = await data.put(new TextEncoder().encode('hello'), { name: 'hello.txt' })
 * for await (const chunk of data.get(cid)) process.stdout.write(chunk)
 * await data.rm(cid)          // released swarm-wide; every holder collects it
 * await data.stop()
 * await peer.stop()
 * ```
 *
 * Owns everything about stored bytes. Never imports jobs, the API or the CLI.
 */
import { MemoryBlockstore } from 'blockstore-core/memory'
import type { Blockstore } from 'interface-blockstore'
export type {
  DataDHT, Pins, DataServiceComponents, DataServiceInit, PutProgressEvent, PutOptions, GetOptions, StatOptions, ShardStat, FileStat, RootListing, HeldGroup, FullListing, RemoveResult, RepairReport, DataMetrics
} from './types.ts'

export { DataService } from './data-service.ts'
export type { ShardServer, ShardRequest, ShardResponse } from './protocol.ts'
export type { GcReport, GarbageReason } from './collector.ts'
export { spaceForOthers, keepFreeOf, statfsDiskSpace, freeBallastIfFull, type DiskSpace, type DiskUsage, type StorageStatus } from './storage-budget.ts'
export {
  cidOf, parseCid, verifyBlock, blockMatches, encodeManifest, decodeManifest, endsWithNewline,
  MANIFEST_TYPE, MANIFEST_VERSION, type Manifest, type ShardRef
} from './blocks.ts'
export { chunk, checkChunkSize, type ByteSource } from './chunker.ts'
export { blockKadId, peerKadId, closestPeers, closestIndexes, sortByDistance, compareXor } from './placement.ts'
export {
  NotFoundError, InvalidCidError, ChunkSizeError, TooManyShardsError, ReplicasError, StorageFullError,
  IntegrityError, InvalidManifestError, ShardProtocolError, InvalidRangeError, RemovedError, NotPutHereError, InvalidRecordError, InvalidNameError
} from './errors.ts'
export {
  SHARD_PROTOCOL, DATA_TOPIC, MAX_BLOCK_SIZE, MAX_MESSAGE_SIZE, MAX_SHARDS_PER_ROOT,
  DEFAULT_CHUNK_SIZE, MIN_CHUNK_SIZE, MAX_CHUNK_SIZE, DEFAULT_REPLICAS, MAX_REPLICAS, DEFAULT_STORAGE_MAX,
  DEFAULT_REPAIR_INTERVAL_MS, DEFAULT_PROVIDE_RATE_PER_S, DEFAULT_REPROVIDE_INTERVAL_MS, DEFAULT_CACHE_MAX_BYTES,
  DEFAULT_GC_INTERVAL_MS, DEFAULT_GC_GRACE_MS, STORAGE_BALLAST_FILE, MAX_PUT_NAME_LENGTH, BLOCKSTORE_MAX_OPEN_FILES
} from './constants.ts'

/** An in-memory blockstore, for peers without a repo. */
export function createMemoryBlockstore (): Blockstore {
  return new MemoryBlockstore()
}
