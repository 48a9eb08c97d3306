/**
 * data/chunker: cuts a byte stream into fixed-size shards as it arrives, so a
 * large input never sits in memory whole. Pure; never hashes, stores or sends.
 */
import { MAX_CHUNK_SIZE, MAX_SHARDS_PER_ROOT, MIN_CHUNK_SIZE } from './constants.ts'
import { ChunkSizeError, TooManyShardsError } from './errors.ts'

export type ByteSource = Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>

/** Throws ChunkSizeError unless size is an integer in MIN_CHUNK_SIZE..MAX_CHUNK_SIZE. */
export function checkChunkSize (size: number): number {
  if (!Number.isInteger(size) || size < MIN_CHUNK_SIZE || size > MAX_CHUNK_SIZE) {
    throw new ChunkSizeError(`chunk size must be an integer from ${MIN_CHUNK_SIZE} to ${MAX_CHUNK_SIZE} bytes, got ${size}`)
  }
  return size
}

/** Throws TooManyShardsError when `count` shards exceed MAX_SHARDS_PER_ROOT. */
export function checkShardCount (count: number, chunkSize: number): void {
  if (count > MAX_SHARDS_PER_ROOT) {
    const suggestion = chunkSize < MAX_CHUNK_SIZE ? ` (use a larger chunk size, up to ${MAX_CHUNK_SIZE})` : ' (split the input into several files)'
    throw new TooManyShardsError(`input needs more than ${MAX_SHARDS_PER_ROOT} shards at chunk size ${chunkSize}${suggestion}`)
  }
}

async function * pieces (source: ByteSource): AsyncGenerator<Uint8Array> {
  if (source instanceof Uint8Array) {
    yield source
    return
  }
  for await (const piece of source) {
    if (!(piece instanceof Uint8Array)) throw new TypeError('input must yield Uint8Array chunks')
    yield piece
  }
}

/**
 * Yields shards of exactly `chunkSize` bytes (the last may be shorter, never
 * empty). Each shard is a fresh buffer the caller owns. Throws
 * TooManyShardsError as soon as the input outgrows MAX_SHARDS_PER_ROOT.
 */
export async function * chunk (source: ByteSource, chunkSize: number): AsyncGenerator<Uint8Array> {
  checkChunkSize(chunkSize)
  let buf = new Uint8Array(chunkSize)
  let fill = 0
  let count = 0
  for await (const piece of pieces(source)) {
    let offset = 0
    while (offset < piece.byteLength) {
      const n = Math.min(chunkSize - fill, piece.byteLength - offset)
      buf.set(piece.subarray(offset, offset + n), fill)
      fill += n
      offset += n
      if (fill === chunkSize) {
        checkShardCount(++count, chunkSize)
        yield buf
        buf = new Uint8Array(chunkSize)
        fill = 0
      }
    }
  }
  if (fill > 0) {
    checkShardCount(++count, chunkSize)
    yield buf.slice(0, fill)
  }
}
