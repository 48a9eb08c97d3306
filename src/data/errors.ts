/**
 * data/errors: the named errors of the data layer, so callers (API, CLI, jobs)
 * branch on type and print one clear line. Never imports anything.
 */

/** No local copy and no reachable peer served the block within FIND_TIMEOUT_MS. */
export class NotFoundError extends Error {
  static readonly code = 'ERR_NOT_FOUND'
  override name = 'NotFoundError'
  /**
   * Whether the swarm was searched at all: some peer answered that it has no
   * copy, or a DHT lookup ran. False when no peer asked answered and no lookup
   * could run (an empty routing table): the miss says nothing about the block.
   */
  readonly searched: boolean

  constructor (message: string, searched = true) {
    super(message)
    this.searched = searched
  }
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

/** A peer refused a block because its storage for others is full. */
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
