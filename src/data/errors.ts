/**
 * data/errors: the named errors of the data layer, so callers (API, CLI, jobs)
 * branch with `instanceof` and print one clear line, and the rule that makes
 * a miss conclusive (`NotFoundError.searched`). Never imports anything.
 */

/** No local copy, and no reachable peer served the block within FETCH_TIMEOUT_MS. */
export class NotFoundError extends Error {
  static readonly code = 'ERR_NOT_FOUND'
  override name = 'NotFoundError'
  /**
   * Whether the search was complete enough to say the block is missing (see
   * `conclusiveMiss`): false when peers asked did not answer and no DHT
   * lookup finished, as the silent ones may be its holders, or when no peer
   * answered at all. A caller retries a miss that is not conclusive.
   */
  readonly searched: boolean

  constructor (message: string, searched = true) {
    super(message)
    this.searched = searched
  }
}

/** What one fetch's search saw (the counts its NotFoundError names). */
export interface SearchSeen {
  /** peers that answered they have no copy */
  none: number
  /** peers asked that did not answer (or lied) */
  failed: number
  /** providers a DHT lookup named */
  providers: number
  lookup: 'not run' | 'running' | 'done'
  /** peers asked whose answer had not come when the search ended (its deadline passed) */
  pending: number
  /** whether the peers asked that are closest to the block (as many as its replicas) all answered that they have none */
  closestSaidNone: boolean
}

/**
 * Whether a search that found nothing says the block is missing: a DHT
 * lookup finished and the peers asked closest to the block (where placement
 * puts it, and where the lookup ends) said they have none; or every peer
 * asked answered and some had none. A finished lookup alone is not enough,
 * since the closest peers may be the ones that did not answer; nor is a
 * request or lookup still open at the deadline an answer; nor are named
 * providers that did not serve (the block was announced, its holders were
 * busy or gone). A provider that answers "none" is a peer that answered. Pure.
 */
export function conclusiveMiss (seen: SearchSeen): boolean {
  return (seen.lookup === 'done' && seen.closestSaidNone) ||
    (seen.lookup !== 'running' && seen.none > 0 && seen.failed === 0 && seen.pending === 0)
}

/** A string is not a CID, or a CID this layer cannot handle (not sha2-256, not raw/dag-cbor). */
export class InvalidCidError extends Error {
  static readonly code = 'ERR_INVALID_CID'
  override name = 'InvalidCidError'
}

/** The chunk size is outside MIN_CHUNK_SIZE..MAX_CHUNK_SIZE. */
export class ChunkSizeError extends Error {
  static readonly code = 'ERR_CHUNK_SIZE'
  override name = 'ChunkSizeError'
}

/** The input needs more than MAX_SHARDS_PER_ROOT shards at this chunk size. */
export class TooManyShardsError extends Error {
  static readonly code = 'ERR_TOO_MANY_SHARDS'
  override name = 'TooManyShardsError'
}

/** The replica count is not an integer in 1..MAX_REPLICAS. */
export class ReplicasError extends Error {
  static readonly code = 'ERR_REPLICAS'
  override name = 'ReplicasError'
}

/** A peer refused a block because its storage for others is full, or this peer refused its own write because its disk is. */
export class StorageFullError extends Error {
  static readonly code = 'ERR_STORAGE_FULL'
  override name = 'StorageFullError'
}

/** A block's bytes do not hash to its CID. */
export class IntegrityError extends Error {
  static readonly code = 'ERR_INTEGRITY'
  override name = 'IntegrityError'
}

/** A root block is not an edgeswarm file manifest. */
export class InvalidManifestError extends Error {
  static readonly code = 'ERR_INVALID_MANIFEST'
  override name = 'InvalidManifestError'
}

/** A shard-protocol message is malformed, oversized or answered with an error. */
export class ShardProtocolError extends Error {
  static readonly code = 'ERR_SHARD_PROTOCOL'
  override name = 'ShardProtocolError'
}

/** A byte range (offset/length) is outside the file. */
export class InvalidRangeError extends Error {
  static readonly code = 'ERR_INVALID_RANGE'
  override name = 'InvalidRangeError'
}

/** The root was released by its putter (`rm`): its data is gone from the swarm, on purpose. */
export class RemovedError extends Error {
  static readonly code = 'ERR_REMOVED'
  override name = 'RemovedError'
}

/** `rm` of a CID that is not a root this peer put: only a root's putter may release it. */
export class NotPutHereError extends Error {
  static readonly code = 'ERR_NOT_PUT_HERE'
  override name = 'NotPutHereError'
}

/** A signed root or release record is malformed, oversized, badly signed or stamped in the future. */
export class InvalidRecordError extends Error {
  static readonly code = 'ERR_INVALID_RECORD'
  override name = 'InvalidRecordError'
}

/** A put's name is too long or holds control characters. */
export class InvalidNameError extends Error {
  static readonly code = 'ERR_INVALID_NAME'
  override name = 'InvalidNameError'
}
