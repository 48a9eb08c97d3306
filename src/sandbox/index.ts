/**
 * @packageDocumentation
 *
 * sandbox/: runs untrusted WebAssembly (WASI preview 1 commands) for tasks. A module gets its
 * task input on stdin, `[functionName, 'k=v', ...]` as argv, and its stdout is the task result.
 * It runs on a worker thread under a wall-time limit, a memory cap and an output cap. Modules
 * are compiled once (cached by sha-256 of their bytes) and run on a bounded pool of reused
 * worker threads, each run in a fresh instance with fresh memory; a worker whose run timed
 * out, was aborted or hit the memory cap is terminated, never reused. Idle workers never keep
 * the process alive. The sandbox never gives a module the filesystem, the network or any host
 * function beyond the minimal WASI shim.
 *
 * @example
 *
 * ```ts
 * import { runWasm, validateWasm } from './sandbox/index.ts'
 *
 * await validateWasm(moduleBytes) // throws InvalidWasmError with the reason
 * const out = await runWasm(moduleBytes, new TextEncoder().encode('1\n2\n'), ['square'], { timeoutMs: 5_000 })
 * ```
 */

export { runWasm, validateWasm, DEFAULT_WASM_LIMITS } from './run-wasm.ts'
export type { WasmLimits, RunWasmOptions } from './run-wasm.ts'
export { lowerThisThreadPriority } from './thread-priority.ts'
export {
  InvalidWasmError, WasmTimeoutError, WasmMemoryLimitError, WasmExitError, WasmTrapError, WasmOutputLimitError
} from './errors.ts'
