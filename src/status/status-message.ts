/**
 * status/status-message: a peer's status on the wire. The body is dag-cbor
 * (one encoding per value), validated by a zod schema with bounds on every
 * field; the envelope is dag-cbor `{from, body, sig}`, signed by the author's
 * peer key over STATUS_SIGNING_PREFIX and the body (gossip here is unsigned,
 * StrictNoSign, so a status carries its own signature like a job fact).
 *
 * Owns encoding, the size bound, validation and the signature check. Never
 * accepts a status it has not checked (or checked before, in this process,
 * byte for byte).
 */
import { createHash } from 'node:crypto'
import { z } from 'zod'
import * as dagCbor from '@ipld/dag-cbor'
import { peerIdFromString } from '@libp2p/peer-id'
import { concat, fromString } from 'uint8arrays'
import type { PrivateKey, PublicKey } from '@libp2p/interface'
import {
  MAX_STATUS_BYTES, MAX_STATUS_FUNCTIONS, MAX_STATUS_INTERVAL_MS, MAX_STATUS_LABELS, MAX_VERIFIED_STATUSES, STATUS_NAME_MAX_CHARS, STATUS_SIGNING_PREFIX
} from './constants.ts'
import { InvalidStatusError } from './errors.ts'

const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)
const ms = z.number().min(0).max(1e12)
const name = z.string().min(1).max(STATUS_NAME_MAX_CHARS)

/** What a peer says about itself, every interval. */
export const PeerStatusSchema = z.object({
  /** When the author made it (its clock, ms since the epoch). */
  at: count,
  /** How often (ms) the author publishes now: others judge it stale and gone by its own interval. */
  intervalMs: z.number().int().min(1).max(MAX_STATUS_INTERVAL_MS),
  /** The author's edgeswarm version. */
  version: z.string().max(32),
  uptimeMs: count,
  /** Peers it is connected to. */
  connections: count,
  /** Peers in its DHT routing table. */
  routingTable: count,
  /** Blocks it holds, and their bytes. */
  blocks: count,
  bytes: count,
  /** Bytes it holds for other peers, and at most. */
  storageUsed: count,
  storageMax: count,
  /** Blocks its last repair pass left below their replica count. */
  underReplicated: count,
  /** Tasks it runs at once; runs now; holds queued. */
  slots: count,
  running: count,
  queued: count,
  /** Tasks it ran to a result, and failed, since it started. */
  executed: count,
  failed: count,
  /** The host's one-minute load average per CPU. */
  load: z.number().min(0).max(1e6),
  /** Its event loop's delay (p99 over the last window), ms. */
  loopDelayMs: ms,
  /** What the scheduler matches jobs against: labels, CPUs, free memory (MB), a GPU, the functions it runs. */
  labels: z.array(name).max(MAX_STATUS_LABELS),
  cpus: count,
  memoryMB: count,
  gpu: z.boolean(),
  functions: z.array(name).max(MAX_STATUS_FUNCTIONS)
}).strict()
export type PeerStatus = z.infer<typeof PeerStatusSchema>

const bytes = z.custom<Uint8Array>(v => v instanceof Uint8Array, { message: 'expected bytes' })
const EnvelopeSchema = z.object({ from: z.string().min(1).max(100), body: bytes, sig: bytes.refine(b => b.length <= 256) }).strict()

/** A checked status and its author. */
export interface SignedStatus {
  from: string
  status: PeerStatus
  /** The envelope's size in bytes. */
  size: number
}

const prefix = fromString(STATUS_SIGNING_PREFIX)

/** Encodes and signs a status; throws InvalidStatusError if it breaks the schema or the size bound. */
export async function signStatus (key: PrivateKey, from: string, status: PeerStatus): Promise<Uint8Array> {
  const checked = PeerStatusSchema.safeParse(status)
  if (!checked.success) throw new InvalidStatusError(`bad status: ${checked.error.issues[0].path.join('.')}: ${checked.error.issues[0].message}`)
  const body = dagCbor.encode(checked.data)
  const sig = await key.sign(concat([prefix, body]))
  const envelope = dagCbor.encode({ from, body, sig })
  if (envelope.length > MAX_STATUS_BYTES) throw new InvalidStatusError(`status of ${envelope.length} bytes exceeds ${MAX_STATUS_BYTES}`)
  return envelope
}

/** Statuses this process checked, by sha-256 of the envelope, oldest first (see MAX_VERIFIED_STATUSES). */
const verified = new Map<string, SignedStatus>()

/**
 * Decodes, validates and verifies a status envelope from the network; throws
 * InvalidStatusError for anything oversized, malformed or badly signed.
 */
export async function openStatus (envelope: Uint8Array): Promise<SignedStatus> {
  if (envelope.length > MAX_STATUS_BYTES) throw new InvalidStatusError(`status of ${envelope.length} bytes exceeds ${MAX_STATUS_BYTES}`)
  const key = createHash('sha256').update(envelope).digest('base64')
  const known = verified.get(key)
  if (known != null) return known
  let outer: z.infer<typeof EnvelopeSchema>
  let status: PeerStatus
  try {
    outer = EnvelopeSchema.parse(dagCbor.decode(envelope))
    status = PeerStatusSchema.parse(dagCbor.decode(outer.body))
  } catch (err) {
    throw new InvalidStatusError(`malformed status: ${(err as Error).message.slice(0, 200)}`)
  }
  let publicKey: PublicKey | undefined
  try { publicKey = peerIdFromString(outer.from).publicKey } catch {}
  if (publicKey == null) throw new InvalidStatusError('malformed status: bad author')
  if (!await publicKey.verify(concat([prefix, outer.body]), outer.sig)) throw new InvalidStatusError('status signature does not verify')
  const opened = { from: outer.from, status, size: envelope.length }
  verified.set(key, opened)
  if (verified.size > MAX_VERIFIED_STATUSES) verified.delete(verified.keys().next().value as string)
  return opened
}
