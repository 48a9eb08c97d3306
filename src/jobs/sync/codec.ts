/**
 * jobs/sync/codec: the messages of the job sync protocol on a length-prefixed
 * stream, each a dag-cbor frame of at most MAX_FACT_BYTES:
 * - `{have: {job: {author: count}}}`: what a side holds (the summary);
 * - `{ids: {job: [fact id]}}`: a frame of a list of fact ids (an offer or a
 *   want), at most MAX_SYNC_OFFER_IDS ids; a list is its frames then an empty
 *   frame, and holds at most MAX_SYNC_FACTS ids in all;
 * - a fact: its envelope as signed, exactly as gossiped; the facts end with
 *   an empty frame.
 * Validates every frame it reads; never decides what to offer or ask for.
 */
import * as dagCbor from '@ipld/dag-cbor'
import { lpStream } from '@libp2p/utils'
import { InvalidMessageError, type Stream } from '@libp2p/interface'
import { z } from 'zod'
import { MAX_FACT_BYTES, MAX_SYNC_FACTS, MAX_SYNC_OFFER_IDS } from '../constants.ts'

/** Longest job id a sync message may carry (a CID string). */
const MAX_JOB_ID_CHARS = 200
/** Longest author or fact id a sync message may carry (a peer id, or a base64url sha-256). */
const MAX_ID_CHARS = 100

/** A summary: per job, per author, how many facts the sender holds. */
const SummarySchema = z.record(z.string().max(MAX_JOB_ID_CHARS), z.record(z.string().max(MAX_ID_CHARS), z.number().int().min(0)))
export type SyncSummary = z.infer<typeof SummarySchema>
/** Either side's first message: its summary. */
const SyncHaveSchema = z.object({ have: SummarySchema })
/** One frame of a list of fact ids by job. */
const IdFrameSchema = z.object({ ids: z.record(z.string().max(MAX_JOB_ID_CHARS), z.array(z.string().max(MAX_ID_CHARS)).max(MAX_SYNC_OFFER_IDS)) })

export type SyncStream = ReturnType<typeof lpStream>

/** The length-prefixed framing of a sync stream. */
export function syncStream (stream: Stream): SyncStream {
  return lpStream(stream, { maxDataLength: MAX_FACT_BYTES })
}

/** Writes a summary. */
export async function writeHave (lp: SyncStream, have: SyncSummary, signal: AbortSignal): Promise<void> {
  await lp.write(dagCbor.encode({ have }), { signal })
}

/** Reads and validates a summary. */
export async function readHave (lp: SyncStream, signal: AbortSignal): Promise<SyncSummary> {
  return SyncHaveSchema.parse(dagCbor.decode((await lp.read({ signal })).subarray())).have
}

/** Writes fact ids by job as frames of at most MAX_SYNC_OFFER_IDS ids, then an empty frame. */
export async function writeIds (lp: SyncStream, lists: Record<string, string[]>, signal: AbortSignal): Promise<void> {
  let frame: Record<string, string[]> = {}
  let n = 0
  const flush = async (): Promise<void> => {
    if (n > 0) await lp.write(dagCbor.encode({ ids: frame }), { signal })
    frame = {}
    n = 0
  }
  for (const [job, ids] of Object.entries(lists)) {
    for (const id of ids) {
      (frame[job] ??= []).push(id)
      if (++n === MAX_SYNC_OFFER_IDS) await flush()
    }
  }
  await flush()
  await writeEnd(lp, signal)
}

/** Reads what writeIds wrote: fact ids by job, MAX_SYNC_FACTS at most. */
export async function readIds (lp: SyncStream, signal: AbortSignal): Promise<Record<string, string[]>> {
  const lists: Record<string, string[]> = {}
  let total = 0
  while (true) {
    const bytes = (await lp.read({ signal })).subarray()
    if (bytes.length === 0) return lists
    for (const [job, ids] of Object.entries(IdFrameSchema.parse(dagCbor.decode(bytes)).ids)) {
      total += ids.length
      if (total > MAX_SYNC_FACTS) throw new InvalidMessageError(`a sync list of more than ${MAX_SYNC_FACTS} fact ids`)
      ;(lists[job] ??= []).push(...ids)
    }
  }
}

/** Writes the empty frame that ends a list of ids or of facts. */
export async function writeEnd (lp: SyncStream, signal: AbortSignal): Promise<void> {
  await lp.write(new Uint8Array(0), { signal })
}
