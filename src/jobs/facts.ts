/**
 * jobs/facts: the immutable, signed statements peers make about jobs (a job
 * exists, a peer claims or renews tasks, a result, a failure, the state an
 * iterative job's pass reduced to, a job is done, its submitter cancels it).
 * A job's state is a pure function of the set of its facts, so facts may
 * arrive in any order, twice, by gossip or by sync.
 *
 * Owns the wire encoding (dag-cbor envelope `{from, body, sig}`), its size
 * limit, schema validation and the signature check. A fact is signed by its
 * author's peer key, so a peer that relays facts (sync) cannot forge them.
 * Never accepts an envelope it has not checked (or checked before, in this
 * process, byte for byte).
 */
import { KeyObject, createHash, createPublicKey, verify } from 'node:crypto'
import { z } from 'zod'
import * as dagCbor from '@ipld/dag-cbor'
import { sha256 } from 'multiformats/hashes/sha2'
import { peerIdFromString } from '@libp2p/peer-id'
import { toString } from 'uint8arrays'
import type { PrivateKey, PublicKey } from '@libp2p/interface'
import {
  INLINE_DONE_MAX_BYTES, MAX_CLOCK_SKEW_MS, MAX_PASS_STATE_BYTES, MAX_FACT_BYTES, MAX_OPENED_FACT_BYTES, MAX_OPENED_FACTS, MAX_VERIFIED_ENVELOPES, MAX_REASON_CHARS, MAX_RESULTS_PER_FACT, MAX_TASKS_PER_FACT
} from './constants.ts'
import { InvalidFactError } from './errors.ts'

const bytes = z.custom<Uint8Array>(v => v instanceof Uint8Array, { message: 'expected bytes' })
const jobId = z.string().min(1).max(200)
const taskIdx = z.number().int().min(0)
const time = z.number().int().min(0)

export const ResultEntrySchema = z.object({
  task: taskIdx,
  /** CIDv1 raw sha2-256 of the result bytes: what redundant runs vote on. */
  hash: z.string().max(200),
  size: z.number().int().min(0),
  /** The bytes, when small. */
  data: bytes.optional(),
  /** Root CID of the result stored in the swarm, when large. */
  ref: z.string().max(200).optional()
})
export type ResultEntry = z.infer<typeof ResultEntrySchema>

export const FactSchema = z.discriminatedUnion('t', [
  z.object({ t: z.literal('job'), job: jobId, doc: bytes }),
  z.object({ t: z.literal('claim'), job: jobId, tasks: z.array(taskIdx).min(1).max(MAX_TASKS_PER_FACT), at: time, lease: z.number().int().min(1) }),
  z.object({ t: z.literal('renew'), job: jobId, tasks: z.array(taskIdx).min(1).max(MAX_TASKS_PER_FACT), at: time, lease: z.number().int().min(1) }),
  z.object({
    t: z.literal('result'), job: jobId, at: time, results: z.array(ResultEntrySchema).min(1).max(MAX_RESULTS_PER_FACT),
    /** CID of the block holding the inline results (a batch stored in the swarm). */
    batch: z.string().max(200).optional(),
    /** The author's other tasks of the job, still held: renewed as by a `renew` fact of the same time (one fact, not two). */
    renew: z.object({ tasks: z.array(taskIdx).min(1).max(MAX_TASKS_PER_FACT), lease: z.number().int().min(1) }).optional(),
    /** Tasks the author claims with these results (its next work request): claimed as by a `claim` fact of the same time. */
    claim: z.object({ tasks: z.array(taskIdx).min(1).max(MAX_TASKS_PER_FACT), lease: z.number().int().min(1) }).optional()
  }),
  z.object({ t: z.literal('fail'), job: jobId, task: taskIdx, at: time, reason: z.string().max(MAX_REASON_CHARS) }),
  z.object({
    t: z.literal('pass'), job: jobId, pass: z.number().int().min(0), at: time,
    /** The digest of the accepted results the pass was reduced from (see passes.ts resultsDigest). */
    results: z.string().max(100),
    /** The CID of the state, a block (see passes.ts stateCid); absent with `failure`. */
    state: z.string().max(200).optional(),
    /** The state's bytes; readers check them against `state`. */
    data: bytes.refine(b => b.length <= MAX_PASS_STATE_BYTES, { message: `a pass state exceeds ${MAX_PASS_STATE_BYTES} bytes` }).optional(),
    /** The pass's report: a mean loss, when it computes one. */
    loss: z.number().refine(Number.isFinite, { message: 'loss must be finite' }).optional(),
    /** Why the job fails at this pass, instead of a state. */
    failure: z.string().max(MAX_REASON_CHARS).optional()
  }).refine(f => f.failure != null ? f.state == null && f.data == null : f.state != null && f.data != null, {
    message: 'a pass fact carries a state (its CID and bytes) or a failure, not both'
  }),
  z.object({
    t: z.literal('done'), job: jobId, at: time, result: z.string().max(200), hash: z.string().max(200), size: z.number().int().min(0),
    /** The final result's bytes, when small (INLINE_DONE_MAX_BYTES); readers check them against `hash`. */
    data: bytes.refine(b => b.length <= INLINE_DONE_MAX_BYTES, { message: `inline result exceeds ${INLINE_DONE_MAX_BYTES} bytes` }).optional()
  }),
  /** The job's submitter ends it (see ending.ts: counted only from the submitter). */
  z.object({ t: z.literal('cancel'), job: jobId, at: time })
])
export type Fact = z.infer<typeof FactSchema>
export type FactOf<T extends Fact['t']> = Extract<Fact, { t: T }>

/** A verified fact with its author. */
export interface SignedFact {
  /** Stable id: hash of author and body; duplicates share it. */
  id: string
  from: string
  fact: Fact
  /** The encoded envelope, to relay as is. */
  envelope: Uint8Array
}

const EnvelopeSchema = z.object({ from: z.string().min(1).max(100), body: bytes, sig: bytes.refine(b => b.length <= 256) })

async function factId (from: string, body: Uint8Array): Promise<string> {
  const digest = await sha256.digest(dagCbor.encode([from, body]))
  return toString(digest.digest, 'base64url')
}

/** Signs a fact with this peer's key. */
export async function signFact (key: PrivateKey, from: string, fact: Fact): Promise<SignedFact> {
  const body = dagCbor.encode(fact)
  const sig = await key.sign(body)
  const envelope = dagCbor.encode({ from, body, sig })
  if (envelope.length > MAX_FACT_BYTES) throw new InvalidFactError(`fact of ${envelope.length} bytes exceeds ${MAX_FACT_BYTES}`)
  return { id: await factId(from, body), from, fact, envelope }
}

/**
 * The id of an envelope without verifying it: lets a receiver drop facts it
 * already holds before paying for a signature check. Undefined if malformed.
 */
export async function peekFactId (envelope: Uint8Array): Promise<string | undefined> {
  if (envelope.length > MAX_FACT_BYTES) return undefined
  try {
    const outer = EnvelopeSchema.parse(dagCbor.decode(envelope))
    return await factId(outer.from, outer.body)
  } catch {
    return undefined
  }
}

/** Most authors' public keys kept parsed (the cache is cleared beyond it). */
const MAX_CACHED_PUBLIC_KEYS = 10_000
/**
 * Authors' public keys, parsed from their peer ids once: an Ed25519 key as a node:crypto key
 * object, since importing it for every check costs about as much as the check; another kind
 * as libp2p's key.
 */
const publicKeys = new Map<string, KeyObject | PublicKey>()
function publicKeyOf (from: string): KeyObject | PublicKey {
  let key = publicKeys.get(from)
  if (key == null) {
    const peer = peerIdFromString(from)
    if (peer.publicKey == null) throw new InvalidFactError('author peer id carries no public key')
    key = peer.publicKey.type === 'Ed25519'
      ? createPublicKey({ format: 'jwk', key: { kty: 'OKP', crv: 'Ed25519', x: toString(peer.publicKey.raw, 'base64url') } })
      : peer.publicKey
    if (publicKeys.size > MAX_CACHED_PUBLIC_KEYS) publicKeys.clear()
    publicKeys.set(from, key)
  }
  return key
}

/** Whether `sig` is `from`'s signature of `body`. */
async function signedBy (from: string, body: Uint8Array, sig: Uint8Array): Promise<boolean> {
  let key: KeyObject | PublicKey
  try { key = publicKeyOf(from) } catch { throw new InvalidFactError('malformed fact: bad author') }
  try {
    return key instanceof KeyObject ? verify(null, body, key, sig) : await key.verify(body, sig)
  } catch {
    return false
  }
}

/**
 * Peers of this process that open gossiped facts (job services started). The two caches
 * below serve peers that share a process, which get each fact within moments of each other;
 * a peer alone never opens a fact twice (it drops one it holds by its id first), so with
 * fewer than two readers they keep nothing.
 */
let factReaders = 0

/** Counts a peer among this process's fact readers until the returned function is called. */
export function joinFactReaders (): () => void {
  factReaders++
  let left = false
  return () => {
    if (left) return
    left = true
    factReaders--
    if (factReaders < 2) {
      verifiedEnvelopes.clear()
      openedFacts.clear()
      openedBytes = 0
    }
  }
}

/**
 * Envelopes whose signature this process has checked, by sha-256 of the
 * whole envelope (author, body and signature), oldest first, at most
 * MAX_VERIFIED_ENVELOPES. Peers sharing a process (the simulation's hosts)
 * check each fact once instead of once each. A verification is a pure
 * function of these bytes, so the cached answer is the answer.
 */
const verifiedEnvelopes = new Set<string>()

function envelopeKey (envelope: Uint8Array): string {
  return createHash('sha256').update(envelope).digest('base64')
}

function rememberVerified (key: string): void {
  if (factReaders < 2) return
  verifiedEnvelopes.add(key)
  if (verifiedEnvelopes.size > MAX_VERIFIED_ENVELOPES) {
    const oldest = verifiedEnvelopes.values().next()
    if (oldest.done !== true) verifiedEnvelopes.delete(oldest.value)
  }
}

/**
 * The facts this process opened lately, by the same key, oldest first, at most
 * MAX_OPENED_FACTS and MAX_OPENED_FACT_BYTES of envelopes: peers sharing a
 * process get one gossiped fact within moments of each other, and decode,
 * validate and hash it once between them. Opening is a pure function of the
 * bytes, and a SignedFact is never changed, so they share one.
 */
const openedFacts = new Map<string, SignedFact>()
let openedBytes = 0

function rememberOpened (key: string, sf: SignedFact): void {
  if (factReaders < 2 || sf.envelope.length > MAX_OPENED_FACT_BYTES) return
  openedFacts.set(key, sf)
  openedBytes += sf.envelope.length
  while (openedFacts.size > MAX_OPENED_FACTS || openedBytes > MAX_OPENED_FACT_BYTES) {
    const [oldest, was] = openedFacts.entries().next().value as [string, SignedFact]
    openedFacts.delete(oldest)
    openedBytes -= was.envelope.length
  }
}

/** Decodes and validates an envelope, without checking its signature. */
async function decodeEnvelope (envelope: Uint8Array): Promise<SignedFact & { sig: Uint8Array, body: Uint8Array }> {
  let outer: z.infer<typeof EnvelopeSchema>
  let fact: Fact
  try {
    outer = EnvelopeSchema.parse(dagCbor.decode(envelope))
    fact = FactSchema.parse(dagCbor.decode(outer.body))
  } catch (err) {
    throw new InvalidFactError(`malformed fact: ${(err as Error).message.slice(0, 200)}`)
  }
  return { id: await factId(outer.from, outer.body), from: outer.from, fact, envelope, sig: outer.sig, body: outer.body }
}

/** Throws for a fact stamped more than MAX_CLOCK_SKEW_MS after `now`. */
function checkStamp (fact: Fact, now: number): void {
  if ('at' in fact && fact.at > now + MAX_CLOCK_SKEW_MS) throw new InvalidFactError('fact is stamped in the future')
}

/**
 * Decodes, validates and verifies an envelope from the network. Throws
 * InvalidFactError for anything oversized, malformed, badly signed or stamped
 * too far in the future. `verified`: the envelope was verified before (facts
 * this peer persisted itself); it is decoded and validated, not checked again.
 */
export async function openFact (envelope: Uint8Array, now = Date.now(), options: { verified?: boolean } = {}): Promise<SignedFact> {
  if (envelope.length > MAX_FACT_BYTES) throw new InvalidFactError(`fact of ${envelope.length} bytes exceeds ${MAX_FACT_BYTES}`)
  if (options.verified === true) {
    const { sig: _sig, body: _body, ...sf } = await decodeEnvelope(envelope)
    checkStamp(sf.fact, now)
    return sf
  }
  const cacheKey = envelopeKey(envelope)
  const opened = openedFacts.get(cacheKey)
  if (opened != null) {
    checkStamp(opened.fact, now)
    return opened
  }
  const { sig, body, ...sf } = await decodeEnvelope(envelope)
  if (!verifiedEnvelopes.has(cacheKey)) {
    if (!await signedBy(sf.from, body, sig)) throw new InvalidFactError('fact signature does not verify')
    rememberVerified(cacheKey)
  }
  checkStamp(sf.fact, now)
  rememberOpened(cacheKey, sf)
  return sf
}
