/**
 * Rendezvous (highest-random-weight) hashing: a score for (key, peer) that
 * every peer computes alike, so peers spread over tasks, and agree on a
 * reducer, without talking.
 */
import { createHash } from 'node:crypto'

/** A 48-bit score of `key` for `peer`; higher ranks first. */
export function rendezvousScore (key: string, peer: string): number {
  const h = createHash('sha256').update(key).update('\0').update(peer).digest()
  return h.readUIntBE(0, 6)
}
