/**
 * data/blocks: content addressing of shards and roots — CIDv1 sha2-256 raw
 * leaves for shards (the same CIDs IPFS gives raw leaves) and a dag-cbor root
 * object (the file manifest) that `ipfs dag get` can read. Pure functions.
 * Never touches the network or a store; every block that crosses a trust
 * boundary goes through `verifyBlock` or `decodeManifest` here.
 */
import { createHash } from 'node:crypto'
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import * as Digest from 'multiformats/hashes/digest'
import { z } from 'zod'
import { MAX_BLOCK_SIZE, MAX_CHUNK_SIZE, MAX_SHARDS_PER_ROOT, MIN_CHUNK_SIZE } from './constants.ts'
import { IntegrityError, InvalidCidError, InvalidManifestError } from './errors.ts'

/** multicodec of sha2-256 multihashes. */
export const SHA2_256 = 0x12
/** multicodec of raw leaves. */
export const RAW_CODE = raw.code
/** multicodec of dag-cbor. */
export const DAG_CBOR_CODE = dagCbor.code

/** The `type` field of an edgeswarm root object. */
export const MANIFEST_TYPE = 'edgeswarm/file'
/** The manifest format version this code writes and reads. */
export const MANIFEST_VERSION = 1

export interface ShardRef {
  cid: CID
  size: number
  /**
   * Whether the shard's last byte is '\n', so a line ends with it and the next
   * shard starts one: line-oriented readers then need no neighbouring shard to
   * find their record boundaries. Written for every shard by `put`; absent in
   * manifests written before it was, where readers look at the neighbours.
   */
  nl?: boolean
}

/** '\n', the byte a shard's `nl` is about. */
const NEWLINE = 0x0a

/** Whether `bytes` ends with '\n' (a shard's `nl`). */
export function endsWithNewline (bytes: Uint8Array): boolean {
  return bytes.byteLength > 0 && bytes[bytes.byteLength - 1] === NEWLINE
}

/** The root object of a stored file, as it sits (dag-cbor) in the root block. */
export interface Manifest {
  type: typeof MANIFEST_TYPE
  version: typeof MANIFEST_VERSION
  size: number
  chunkSize: number
  shards: ShardRef[]
}

/** sha2-256 of bytes with node:crypto (native, far faster than a JS hash). */
export function sha256 (bytes: Uint8Array): Uint8Array {
  const h = createHash('sha256').update(bytes).digest()
  return new Uint8Array(h.buffer, h.byteOffset, h.byteLength)
}

/** The CIDv1 of bytes under a codec (raw by default), sha2-256. */
export function cidOf (bytes: Uint8Array, code: number = RAW_CODE): CID {
  return CID.createV1(code, Digest.create(SHA2_256, sha256(bytes)))
}

/** Parses and checks a CID string or object: v1 (or v0), sha2-256, raw or dag-cbor. */
export function parseCid (input: CID | string): CID {
  let cid: CID
  if (typeof input === 'string') {
    try {
      cid = CID.parse(input.trim())
    } catch {
      throw new InvalidCidError(`not a CID: ${JSON.stringify(input.length > 100 ? input.slice(0, 100) + '…' : input)}`)
    }
  } else {
    const asCid = CID.asCID(input)
    if (asCid == null) throw new InvalidCidError('not a CID object')
    cid = asCid
  }
  if (cid.multihash.code !== SHA2_256) {
    throw new InvalidCidError(`unsupported hash in ${cid.toString()}: only sha2-256 is used by edgeswarm`)
  }
  if (cid.code !== RAW_CODE && cid.code !== DAG_CBOR_CODE) {
    throw new InvalidCidError(`unsupported codec in ${cid.toString()}: expected raw (shard) or dag-cbor (root)`)
  }
  return cid
}

/** True when bytes hash to the CID's sha2-256 digest. */
export function blockMatches (cid: CID, bytes: Uint8Array): boolean {
  if (cid.multihash.code !== SHA2_256 || bytes.byteLength > MAX_BLOCK_SIZE) return false
  const digest = sha256(bytes)
  const want = cid.multihash.digest
  if (digest.byteLength !== want.byteLength) return false
  for (let i = 0; i < digest.byteLength; i++) {
    if (digest[i] !== want[i]) return false
  }
  return true
}

/** Throws IntegrityError unless bytes hash to the CID. */
export function verifyBlock (cid: CID, bytes: Uint8Array): void {
  if (!blockMatches(cid, bytes)) {
    throw new IntegrityError(`block ${cid.toString()} does not match its hash (${bytes.byteLength} bytes)`)
  }
}

const cidSchema = z.custom<CID>(v => CID.asCID(v) != null, 'expected a CID')
  .transform(v => CID.asCID(v) as CID)
  .refine(c => c.multihash.code === SHA2_256 && c.code === RAW_CODE, 'shards must be raw sha2-256 CIDs')

const manifestSchema = z.object({
  type: z.literal(MANIFEST_TYPE),
  version: z.literal(MANIFEST_VERSION),
  size: z.number().int().nonnegative(),
  chunkSize: z.number().int().min(MIN_CHUNK_SIZE).max(MAX_CHUNK_SIZE),
  shards: z.array(z.object({
    cid: cidSchema,
    size: z.number().int().min(1).max(MAX_CHUNK_SIZE),
    nl: z.boolean().optional()
  })).max(MAX_SHARDS_PER_ROOT)
}).superRefine((m, ctx) => {
  let total = 0
  m.shards.forEach((s, i) => {
    total += s.size
    if (s.size > m.chunkSize) ctx.addIssue({ code: 'custom', message: `shard ${i} is larger than chunkSize` })
    if (i < m.shards.length - 1 && s.size !== m.chunkSize) ctx.addIssue({ code: 'custom', message: `shard ${i} is not the last but is shorter than chunkSize` })
  })
  if (total !== m.size) ctx.addIssue({ code: 'custom', message: `shard sizes add up to ${total}, not size ${m.size}` })
})

/** Encodes a manifest as a dag-cbor root block; returns the block and its CID. */
export function encodeManifest (m: Omit<Manifest, 'type' | 'version'>): { cid: CID, bytes: Uint8Array } {
  const bytes = dagCbor.encode({
    type: MANIFEST_TYPE,
    version: MANIFEST_VERSION,
    size: m.size,
    chunkSize: m.chunkSize,
    shards: m.shards.map(s => s.nl === undefined ? { cid: s.cid, size: s.size } : { cid: s.cid, size: s.size, nl: s.nl })
  })
  return { cid: cidOf(bytes, DAG_CBOR_CODE), bytes }
}

/** Decodes and validates a root block (already verified against its CID). */
export function decodeManifest (bytes: Uint8Array): Manifest {
  let value: unknown
  try {
    value = dagCbor.decode(bytes)
  } catch (err) {
    throw new InvalidManifestError(`root block is not dag-cbor: ${(err as Error).message}`)
  }
  const parsed = manifestSchema.safeParse(value)
  if (!parsed.success) {
    throw new InvalidManifestError(`root block is not an edgeswarm file manifest: ${parsed.error.issues[0]?.message ?? 'invalid'}`)
  }
  return parsed.data as Manifest
}
