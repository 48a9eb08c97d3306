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
 * import { DataService, createMemoryBlockstore } from './data/index.ts'
 * const data = new DataService(peer, { blockstore: createMemoryBlockstore() })
 * await data.start()
 * const cid = await data.put(bytes, { replicas: 3 })
 * for await (const chunk of data.get(cid)) process.stdout.write(chunk)
 * await data.stop()
 * ```
 *
 * Owns everything about stored bytes. Never imports jobs, the API or the CLI.
 */
import { MemoryBlockstore } from 'blockstore-core/memory'
import type { Blockstore } from 'interface-blockstore'

export * from './constants.ts'
export * from './errors.ts'
export {
  DataService,
  type DataServiceInit, type PutOptions, type PutProgressEvent, type GetOptions, type StatOptions,
  type FileStat, type ShardStat, type RootListing, type RepairReport, type DataMetrics
} from './data-service.ts'
export {
  cidOf, parseCid, verifyBlock, blockMatches, encodeManifest, decodeManifest, endsWithNewline,
  MANIFEST_TYPE, MANIFEST_VERSION, type Manifest, type ShardRef
} from './blocks.ts'
export { chunk, checkChunkSize, type ByteSource } from './chunker.ts'
export { blockKadId, peerKadId, closestPeers, closestIndexes, sortByDistance, compareXor } from './placement.ts'
export { BlockCache } from './cache.ts'
export { MemoryBlockstore }

/** An in-memory blockstore, for peers without a repo. */
export function createMemoryBlockstore (): Blockstore {
  return new MemoryBlockstore()
}
