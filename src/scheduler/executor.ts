/**
 * scheduler/executor: runs one task. `TaskRunner` is what the scheduler
 * needs of an executor; `TaskExecutor` is the one a node uses. It assembles
 * the task's input: the task's shard, record-aligned with its neighbours
 * (a task owns the lines that start in its shard: the shard before says
 * whether a line starts at the task's start, the following ones finish its
 * last line; the job document says both when the input's manifest did, and
 * then a shard that ends with '\n' needs no neighbour at all), plus the
 * file's header line when the function needs it. Then it runs the function:
 * a trusted JS function registered on this peer, or the job's WebAssembly
 * module in the sandbox. It reads the shards of queued tasks ahead, into
 * memory, so a task holds its slot for its run, not for its reads.
 *
 * Owns input assembly and the choice of runtime. Never runs network-supplied
 * code outside the sandbox.
 */
import type { AbortOptions, Counter, CounterGroup, Metrics } from '@libp2p/interface'
import { alignRecords, firstLine, type FunctionRegistry, type TaskFunction } from '../functions/index.ts'
import { runWasm, validateWasm, WasmMemoryLimitError, WasmTimeoutError, type WasmLimits } from '../sandbox/index.ts'
import { raceAbort } from '../async/index.ts'
import { endsWithNewline } from '../data/index.ts'
import { InvalidJobError, readAll, shardEndsLine, shardStartsLine, taskCid, type JobDataAccess, type JobDocument } from '../jobs/index.ts'
import { MAX_CACHED_HEADERS, MAX_CACHED_MODULES, MAX_PREFETCHED_SHARDS } from './constants.ts'
import type { CID } from 'multiformats/cid'

/** Options of one run. */
export interface RunOptions extends AbortOptions {
  /**
   * Set by `run` once the task's input is assembled: the ms it spent reading
   * or waiting for shards, which the scheduler leaves out of the task's
   * measured time (claims are sized by the work, and inputs are read ahead).
   */
  inputMs?: number
}

/** What the scheduler needs of an executor. */
export interface TaskRunner {
  /** Whether this peer can run the job's function at all. */
  canRun: (doc: JobDocument) => boolean
  /** Starts reading the input of task `index` of `doc` ahead of its run; best effort. */
  prefetch: (doc: JobDocument, index: number) => void
  /** Forgets every input read ahead (the scheduler stopped). */
  clearPrefetched: () => void
  /** Runs task `index` of `doc`: its result bytes. */
  run: (doc: JobDocument, index: number, options?: RunOptions) => Promise<Uint8Array>
}

export interface TaskExecutorInit {
  /** Limits of the WebAssembly sandbox. @default the sandbox's defaults */
  wasmLimits?: Partial<WasmLimits>
}

export interface TaskExecutorComponents {
  /** Where task inputs and modules are read from. */
  data: JobDataAccess
  /** The trusted functions registered on this peer. */
  functions: FunctionRegistry
  /** Where the executor registers its `edgeswarm_sandbox_*` metrics; none: no metrics. */
  metrics?: Metrics
}

export class TaskExecutor implements TaskRunner {
  private readonly data: JobDataAccess
  private readonly functions: FunctionRegistry
  private readonly wasmLimits?: Partial<WasmLimits>
  private readonly modules = new Map<string, Promise<Uint8Array>>()
  private readonly headers = new Map<string, Promise<string | null>>()
  /** Shards fetched ahead of their tasks, by CID (see prefetch). */
  private readonly ahead = new Map<string, Promise<Uint8Array>>()
  private readonly sandboxRuns?: Counter
  private readonly sandboxKills?: CounterGroup

  constructor (components: TaskExecutorComponents, init: TaskExecutorInit = {}) {
    this.data = components.data
    this.functions = components.functions
    this.wasmLimits = init.wasmLimits
    this.sandboxRuns = components.metrics?.registerCounter('edgeswarm_sandbox_runs_total', { help: 'WebAssembly task runs started in the sandbox' })
    this.sandboxKills = components.metrics?.registerCounterGroup('edgeswarm_sandbox_kills_total', { label: 'reason', help: 'Sandbox runs ended by killing their worker: wall time (timeout), memory cap (memory), or aborted' })
  }

  /** Runs a module in the sandbox, counting the run and a kill. */
  private async sandboxed (module: Uint8Array, input: Uint8Array, args: string[], signal?: AbortSignal): Promise<Uint8Array> {
    this.sandboxRuns?.increment()
    try {
      return await runWasm(module, input, args, this.wasmLimits, { signal })
    } catch (err) {
      if (err instanceof WasmTimeoutError) this.sandboxKills?.increment({ timeout: true })
      else if (err instanceof WasmMemoryLimitError) this.sandboxKills?.increment({ memory: true })
      else if (signal?.aborted === true) this.sandboxKills?.increment({ aborted: true })
      throw err
    }
  }

  /** Whether this peer can run the job's function at all: a module, or a function registered here. */
  canRun (doc: JobDocument): boolean {
    return doc.wasm != null || this.functions.has(doc.fn)
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

  /** The first line of input `input`, which has `count` shards, the n-th being `shardCid(n)`. */
  private header (input: string, count: number, shardCid: (n: number) => CID, signal?: AbortSignal): Promise<string | null> {
    let p = this.headers.get(input)
    if (p == null) {
      p = (async () => {
        if (count === 0) return null
        let next = 1
        const first = await this.data.getShard(shardCid(0), { signal })
        return await firstLine(first, async () => next < count ? await this.data.getShard(shardCid(next++), { signal }) : null)
      })()
      p.catch(() => { this.headers.delete(input) })
      if (this.headers.size > MAX_CACHED_HEADERS) this.headers.clear()
      this.headers.set(input, p)
    }
    return p
  }

  /**
   * Starts reading the shards task `index` of `doc` reads into memory: its
   * own and, for line-oriented functions, the one before unless the document
   * says whether a line starts at the task's start, and the next one unless
   * the document says the task's shard ends with '\n'. Into memory, so the
   * task does not hold its slot through network round trips or store reads
   * when it runs. At most MAX_PREFETCHED_SHARDS are held, oldest dropped
   * first. Best effort: a failed read is left to the run, which reads again.
   */
  prefetch (doc: JobDocument, index: number): void {
    const task = doc.tasks[index]
    if (task === undefined) return
    const lineOriented = doc.wasm != null || (this.functions.has(doc.fn) && this.functions.get(doc.fn).lineOriented)
    const cids = [taskCid(doc, index)]
    if (lineOriented) {
      if (shardStartsLine(doc, task.i, task.s) === undefined) cids.push(taskCid(doc, index - 1))
      if (task.s + 1 < doc.inputShards[task.i] && shardEndsLine(doc, task.i, task.s) !== true) cids.push(taskCid(doc, index + 1))
    }
    for (const cid of cids) {
      const key = cid.toString()
      if (this.ahead.has(key)) continue
      const p = this.data.getShard(cid)
      p.catch(() => { if (this.ahead.get(key) === p) this.ahead.delete(key) })
      this.ahead.set(key, p)
      if (this.ahead.size > MAX_PREFETCHED_SHARDS) this.ahead.delete(this.ahead.keys().next().value as string)
    }
  }

  /** Forgets every shard read ahead (the scheduler stopped). */
  clearPrefetched (): void {
    this.ahead.clear()
  }

  /** A shard: the one read ahead if there is one (and `drop` forgets it), else read now. */
  private async shard (cid: CID, drop: boolean, signal?: AbortSignal): Promise<Uint8Array> {
    const key = cid.toString()
    const ahead = this.ahead.get(key)
    if (ahead == null) return await this.data.getShard(cid, { signal })
    if (drop) this.ahead.delete(key)
    try {
      return signal == null ? await ahead : await raceAbort(ahead, signal)
    } catch (err) {
      if (signal?.aborted === true) throw err
      // the read ahead failed: one more try of its own, as without a prefetch
      return await this.data.getShard(cid, { signal })
    }
  }

  /**
   * Runs task `index` of `doc`: the result bytes. Sets `options.inputMs` to
   * the time spent assembling the input (reading or waiting for shards).
   */
  async run (doc: JobDocument, index: number, options: RunOptions = {}): Promise<Uint8Array> {
    const { signal } = options
    const started = performance.now()
    const task = doc.tasks[index]
    const input = doc.inputs[task.i]
    // a named function must be registered here (the registry throws UnknownFunctionError otherwise)
    const fn: TaskFunction | undefined = doc.wasm == null ? this.functions.get(doc.fn) : undefined
    const lineOriented = fn?.lineOriented ?? true
    // the input's shards are its consecutive tasks (spec.ts checks the order)
    const count = doc.inputShards[task.i]
    const firstTask = index - task.s
    const shardCid = (s: number): CID => taskCid(doc, firstTask + s)
    // the task's own shard is forgotten once read; its neighbours are kept, as the own shards of other tasks
    const chunk = await this.shard(taskCid(doc, index), true, signal)
    let bytes = chunk
    if (lineOriented) {
      const ends = shardEndsLine(doc, task.i, task.s)
      if (ends !== undefined && ends !== endsWithNewline(chunk)) {
        throw new InvalidJobError(`shard ${task.s} of input ${task.i} ${ends ? 'does not end' : 'ends'} with a newline, the job document says otherwise`)
      }
      let startsLine = shardStartsLine(doc, task.i, task.s)
      if (startsLine === undefined) {
        const before = await this.shard(shardCid(task.s - 1), false, signal)
        startsLine = endsWithNewline(before)
      }
      let next = task.s + 1
      bytes = await alignRecords(chunk, startsLine, async () => {
        if (next >= count) return null
        return await this.shard(shardCid(next++), false, signal)
      })
    }
    options.inputMs = performance.now() - started
    if (fn == null) {
      const module = await this.module(doc.wasm as string, signal)
      const args = [doc.fn, ...Object.entries(doc.params).map(([k, v]) => `${k}=${v}`)]
      return await this.sandboxed(module, bytes, args, signal)
    }
    const header = fn.needsHeader ? await this.header(input, count, shardCid, signal) : null
    return await fn.run(bytes, doc.params, { taskIndex: task.s, taskCount: doc.inputShards[task.i], header, signal })
  }
}
