/**
 * The identity of a task or job result: CIDv1 raw sha2-256 of its bytes.
 * Redundant runs vote on it; a fetched result is checked against it.
 */
import { createHash } from 'node:crypto'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { create } from 'multiformats/hashes/digest'

const SHA2_256 = 0x12

export function resultHash (bytes: Uint8Array): string {
  const digest = createHash('sha256').update(bytes).digest()
  return CID.createV1(raw.code, create(SHA2_256, digest)).toString()
}
