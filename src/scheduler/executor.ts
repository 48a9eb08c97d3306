/**
 * Runs one task: assembles its input (the task's shard, record-aligned with
 * the following shards, plus the file's header line when the function needs
 * it), then runs the function: a trusted JS function registered on this
 * peer, or the job's WebAssembly module in the sandbox.
 *
 * Owns input assembly and the choice of runtime. Never runs network-supplied
 * code outside the sandbox.
 */
import { alignRecords, firstLine, type FunctionRegistry, type TaskFunction } from '../functions/index.ts'
import { runWasm, validateWasm, type WasmLimits } from '../sandbox/index.ts'
import { readAll, type JobDataAccess, type JobDocument } from '../jobs/index.ts'

/** Compiled-module cache size (WASM modules by CID). */
export const MAX_CACHED_MODULES = 16

export interface ExecutorInit {
  data: JobDataAccess
  functions: FunctionRegistry
  wasmLimits?: Partial<WasmLimits>
  /** TEST-ONLY: return wrong results (to test voting). */
  rigResults?: boolean
}

export class TaskExecutor {
  private readonly data: JobDataAccess
  private readonly functions: FunctionRegistry
  private readonly wasmLimits?: Partial<WasmLimits>
  private readonly rig: boolean
  private readonly modules = new Map<string, Promise<Uint8Array>>()
  private readonly manifests = new Map<string, Promise<Array<{ cid: { toString: () => string } }>>>()
  private readonly headers = new Map<string, Promise<string | null>>()

  constructor (init: ExecutorInit) {
    this.data = init.data
    this.functions = init.functions
    this.wasmLimits = init.wasmLimits
    this.rig = init.rigResults === true
  }

  /** Can this peer run the job's function at all? */
  canRun (doc: JobDocument): boolean {
    return doc.wasm != null || this.functions.has(doc.fn)
  }

  private shardsOf (input: string, signal?: AbortSignal): Promise<Array<{ cid: { toString: () => string } }>> {
    let p = this.manifests.get(input)
    if (p == null) {
      p = this.data.manifest(input, { signal }).then(m => m.shards)
      p.catch(() => { this.manifests.delete(input) })
      if (this.manifests.size > 256) this.manifests.clear()
      this.manifests.set(input, p)
    }
    return p
  }

  private module (cid: string, signal?: AbortSignal): Promise<Uint8Array> {
    let p = this.modules.get(cid)
    if (p == null) {
      p = readAll(this.data.get(cid, { signal })).then(async bytes => { await validateWasm(bytes); return bytes })
      p.catch(() => { this.modules.delete(cid) })
      if (this.modules.size >= MAX_CACHED_MODULES) this.modules.delete(this.modules.keys().next().value as string)
      this.modules.set(cid, p)
    }
    return p
  }

  private header (input: string, shards: Array<{ cid: { toString: () => string } }>, signal?: AbortSignal): Promise<string | null> {
    let p = this.headers.get(input)
    if (p == null) {
      p = (async () => {
        if (shards.length === 0) return null
        let next = 1
        const first = await this.data.getShard(shards[0].cid.toString(), { signal })
        return await firstLine(first, async () => next < shards.length ? await this.data.getShard(shards[next++].cid.toString(), { signal }) : null)
      })()
      p.catch(() => { this.headers.delete(input) })
      if (this.headers.size > 256) this.headers.clear()
      this.headers.set(input, p)
    }
    return p
  }

  /** Runs task `index` of `doc`; the result bytes. */
  async run (doc: JobDocument, index: number, signal?: AbortSignal): Promise<Uint8Array> {
    const task = doc.tasks[index]
    const input = doc.inputs[task.i]
    // a named function must be registered here (the registry throws UnknownFunctionError otherwise)
    const fn: TaskFunction | undefined = doc.wasm == null ? this.functions.get(doc.fn) : undefined
    const lineOriented = fn?.lineOriented ?? true
    const chunk = await this.data.getShard(task.cid, { signal })
    let bytes = chunk
    let shards: Array<{ cid: { toString: () => string } }> | undefined
    if (lineOriented) {
      let next = task.s + 1
      const count = doc.inputShards[task.i]
      bytes = await alignRecords(chunk, task.s === 0, async () => {
        if (next >= count) return null
        shards ??= await this.shardsOf(input, signal)
        return await this.data.getShard(shards[next++].cid.toString(), { signal })
      })
    }
    let out: Uint8Array
    if (fn == null) {
      const module = await this.module(doc.wasm as string, signal)
      const args = [doc.fn, ...Object.entries(doc.params).map(([k, v]) => `${k}=${v}`)]
      out = await runWasm(module, bytes, args, this.wasmLimits, { signal })
    } else {
      let header: string | null = null
      if (fn.needsHeader) {
        shards ??= await this.shardsOf(input, signal)
        header = task.s === 0 ? await firstLine(chunk, async () => null) : await this.header(input, shards, signal)
      }
      out = await fn.run(bytes, doc.params, { taskIndex: task.s, taskCount: doc.inputShards[task.i], header, signal })
    }
    if (this.rig) {
      const rigged = new Uint8Array(out.length + 1)
      rigged.set(out)
      rigged[out.length] = 0x21 // '!': a wrong answer that still looks plausible
      return rigged
    }
    return out
  }
}
