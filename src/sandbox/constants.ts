/**
 * sandbox/constants: the limits of the WebAssembly sandbox, each with its rule.
 * Constants only.
 */

/** Bytes in one WebAssembly page. */
export const WASM_PAGE_BYTES = 64 * 1024

/** The only import module a sandboxed program may link against: WASI preview 1, as the shim provides it. */
export const WASI_MODULE = 'wasi_snapshot_preview1'

/** Default wall-time limit of one run, from the moment a worker takes it to its result. */
export const DEFAULT_WASM_TIMEOUT_MS = 10_000

/** Default cap on a module's linear memory. */
export const DEFAULT_WASM_MEMORY_MB = 256

/** Default cap on what a module may write to stdout (its result). */
export const DEFAULT_WASM_MAX_OUTPUT_BYTES = 64 * 1024 * 1024

/** Largest memory cap a wasm32 module can have (65536 pages = 4 GiB). */
export const MAX_WASM_MEMORY_MB = 4096

/** How much of a module's stderr is kept (the tail), for error messages. */
export const WASM_STDERR_TAIL_BYTES = 4 * 1024

/**
 * A trap or failed exit while less than this fraction of the memory cap is left is reported
 * as WasmMemoryLimitError: allocators trap right after `memory.grow` fails at the cap.
 */
export const WASM_MEMORY_HEADROOM_FRACTION = 1 / 8

/** JS heap (old generation) of a sandbox worker thread; a module's linear memory is not part of it. */
export const SANDBOX_WORKER_HEAP_MB = 64

/** Stack of a sandbox worker thread, bounding a module's recursion depth. */
export const SANDBOX_WORKER_STACK_MB = 4

/**
 * Sandbox worker threads kept (busy and idle) per CPU of the process: the pool's bound is
 * this times os.availableParallelism(). Runs beyond it wait for a worker; their wall-time limit
 * starts when a worker takes them. Two per core, so a core never idles while a worker waits
 * for its next message.
 */
export const SANDBOX_WORKERS_PER_CPU = 2

/** An idle sandbox worker is terminated after this long without a run (each holds its own heap and thread). */
export const SANDBOX_IDLE_WORKER_TTL_MS = 30_000

/**
 * A sandbox worker is retired after this many runs even if all went well: it bounds whatever
 * a long-lived thread accumulates (heap fragmentation, reserved wasm address space).
 */
export const SANDBOX_MAX_RUNS_PER_WORKER = 5_000

/** Most compiled modules kept (keyed by sha-256 of the bytes and the memory cap). */
export const MAX_COMPILED_WASM_MODULES = 32

/** Most module bytes (sum of the wasm sizes) behind the compiled modules kept. */
export const MAX_COMPILED_WASM_BYTES = 64 * 1024 * 1024
