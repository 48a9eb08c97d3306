/**
 * jobs/rendezvous: rendezvous (highest-random-weight) hashing, a score for
 * (key, peer) that every peer computes alike, so peers spread over tasks, and
 * agree on a reducer, without talking. Pure; never reads anything but its
 * arguments (and its hash cache).
 *
 * A key and a peer are each hashed once (sha256, cached); a score mixes the
 * two hashes with murmur3's finalizer, a few integer operations, because a
 * scheduler ranks every task of a job against every live peer whenever
 * membership changes. A caller that scores the same keys again and again
 * (every task of a job) keeps their hashes (`keyHash`) and scores with
 * `scoreOf`, without the cache's lookups.
 */
import { createHash } from 'node:crypto'

/** What a key's and a peer's hashes are prefixed with, so a key never hashes like a peer. */
const KEY_PREFIX = 'k\0'
const PEER_PREFIX = 'p\0'
/** Most cached hashes (the cache is cleared beyond it). */
const MAX_CACHED = 100_000
const cache = new Map<string, Uint32Array>()

/** The first 64 bits of sha256(`id`), as two 32-bit words. */
function sha64 (id: string): Uint32Array {
  const d = createHash('sha256').update(id).digest()
  return Uint32Array.of(d.readUInt32BE(0), d.readUInt32BE(4))
}

/** The first 64 bits of sha256(`prefix` + value), as two 32-bit words (cached). */
function hash64 (prefix: string, value: string): Uint32Array {
  const id = prefix + value
  let h = cache.get(id)
  if (h == null) {
    h = sha64(id)
    if (cache.size >= MAX_CACHED) cache.clear()
    cache.set(id, h)
  }
  return h
}

/** The hash of a key (a task: `job/index`) that `scoreOf` takes; not cached. */
export function keyHash (key: string): Uint32Array {
  return sha64(KEY_PREFIX + key)
}

/** The hash of a peer that `scoreOf` takes (cached). */
export function peerHash (peer: string): Uint32Array {
  return hash64(PEER_PREFIX, peer)
}

/** murmur3's 32-bit finalizer: every input bit affects every output bit. */
function fmix32 (x: number): number {
  x ^= x >>> 16
  x = Math.imul(x, 0x85ebca6b)
  x ^= x >>> 13
  x = Math.imul(x, 0xc2b2ae35)
  x ^= x >>> 16
  return x >>> 0
}

/** A 53-bit score of `key` for `peer`; higher ranks first. */
export function rendezvousScore (key: string, peer: string): number {
  return scoreOf(hash64(KEY_PREFIX, key), peerHash(peer))
}

/** `rendezvousScore` from the two hashes (`keyHash`, `peerHash`). */
export function scoreOf (k: Uint32Array, p: Uint32Array): number {
  const a = fmix32((k[0] ^ p[0] ^ 0x9e3779b9) >>> 0)
  const b = fmix32((k[1] ^ p[1] ^ a) >>> 0)
  return a * 2 ** 21 + (b >>> 11)
}
