/**
 * sim/load: the data phase. Every original device puts its own seeded
 * readings into the swarm (and its held-out readings, for the `train`
 * workload; the submitter the WebAssembly module, for the `wasm` workload); then the run waits, within a limit, for the devices'
 * provider announcements.
 *
 * Owns the order and concurrency of the puts and the announcement wait; never
 * generates data itself (workload.ts does, in each device's host).
 */
import { forEachLimit } from '../async/index.ts'
import { ANNOUNCE_TIMEOUT_MS, LOAD_CONCURRENCY } from './constants.ts'
import type { ResolvedSimOptions } from './options.ts'
import type { Progress } from './progress.ts'
import type { Device, Swarm } from './swarm.ts'

export interface LoadResult {
  /** Root CID of each original device's readings, by device index. */
  cids: string[]
  /** Root CID of each original device's held-out readings (the `train` workload evaluates its model on them). */
  heldOutCids?: string[]
  bytesInput: number
  dataLoadMs: number
  /** The WebAssembly module's CID (the `wasm` workload). */
  wasmCid?: string
}

/** Every original device puts its readings, LOAD_CONCURRENCY at once over the swarm; `submitter` puts the module. */
export async function loadData (opts: ResolvedSimOptions, swarm: Swarm, submitter: number, progress: Progress, signal?: AbortSignal): Promise<LoadResult> {
  const start = performance.now()
  const results = new Array<{ cid: string, bytes: number }>(opts.peers)
  let loaded = 0
  const heldOut = opts.workload === 'train' ? new Array<string>(opts.peers) : undefined
  progress('load', 'devices putting their readings', 0, opts.peers)
  await forEachLimit(Array.from({ length: opts.peers }, (_, i) => i), LOAD_CONCURRENCY, async (index) => {
    signal?.throwIfAborted()
    const d = swarm.device(index) as Device
    results[index] = await d.host.call('loadData', { index, workload: opts.workload, seed: opts.seed, rows: opts.rowsPerDevice, chunkSize: opts.chunkSize, replicas: opts.replicas })
    if (heldOut != null) heldOut[index] = (await d.host.call('loadData', { index, workload: opts.workload, seed: opts.seed, rows: opts.rowsPerDevice, chunkSize: opts.chunkSize, replicas: opts.replicas, heldOut: true })).cid
    progress('load', 'devices putting their readings', ++loaded, opts.peers)
  })
  let wasmCid: string | undefined
  if (opts.workload === 'wasm' && opts.wasmModule != null) {
    const d = swarm.device(submitter) as Device
    wasmCid = (await d.host.call('putBytes', { index: d.index, bytes: opts.wasmModule, replicas: opts.replicas })).cid
  }
  return {
    cids: results.map(r => r.cid),
    bytesInput: results.reduce((a, r) => a + r.bytes, 0),
    dataLoadMs: performance.now() - start,
    ...(wasmCid != null ? { wasmCid } : {}),
    ...(heldOut != null ? { heldOutCids: heldOut } : {})
  }
}

/**
 * Waits (up to ANNOUNCE_TIMEOUT_MS) for the devices' provider announcements,
 * and the placement each one settles, before the measurements and the job:
 * devices collect their readings well before anyone computes over them, so
 * the job starts on data the swarm can find, and the DHT is timed without
 * thousands of announcements in flight. Past the limit they go on in the
 * background and `settled` says so.
 */
export async function settleAnnouncements (swarm: Swarm, progress: Progress): Promise<{ ms: number, settled: boolean }> {
  const start = performance.now()
  progress('load', 'devices announcing their readings')
  const waits = await Promise.all(swarm.allHosts().map(async h => await h.call('whenProvided', { timeoutMs: ANNOUNCE_TIMEOUT_MS })))
  return { ms: performance.now() - start, settled: waits.every(w => w.settled) }
}
