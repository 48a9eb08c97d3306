/**
 * data/protocol: the `/edgeswarm/shard/2.0.0` wire format and its two thin
 * ends. One request per stream: a length-prefixed JSON header frame
 * (`{ op: 'put' | 'get' | 'has', cid, size?, replicas?, announce?, puts? }` or
 * `{ op: 'has-many', count }`, zod-validated) and, for `put`, one frame with
 * the block, for `has-many` one frame with the CIDs' bytes back to back; the
 * answer is a header frame (`{ ok: true, has?, size?, count? }` or
 * `{ ok: false, code, error }`) and, for a successful `get`, one frame with
 * the block, for `has-many` one frame with a bit per CID. The header is JSON, unlike
 * the dag-cbor roots: it is a control message of one request, never stored,
 * signed or content-addressed, so it needs no canonical bytes, and a strict
 * schema checks it once at the boundary.
 *
 * Owns framing, limits (MAX_HEADER_SIZE, MAX_MESSAGE_SIZE) and validation at
 * the trust boundary. Never decides placement and never stores anything:
 * `serveShardStream` asks a `ShardServer` for every decision.
 */
import { lpStream } from '@libp2p/utils'
import type { Stream } from '@libp2p/interface'
import { CID } from 'multiformats/cid'
import { z } from 'zod'
import { DAG_CBOR_CODE, RAW_CODE, SHA2_256 } from './blocks.ts'
import { MAX_BLOCK_SIZE, MAX_HAS_BATCH, MAX_HEADER_SIZE, MAX_MESSAGE_SIZE, MAX_PUTS_PER_BLOCK, MAX_REPLICAS, PUT_ID_LENGTH } from './constants.ts'
import { ShardProtocolError } from './errors.ts'
import { deadline } from '../async/index.ts'

/** Longest CID string a header may carry: a sha2-256 CIDv1 in base32 or base58 is under 64 characters, so a longer one is refused unparsed. */
const MAX_CID_LENGTH = 200

/** Longest error text an answer may carry: one line for a log, never a payload. */
const MAX_ERROR_LENGTH = 1000

const cidString = z.string().max(MAX_CID_LENGTH).transform((s, ctx) => {
  try {
    const cid = CID.parse(s)
    if (cid.multihash.code !== SHA2_256 || (cid.code !== RAW_CODE && cid.code !== DAG_CBOR_CODE)) {
      ctx.addIssue({ code: 'custom', message: 'only sha2-256 raw or dag-cbor CIDs' })
      return z.NEVER
    }
    return cid
  } catch {
    ctx.addIssue({ code: 'custom', message: 'not a CID' })
    return z.NEVER
  }
})

/** A put id: PUT_ID_LENGTH base64url characters. */
export const putIdSchema = z.string().regex(new RegExp(`^[A-Za-z0-9_-]{${PUT_ID_LENGTH}}$`), 'not a put id')

export const requestSchema = z.discriminatedUnion('op', [
  z.object({
    op: z.literal('put'),
    cid: cidString,
    size: z.number().int().min(0).max(MAX_BLOCK_SIZE),
    replicas: z.number().int().min(1).max(MAX_REPLICAS).optional(),
    /** false: the sender announces the block itself; the receiver announces its copy at its next reprovide. @default true */
    announce: z.boolean().optional(),
    /** The puts the block is part of, as the sender knows them: its root records say whether it is live. */
    puts: z.array(putIdSchema).max(MAX_PUTS_PER_BLOCK).optional()
  }).strict(),
  z.object({ op: z.literal('get'), cid: cidString }).strict(),
  z.object({ op: z.literal('has'), cid: cidString }).strict(),
  /** Whether the peer holds each of `count` blocks, whose CIDs follow in one frame. */
  z.object({ op: z.literal('has-many'), count: z.number().int().min(1).max(MAX_HAS_BATCH) }).strict()
])
export type ShardRequest = z.infer<typeof requestSchema>

/** Error codes a responder may send. */
export const RESPONSE_CODES = ['not-found', 'storage-full', 'released', 'invalid', 'integrity', 'internal'] as const
export type ResponseCode = typeof RESPONSE_CODES[number]

export const responseSchema = z.union([
  z.object({
    ok: z.literal(true),
    has: z.boolean().optional(),
    size: z.number().int().min(0).max(MAX_BLOCK_SIZE).optional(),
    /** A `has-many` answer: the bits that follow, one per CID asked. */
    count: z.number().int().min(1).max(MAX_HAS_BATCH).optional()
  }),
  z.object({
    ok: z.literal(false),
    code: z.enum(RESPONSE_CODES),
    error: z.string().max(MAX_ERROR_LENGTH)
  })
])
export type ShardResponse = z.infer<typeof responseSchema>

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

/** Encodes a header frame; CIDs travel as strings. */
export function encodeHeader (value: ShardRequest | ShardResponse): Uint8Array {
  const wire = 'cid' in value ? { ...value, cid: value.cid.toString() } : value
  const bytes = encoder.encode(JSON.stringify(wire))
  if (bytes.byteLength > MAX_HEADER_SIZE) throw new ShardProtocolError(`header of ${bytes.byteLength} bytes exceeds ${MAX_HEADER_SIZE}`)
  return bytes
}

function decodeJson (bytes: Uint8Array): unknown {
  if (bytes.byteLength > MAX_HEADER_SIZE) {
    throw new ShardProtocolError(`header frame of ${bytes.byteLength} bytes exceeds ${MAX_HEADER_SIZE}`)
  }
  try {
    return JSON.parse(decoder.decode(bytes))
  } catch {
    throw new ShardProtocolError('header frame is not UTF-8 JSON')
  }
}

/** Parses a request header frame; throws ShardProtocolError with the reason. */
export function decodeRequest (bytes: Uint8Array): ShardRequest {
  const parsed = requestSchema.safeParse(decodeJson(bytes))
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new ShardProtocolError(`invalid request: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`.trim())
  }
  return parsed.data
}

/** Parses a response header frame; throws ShardProtocolError with the reason. */
export function decodeResponse (bytes: Uint8Array): ShardResponse {
  const parsed = responseSchema.safeParse(decodeJson(bytes))
  if (!parsed.success) throw new ShardProtocolError('invalid response header')
  return parsed.data
}

/** The CID frame of a `has-many`: each CID's binary form, back to back. */
export function encodeCidList (cids: CID[]): Uint8Array {
  let size = 0
  for (const cid of cids) size += cid.bytes.byteLength
  const out = new Uint8Array(size)
  let offset = 0
  for (const cid of cids) { out.set(cid.bytes, offset); offset += cid.bytes.byteLength }
  return out
}

/** Reads a `has-many` CID frame of exactly `count` sha2-256 raw or dag-cbor CIDs; throws ShardProtocolError otherwise. */
export function decodeCidList (bytes: Uint8Array, count: number): CID[] {
  const out: CID[] = []
  let rest = bytes
  while (rest.byteLength > 0) {
    if (out.length === count) throw new ShardProtocolError(`CID frame holds more than the ${count} CIDs announced`)
    let cid: CID
    try {
      [cid, rest] = CID.decodeFirst(rest)
    } catch {
      throw new ShardProtocolError(`CID ${out.length} of the frame is not a CID`)
    }
    if (cid.version !== 1 || cid.multihash.code !== SHA2_256 || (cid.code !== RAW_CODE && cid.code !== DAG_CBOR_CODE)) {
      throw new ShardProtocolError(`CID ${out.length} of the frame is not a sha2-256 raw or dag-cbor CIDv1`)
    }
    out.push(cid)
  }
  if (out.length !== count) throw new ShardProtocolError(`CID frame holds ${out.length} CIDs, the header said ${count}`)
  return out
}

/** One bit per answer, the first in the lowest bit of the first byte. */
export function encodeBits (values: boolean[]): Uint8Array {
  const out = new Uint8Array(Math.ceil(values.length / 8))
  values.forEach((v, i) => { if (v) out[i >> 3] |= 1 << (i & 7) })
  return out
}

/** The `count` answers of a bit frame; throws ShardProtocolError when its length does not fit. */
export function decodeBits (bytes: Uint8Array, count: number): boolean[] {
  if (bytes.byteLength !== Math.ceil(count / 8)) throw new ShardProtocolError(`answer frame of ${bytes.byteLength} bytes for ${count} CIDs`)
  return Array.from({ length: count }, (_, i) => (bytes[i >> 3] & (1 << (i & 7))) !== 0)
}

/** What the serving side needs: shard-server's LocalShardServer, or a decorator around it (DataServiceComponents.shardServer). */
export interface ShardServer {
  has(cid: CID): Promise<boolean>
  /** Whether each block is held, in the order asked. */
  hasMany(cids: CID[]): Promise<boolean[]>
  /** The block to serve, or undefined when not held. */
  read(cid: CID): Promise<Uint8Array | undefined>
  /** Reserves room for an inbound block; returns an error response to send instead when refused. */
  admit(req: Extract<ShardRequest, { op: 'put' }>, remotePeer: string): Promise<{ release: () => void } | ShardResponse>
  /** Verifies and stores an inbound block; returns the response to send. */
  accept(req: Extract<ShardRequest, { op: 'put' }>, bytes: Uint8Array, remotePeer: string): Promise<ShardResponse>
  onError?(err: Error, remotePeer: string): void
}

function asError (err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err))
}

/**
 * Serves one inbound shard stream. Never throws: a malformed or oversized
 * message gets an `invalid` answer when one can still be framed, and the
 * stream is closed (or reset when the framing itself is broken).
 */
export async function serveShardStream (stream: Stream, remotePeer: string, server: ShardServer, timeoutMs: number): Promise<void> {
  // called off once served: a limit left to fire after every stream costs a timer and an exception each
  const limit = deadline(timeoutMs)
  try {
    await serve(stream, remotePeer, server, limit.signal)
  } finally {
    limit.clear()
  }
}

async function serve (stream: Stream, remotePeer: string, server: ShardServer, signal: AbortSignal): Promise<void> {
  const lp = lpStream(stream, { maxDataLength: MAX_MESSAGE_SIZE })
  let req: ShardRequest
  try {
    const frame = await lp.read({ signal })
    try {
      req = decodeRequest(frame.subarray())
    } catch (err) {
      server.onError?.(asError(err), remotePeer)
      await lp.write(encodeHeader({ ok: false, code: 'invalid', error: asError(err).message }), { signal })
      await stream.close({ signal })
      return
    }
  } catch (err) {
    // framing broken: oversize length, truncated frame, timeout
    server.onError?.(asError(err), remotePeer)
    stream.abort(asError(err))
    return
  }
  try {
    if (req.op === 'has') {
      await lp.write(encodeHeader({ ok: true, has: await server.has(req.cid) }), { signal })
    } else if (req.op === 'has-many') {
      let cids: CID[]
      try {
        cids = decodeCidList((await lp.read({ signal })).subarray(), req.count)
      } catch (err) {
        if (!(err instanceof ShardProtocolError)) throw err
        server.onError?.(err, remotePeer)
        await lp.write(encodeHeader({ ok: false, code: 'invalid', error: err.message }), { signal })
        await stream.close({ signal })
        return
      }
      await lp.writeV([encodeHeader({ ok: true, count: cids.length }), encodeBits(await server.hasMany(cids))], { signal })
    } else if (req.op === 'get') {
      const bytes = await server.read(req.cid)
      if (bytes == null) {
        await lp.write(encodeHeader({ ok: false, code: 'not-found', error: `block ${req.cid.toString()} is not held here` }), { signal })
      } else {
        await lp.writeV([encodeHeader({ ok: true, size: bytes.byteLength }), bytes], { signal })
      }
    } else {
      const admission = await server.admit(req, remotePeer)
      if (!('release' in admission)) {
        await lp.write(encodeHeader(admission), { signal })
      } else {
        let response: ShardResponse
        try {
          const body = await lp.read({ signal })
          if (body.byteLength !== req.size) {
            response = { ok: false, code: 'invalid', error: `block frame has ${body.byteLength} bytes, header said ${req.size}` }
          } else {
            response = await server.accept(req, body.subarray(), remotePeer)
          }
        } finally {
          admission.release()
        }
        await lp.write(encodeHeader(response), { signal })
      }
    }
    await stream.close({ signal })
  } catch (err) {
    server.onError?.(asError(err), remotePeer)
    stream.abort(asError(err))
  }
}

export interface ShardReply {
  response: ShardResponse
  bytes?: Uint8Array
}

/**
 * Sends one request on a fresh stream and reads the answer (and the block for
 * a successful `get`, the bit frame for a successful `has-many`, in `bytes`).
 * `body` is a put's block or a has-many's CID frame. Throws on transport
 * errors and malformed answers; an `{ ok: false }` answer is returned, not thrown.
 */
export async function requestShard (stream: Stream, req: ShardRequest, body: Uint8Array | undefined, signal: AbortSignal): Promise<ShardReply> {
  const lp = lpStream(stream, { maxDataLength: MAX_MESSAGE_SIZE })
  try {
    const header = encodeHeader(req)
    if (body != null) await lp.writeV([header, body], { signal })
    else await lp.write(header, { signal })
    await stream.close({ signal })
    const response = decodeResponse((await lp.read({ signal })).subarray())
    if (!response.ok || (req.op !== 'get' && req.op !== 'has-many')) return { response }
    const data = await lp.read({ signal })
    if (response.size != null && data.byteLength !== response.size) {
      throw new ShardProtocolError(`block frame has ${data.byteLength} bytes, header said ${response.size}`)
    }
    return { response, bytes: data.subarray() }
  } catch (err) {
    stream.abort(asError(err))
    throw err
  }
}
