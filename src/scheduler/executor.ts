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
 * A task of an iterative job's pass p runs the function's `passes.run` over
 * the same input as the task of its shard in every pass, at the accepted state
 * of pass p − 1 (read from the job layer, which keeps it). The blocks named by
 * a function's `blockParams` are read and verified once per job.
 *
 * Owns input assembly and the choice of runtime. Never runs network-supplied
 * code outside the sandbox.
 */
import type { AbortOptions, Counter, CounterGroup, Metrics } from '@libp2p/interface'
import { alignRecords, firstLine, type FunctionRegistry, type TaskContext, type TaskFunction } from '../functions/index.ts'
import { runWasm, validateWasm, WasmMemoryLimitError, WasmTimeoutError, type WasmLimits } from '../sandbox/index.ts'
import { raceAbort } from '../async/index.ts'
import { concat } from 'uint8arrays/concat'
import { endsWithNewline } from '../data/index.ts'
import {
  InvalidJobError, isIterative, passOf, readAll, readParamBlocks, shardCid, shardEndsLine, shardsOfTaskIndex, shardStartsLine,
  taskCount, type JobDataAccess, type JobDocument
} from '../jobs/index.ts'
import { MAX_CACHED_HEADERS, MAX_CACHED_MODULES, MAX_CACHED_PARAM_BLOCKS, MAX_PREFETCHED_SHARDS } from './constants.ts'
import type { CID } from 'multiformats/cid'

/** Options of one run. */
export interface RunOptions extends AbortOptions {
  /** The job's id: seeds what a task draws at random (`ctx.job`), and names the job whose pass states an iterative task runs at. */
  job?: string
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

/** What the executor reads of the job layer: the accepted states an iterative job's tasks run at. */
export interface PassStateSource {
  /** The verified bytes of the accepted state of pass `pass` of job `job`. */
  passState: (job: string, pass: number, options?: AbortOptions) => Promise<Uint8Array>
}

export interface TaskExecutorComponents {
  /** Where task inputs, modules and param blocks are read from. */
  data: JobDataAccess
  /** The trusted functions registered on this peer. */
  functions: FunctionRegistry
  /** The states iterative tasks run at; none: this executor runs no iterative task. */
  states?: PassStateSource
  /** Where the executor registers its `edgeswarm_sandbox_*` metrics; none: no metrics. */
  metrics?: Metrics
}

export class TaskExecutor implements TaskRunner {
  private readonly data: JobDataAccess
  private readonly functions: FunctionRegistry
  private readonly states?: PassStateSource
  private readonly wasmLimits?: Partial<WasmLimits>
  private readonly modules = new Map<string, Promise<Uint8Array>>()
  /** The blocks of each job's `blockParams`, by job id. */
  private readonly paramBlocks = new Map<string, Promise<Record<string, Uint8Array>>>()
  private readonly headers = new Map<string, Promise<string | null>>()
  /** Shards fetched ahead of their tasks, by CID (see prefetch). */
  private readonly ahead = new Map<string, Promise<Uint8Array>>()
  private readonly sandboxRuns?: Counter
  private readonly sandboxKills?: CounterGroup

  constructor (components: TaskExecutorComponents, init: TaskExecutorInit = {}) {
    this.data = components.data
    this.functions = components.functions
    this.states = components.states
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

  /** The blocks a job's function names in `blockParams`, read and verified once per job. */
  private blocksOf (job: string, doc: JobDocument, names: readonly string[], signal?: AbortSignal): Promise<Record<string, Uint8Array>> {
    let p = this.paramBlocks.get(job)
    if (p == null) {
      p = readParamBlocks(this.data, names, doc.params, { signal })
      p.catch(() => { this.paramBlocks.delete(job) })
      if (this.paramBlocks.size >= MAX_CACHED_PARAM_BLOCKS) this.paramBlocks.delete(this.paramBlocks.keys().next().value as string)
      this.paramBlocks.set(job, p)
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
   * the document says the task's last shard ends with '\n'. Into memory, so the
   * task does not hold its slot through network round trips or store reads
   * when it runs. At most MAX_PREFETCHED_SHARDS are held, oldest dropped
   * first. Best effort: a failed read is left to the run, which reads again.
   */
  prefetch (doc: JobDocument, index: number): void {
    if (taskCount(doc) === 0) return
    const { first, count } = shardsOfTaskIndex(doc, index)
    const head = doc.tasks[first]
    const last = head.s + count - 1
    const lineOriented = doc.wasm != null || (this.functions.has(doc.fn) && this.functions.get(doc.fn).lineOriented)
    const cids: CID[] = []
    for (let e = first; e < first + count; e++) cids.push(shardCid(doc, e))
    if (lineOriented) {
      if (shardStartsLine(doc, head.i, head.s) === undefined) cids.push(shardCid(doc, first - 1))
      if (last + 1 < doc.inputShards[head.i] && shardEndsLine(doc, head.i, last) !== true) cids.push(shardCid(doc, first + count))
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
   * Runs task `index` of `doc` (of an iterative job, its task in its pass): the result bytes,
   * over the concatenation of the task's shards. Sets `options.inputMs` to the time spent
   * assembling the input (reading or waiting for shards, the state, the param blocks).
   */
  async run (doc: JobDocument, index: number, options: RunOptions = {}): Promise<Uint8Array> {
    const { signal } = options
    const started = performance.now()
    const { first, count: own } = shardsOfTaskIndex(doc, index)
    const task = doc.tasks[first]
    const input = doc.inputs[task.i]
    // a named function must be registered here (the registry throws UnknownFunctionError otherwise)
    const fn: TaskFunction | undefined = doc.wasm == null ? this.functions.get(doc.fn) : undefined
    const lineOriented = fn?.lineOriented ?? true
    // the input's shards are consecutive entries of the document (spec.ts checks the order)
    const count = doc.inputShards[task.i]
    const inputStart = first - task.s
    const shardCidOf = (s: number): CID => shardCid(doc, inputStart + s)
    // the task's own shards are forgotten once read; its neighbours are kept, as the own shards of other tasks
    // read at once: a task of several shards waits for its slowest holder, not for their sum
    const chunks = await Promise.all(Array.from({ length: own }, async (_, k) => await this.shard(shardCidOf(task.s + k), true, signal)))
    if (lineOriented) {
      chunks.forEach((chunk, k) => {
        const ends = shardEndsLine(doc, task.i, task.s + k)
        if (ends !== undefined && ends !== endsWithNewline(chunk)) {
          throw new InvalidJobError(`shard ${task.s + k} of input ${task.i} ${ends ? 'does not end' : 'ends'} with a newline, the job document says otherwise`)
        }
      })
    }
    const owned = chunks.length === 1 ? chunks[0] : concat(chunks)
    let bytes = owned
    if (lineOriented) {
      let startsLine = shardStartsLine(doc, task.i, task.s)
      if (startsLine === undefined) {
        const before = await this.shard(shardCidOf(task.s - 1), false, signal)
        startsLine = endsWithNewline(before)
      }
      let next = task.s + own
      bytes = await alignRecords(owned, startsLine, async () => {
        if (next >= count) return null
        return await this.shard(shardCidOf(next++), false, signal)
      })
    }
    if (fn == null) {
      options.inputMs = performance.now() - started
      const module = await this.module(doc.wasm as string, signal)
      const args = [doc.fn, ...Object.entries(doc.params).map(([k, v]) => `${k}=${v}`)]
      return await this.sandboxed(module, bytes, args, signal)
    }
    const ctx: TaskContext = { taskIndex: task.s, taskCount: count, header: null, signal }
    if (fn.needsHeader) ctx.header = await this.header(input, count, shardCidOf, signal)
    if (options.job != null) ctx.job = options.job
    if ((fn.blockParams?.length ?? 0) > 0) {
      if (options.job == null) throw new InvalidJobError(`function ${fn.name} reads blocks: its task needs the job's id`)
      ctx.blocks = await this.blocksOf(options.job, doc, fn.blockParams ?? [], signal)
    }
    if (!isIterative(doc)) {
      options.inputMs = performance.now() - started
      return await fn.run(bytes, doc.params, ctx)
    }
    if (fn.passes == null) throw new InvalidJobError(`the job runs passes, and function ${fn.name} on this peer has none`)
    if (options.job == null || this.states == null) throw new InvalidJobError('a task of an iterative job needs its job\'s id and states')
    const pass = passOf(index, taskCount(doc))
    ctx.pass = pass
    ctx.state = pass === 0 ? null : await this.states.passState(options.job, pass - 1, { signal })
    options.inputMs = performance.now() - started
    return await fn.passes.run(bytes, doc.params, ctx)
  }
}
