/**
 * What the job layer needs of the data layer, as an interface: the data
 * service satisfies it, and tests may pass another store.
 */
import type { CID } from 'multiformats/cid'
import { concat } from 'uint8arrays/concat'

export interface JobDataAccess {
  put: (content: Uint8Array, options?: { signal?: AbortSignal, replicas?: number }) => Promise<CID>
  /** Stores one small block here only, unannounced (see DataService.keepBlock); its raw CID. */
  keepBlock: (bytes: Uint8Array) => Promise<CID>
  /** Keeps a block carried by a fact when this peer is among its closest (see DataService.adoptBlock); whether it is held here. */
  adoptBlock: (cid: CID | string, load: () => Uint8Array | undefined) => Promise<boolean>
  /** The CID `put` gives `content`, with nothing stored or sent. */
  cidFor: (content: Uint8Array) => Promise<CID>
  get: (cid: CID | string, options?: { signal?: AbortSignal }) => AsyncIterable<Uint8Array>
  /** A file's manifest: its shards in order, each with `nl` (ends with '\n') when the manifest says. */
  manifest: (cid: CID | string, options?: { signal?: AbortSignal }) => Promise<{ size: number, shards: Array<{ cid: CID, size: number, nl?: boolean }> }>
  getShard: (cid: CID | string, options?: { signal?: AbortSignal }) => Promise<Uint8Array>
  hasLocal: (cid: CID | string) => Promise<boolean>
}

/** Reads a whole stream into one buffer. */
export async function readAll (source: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = []
  for await (const chunk of source) chunks.push(chunk)
  return concat(chunks)
}
