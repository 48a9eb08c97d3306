/**
 * data/records: the signed statements peers make about the files they put —
 * `root` (this put of mine made this root; its blocks are live) and `release`
 * (I release my puts of this root, `edgeswarm rm`). Every peer keeps every
 * record, so each decides on its own, and alike, which blocks are garbage.
 *
 * Owns the wire encoding (a dag-cbor envelope `{from, body, sig}`, as job
 * facts), its size limit, schema validation and the signature check. Never
 * accepts an envelope it has not checked, and never imports the job layer.
 */
import { createHash } from 'node:crypto'
import * as dagCbor from '@ipld/dag-cbor'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { CID } from 'multiformats/cid'
import { z } from 'zod'
import { DAG_CBOR_CODE, SHA2_256 } from './blocks.ts'
import { MAX_RECORD_BYTES, MAX_RECORD_CLOCK_SKEW_MS } from './constants.ts'
import { InvalidRecordError } from './errors.ts'
import { putIdSchema } from './protocol.ts'

const rootCid = z.string().max(200).refine(s => {
  try {
    const cid = CID.parse(s)
    return cid.version === 1 && cid.code === DAG_CBOR_CODE && cid.multihash.code === SHA2_256 && cid.toString() === s
  } catch {
    return false
  }
}, 'not a file root CID (CIDv1 dag-cbor sha2-256, base32)')
const time = z.number().int().min(0)

export const DataRecordSchema = z.discriminatedUnion('t', [
  /** The author's put `put` made root `root`: the blocks pushed under that put id are live until released. */
  z.object({ t: z.literal('root'), put: putIdSchema, root: rootCid, at: time }).strict(),
  /** The author releases every put of `root` it stamped before `at`. */
  z.object({ t: z.literal('release'), root: rootCid, at: time }).strict()
])
export type DataRecord = z.infer<typeof DataRecordSchema>

/** A verified record with its author. */
export interface SignedRecord {
  /** sha-256 of the envelope, base64url: duplicates share it. */
  id: string
  from: string
  record: DataRecord
  /** The encoded envelope, relayed and stored as is. */
  envelope: Uint8Array
}

const bytes = z.custom<Uint8Array>(v => v instanceof Uint8Array, { message: 'expected bytes' })
const EnvelopeSchema = z.object({ from: z.string().min(1).max(100), body: bytes, sig: bytes.refine(b => b.length <= 256) }).strict()

/** A record's id: the sha-256 of its envelope, base64url. */
export function recordId (envelope: Uint8Array): string {
  return createHash('sha256').update(envelope).digest('base64url')
}

/** Signs a record with this peer's key. */
export async function signRecord (key: PrivateKey, from: string, record: DataRecord): Promise<SignedRecord> {
  const parsed = DataRecordSchema.parse(record)
  const body = dagCbor.encode(parsed)
  const envelope = dagCbor.encode({ from, body, sig: await key.sign(body) })
  if (envelope.byteLength > MAX_RECORD_BYTES) throw new InvalidRecordError(`record of ${envelope.byteLength} bytes exceeds ${MAX_RECORD_BYTES}`)
  return { id: recordId(envelope), from, record: parsed, envelope }
}

/**
 * Decodes, validates and verifies an envelope from the network. Throws
 * InvalidRecordError for anything oversized, malformed, badly signed or
 * stamped more than MAX_RECORD_CLOCK_SKEW_MS ahead of `now`. `verified`: the
 * envelope was checked before (read back from this peer's datastore, where only
 * checked records go), so it is decoded and validated, not checked again.
 */
export async function openRecord (envelope: Uint8Array, now = Date.now(), options: { verified?: boolean } = {}): Promise<SignedRecord> {
  if (envelope.byteLength > MAX_RECORD_BYTES) throw new InvalidRecordError(`record of ${envelope.byteLength} bytes exceeds ${MAX_RECORD_BYTES}`)
  let outer: z.infer<typeof EnvelopeSchema>
  let record: DataRecord
  try {
    outer = EnvelopeSchema.parse(dagCbor.decode(envelope))
    record = DataRecordSchema.parse(dagCbor.decode(outer.body))
  } catch (err) {
    throw new InvalidRecordError(`malformed record: ${(err as Error).message.slice(0, 200)}`)
  }
  if (options.verified === true) return { id: recordId(envelope), from: outer.from, record, envelope }
  let verified = false
  try {
    const key = peerIdFromString(outer.from).publicKey
    verified = key != null && await key.verify(outer.body, outer.sig)
  } catch {
    throw new InvalidRecordError('malformed record: bad author')
  }
  if (!verified) throw new InvalidRecordError('record signature does not verify')
  if (record.at > now + MAX_RECORD_CLOCK_SKEW_MS) throw new InvalidRecordError('record is stamped in the future')
  return { id: recordId(envelope), from: outer.from, record, envelope }
}
