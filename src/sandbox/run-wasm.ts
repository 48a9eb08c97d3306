/**
 * sandbox/run-wasm: runs one untrusted WASI module on a pooled worker thread, with a wall-time
 * limit, a memory cap and an output cap, and turns every way it can fail into a named error.
 * Modules are vetted and compiled once per (bytes, memory cap) and the compiled module is
 * posted to the worker; every run instantiates it afresh. The main thread never runs module
 * code and never blocks on it; it must never hand the module anything but its input bytes
 * and arguments.
 */

import { availableParallelism } from 'node:os'
import {
  DEFAULT_WASM_MAX_OUTPUT_BYTES, DEFAULT_WASM_MEMORY_MB, DEFAULT_WASM_TIMEOUT_MS, SANDBOX_IDLE_WORKER_TTL_MS, MAX_COMPILED_WASM_BYTES,
  MAX_COMPILED_WASM_MODULES, MAX_WASM_MEMORY_MB, SANDBOX_MAX_RUNS_PER_WORKER, WASM_STDERR_TAIL_BYTES, WASM_MEMORY_HEADROOM_FRACTION,
  SANDBOX_WORKERS_PER_CPU, WASM_PAGE_BYTES, SANDBOX_WORKER_HEAP_MB, SANDBOX_WORKER_STACK_MB
} from './constants.ts'
import {
  InvalidWasmError, WasmExitError, WasmMemoryLimitError, WasmOutputLimitError, WasmTrapError
} from './errors.ts'
import { ModuleCache } from './module-cache.ts'
import { capMemory, outlineModule, vetOutline } from './wasm-binary.ts'
import { webAssembly } from './webassembly.ts'
import type { WasmModule } from './webassembly.ts'
import { WorkerPool } from './worker-pool.ts'
import type { WorkerJob, WorkerOutcome } from './worker-protocol.ts'

export interface WasmLimits {
  /** wall time from worker start to result; the worker is terminated when it passes */
  timeoutMs: number
  /** cap on the module's linear memory, enforced through its memory maximum */
  memoryMB: number
  /** cap on stdout (the result); default DEFAULT_WASM_MAX_OUTPUT_BYTES */
  maxOutputBytes?: number
}

export interface RunWasmOptions {
  /** aborting kills the worker; runWasm then rejects with the signal's reason */
  signal?: AbortSignal
}

export const DEFAULT_WASM_LIMITS: WasmLimits = Object.freeze({
  timeoutMs: DEFAULT_WASM_TIMEOUT_MS,
  memoryMB: DEFAULT_WASM_MEMORY_MB,
  maxOutputBytes: DEFAULT_WASM_MAX_OUTPUT_BYTES
})

/** The worker entry, as source under src/ (run by Node's type stripping or vitest) or compiled under dist/. */
const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './wasm-worker.ts' : './wasm-worker.js', import.meta.url)

/** A module ready to run under one memory cap. */
interface PreparedModule {
  /** compiled from the vetted bytes with their memory capped */
  module: WasmModule
  /** the cap in pages when it (not the module's own maximum) bounds memory, else null */
  capPages: number | null
}

/** The cache variant of validateWasm: the bytes as given, no memory cap. */
const UNCAPPED = 'uncapped'

let pool: WorkerPool | undefined
const modules = new ModuleCache<PreparedModule>({ maxEntries: MAX_COMPILED_WASM_MODULES, maxBytes: MAX_COMPILED_WASM_BYTES })

/** The process-wide pool of sandbox workers (created on first use). Not part of the public API. */
export function sandboxWorkerPool (): WorkerPool {
  pool ??= new WorkerPool({
    url: WORKER_URL,
    maxWorkers: Math.max(2, availableParallelism() * SANDBOX_WORKERS_PER_CPU),
    idleTtlMs: SANDBOX_IDLE_WORKER_TTL_MS,
    maxRunsPerWorker: SANDBOX_MAX_RUNS_PER_WORKER,
    resourceLimits: { maxOldGenerationSizeMb: SANDBOX_WORKER_HEAP_MB, stackSizeMb: SANDBOX_WORKER_STACK_MB }
  })
  return pool
}

/** The process-wide cache of compiled modules. Not part of the public API. */
export function sandboxModuleCache (): ModuleCache<unknown> {
  return modules
}

/**
 * Checks that `bytes` is a module the sandbox will run: a core WebAssembly module that
 * compiles, imports only WASI preview 1 functions and exports `_start`.
 * @throws InvalidWasmError with the reason
 */
export async function validateWasm (bytes: Uint8Array): Promise<void> {
  await modules.get(bytes, UNCAPPED, async () => {
    const outline = outlineModule(bytes)
    return { module: await compileVetted(bytes, () => { vetOutline(outline) }), capPages: null }
  })
}

/**
 * Outlines, caps, compiles and vets `bytes` for a memory limit of `limitPages`, once per
 * (bytes, limitPages). @throws InvalidWasmError, WasmMemoryLimitError (initial memory above the cap)
 */
async function prepare (bytes: Uint8Array, limitPages: number): Promise<PreparedModule> {
  return await modules.get(bytes, `cap=${limitPages}`, async () => {
    const outline = outlineModule(bytes)
    const module = await compileVetted(capMemory(bytes, limitPages), () => { vetOutline(outline) })
    const declaredMax = outline.memories[0]?.max ?? null
    // only when our cap (not the module's own maximum) is what stopped it is it a memory-limit failure
    return { module, capPages: declaredMax !== null && declaredMax <= limitPages ? null : limitPages }
  })
}

/** Compiles (off the main thread's event loop) and then vets imports and exports. @throws InvalidWasmError */
async function compileVetted (bytes: Uint8Array, vet: () => void): Promise<WasmModule> {
  let module: WasmModule
  try {
    module = await webAssembly.compile(bytes)
  } catch (err) {
    throw new InvalidWasmError(`module does not compile: ${(err as Error).message}`)
  }
  vet()
  return module
}

/**
 * Runs a WASI preview 1 command: `input` on stdin, `args` as argv (argv[0] is the function
 * name, then `k=v` params), and resolves with what it wrote to stdout.
 *
 * @throws InvalidWasmError, WasmTimeoutError, WasmMemoryLimitError, WasmExitError, WasmTrapError,
 * WasmOutputLimitError, or the signal's reason when aborted
 */
export async function runWasm (module: Uint8Array, input: Uint8Array, args: string[], limits: Partial<WasmLimits> = {}, options: RunWasmOptions = {}): Promise<Uint8Array> {
  const { timeoutMs, memoryMB, maxOutputBytes } = resolveLimits(limits)
  const { signal } = options
  signal?.throwIfAborted()

  const limitPages = Math.max(1, Math.floor(memoryMB * 1024 * 1024 / WASM_PAGE_BYTES))
  const { module: compiled, capPages } = await prepare(module, limitPages)
  signal?.throwIfAborted()

  // a view into a larger buffer would be cloned whole into the worker: copy just the view, and hand the copy over
  const whole = input.byteOffset === 0 && input.byteLength === input.buffer.byteLength
  // an explicit copy: Buffer#slice is a view, and transferring a view's buffer would
  // detach memory still in use (a pooled Buffer slab, a cached shard) in this thread
  const ownInput = whole ? input : new Uint8Array(input)
  const job: WorkerJob = { module: compiled, input: ownInput, args, maxOutputBytes, maxStderrTailBytes: WASM_STDERR_TAIL_BYTES }
  const outcome: WorkerOutcome = await sandboxWorkerPool().run({
    job,
    timeoutMs,
    signal,
    transfer: whole ? [] : [ownInput.buffer as ArrayBuffer],
    // the instance is gone after any outcome; only a worker whose module hit the memory cap is not reused
    reusable: (outcome) => !hitMemoryCap(outcome, capPages)
  })
  return resultOf(outcome, capPages)
}

function resultOf (outcome: WorkerOutcome, capPages: number | null): Uint8Array {
  switch (outcome.kind) {
    case 'ok':
      return outcome.stdout
    case 'invalid':
      throw new InvalidWasmError(outcome.message)
    case 'output-limit':
      throw new WasmOutputLimitError('wasm module wrote more than its output limit to stdout')
    case 'exit':
    case 'trap': {
      if (capPages !== null && hitMemoryCap(outcome, capPages)) {
        const reason = outcome.kind === 'exit' ? `exited with code ${outcome.code}` : `trapped (${outcome.message})`
        throw new WasmMemoryLimitError(`wasm module ${reason} with its memory at the limit of ${capPages * WASM_PAGE_BYTES / (1024 * 1024)} MiB`)
      }
      if (outcome.kind === 'exit') throw new WasmExitError(outcome.code, outcome.stderr)
      throw new WasmTrapError(outcome.message, outcome.stderr)
    }
  }
}

/** Did a failed run end with its memory at the sandbox's cap (an allocation failed at the limit)? */
function hitMemoryCap (outcome: WorkerOutcome, capPages: number | null): boolean {
  return (outcome.kind === 'exit' || outcome.kind === 'trap') && capPages !== null &&
    outcome.memoryPages > capPages * (1 - WASM_MEMORY_HEADROOM_FRACTION)
}

function resolveLimits (limits: Partial<WasmLimits>): Required<WasmLimits> {
  const timeoutMs = limits.timeoutMs ?? DEFAULT_WASM_TIMEOUT_MS
  const memoryMB = limits.memoryMB ?? DEFAULT_WASM_MEMORY_MB
  const maxOutputBytes = limits.maxOutputBytes ?? DEFAULT_WASM_MAX_OUTPUT_BYTES
  if (!(timeoutMs > 0 && Number.isFinite(timeoutMs))) throw new RangeError(`timeoutMs must be a positive number, got ${timeoutMs}`)
  if (!(memoryMB > 0 && memoryMB <= MAX_WASM_MEMORY_MB)) throw new RangeError(`memoryMB must be in (0, ${MAX_WASM_MEMORY_MB}], got ${memoryMB}`)
  if (!(Number.isSafeInteger(maxOutputBytes) && maxOutputBytes >= 0)) throw new RangeError(`maxOutputBytes must be a non-negative integer, got ${maxOutputBytes}`)
  return { timeoutMs, memoryMB, maxOutputBytes }
}
