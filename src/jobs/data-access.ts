/**
 * jobs/data-access: what the job layer needs of the data layer, as
 * interfaces: `JobDataAccess` for the job layer and the scheduler above it
 * (the data service satisfies it), and `JobServiceData`, the part the job
 * service itself uses. Never imports the data service; tests may pass
 * another store.
 */
import type { CID } from 'multiformats/cid'
import { concat } from 'uint8arrays/concat'

export interface JobDataAccess {
  /** Stores content in the swarm; `listed: false` keeps it out of the user's `ls` (the job layer's own blocks). */
  put: (content: Uint8Array, options?: { signal?: AbortSignal, replicas?: number, listed?: boolean }) => Promise<CID>
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
  /** Releases a root this peer put, swarm-wide (see DataService.rm); absent: the job layer releases nothing. */
  rm?: (cid: CID | string) => Promise<unknown>
}

/**
 * What the job service uses of the data layer: storing job documents, pass
 * states and final results (`put`, `cidFor`), keeping result batches carried
 * by facts (`adoptBlock`), reading input roots (`manifest`), an input's first
 * lines (`getShard`), results, states and param blocks (`get`), releasing
 * the puts it made once they are no longer needed (`rm`).
 */
export type JobServiceData = Pick<JobDataAccess, 'put' | 'adoptBlock' | 'cidFor' | 'get' | 'manifest' | 'getShard' | 'rm'>

/** An input's manifest, as `JobDataAccess.manifest` gives it. */
export type InputManifest = Awaited<ReturnType<JobDataAccess['manifest']>>

/** Reads a whole stream into one buffer. */
export async function readAll (source: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = []
  for await (const chunk of source) chunks.push(chunk)
  return concat(chunks)
}
