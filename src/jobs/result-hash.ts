/**
 * The identity of a task or job result: the CIDv1 (raw, sha2-256) of its
 * bytes, exactly as the data layer addresses a shard. Redundant runs vote on
 * it; a fetched result is checked against it.
 */
import { cidOf } from '../data/index.ts'

export function resultHash (bytes: Uint8Array): string {
  return cidOf(bytes).toString()
}
