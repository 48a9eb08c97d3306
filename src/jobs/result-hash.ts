/**
 * jobs/result-hash: the identity of a task or job result, the CIDv1 (raw,
 * sha2-256) of its bytes, exactly as the data layer addresses a shard.
 * Redundant runs vote on it; a fetched result is checked against it. Pure.
 */
import { cidOf } from '../data/index.ts'

/** The hash redundant runs vote on: the raw CID of `bytes`, as a string. */
export function resultHash (bytes: Uint8Array): string {
  return cidOf(bytes).toString()
}
