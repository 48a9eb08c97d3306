/**
 * sandbox/constants: every limit of the WASM sandbox. Only constants live here.
 */

/** Bytes in one WebAssembly page. */
export const WASM_PAGE_BYTES = 64 * 1024

/** Default wall-time limit of one run, from worker start to result. */
export const DEFAULT_TIMEOUT_MS = 10_000

/** Default cap on the module's linear memory. */
export const DEFAULT_MEMORY_MB = 256

/** Default cap on what a module may write to stdout (its result). */
export const DEFAULT_MAX_OUTPUT_BYTES = 64 * 1024 * 1024

/** Largest memory limit a wasm32 module can have (65536 pages = 4 GiB). */
export const MAX_MEMORY_MB = 4096

/** How much of stderr is kept (the tail) for error messages. */
export const MAX_STDERR_TAIL_BYTES = 4 * 1024

/** JS heap (old generation) of the worker that hosts a module; wasm memory is not part of it. */
export const WORKER_HEAP_MB = 64

/** Stack of the worker thread, bounding the module's recursion depth. */
export const WORKER_STACK_MB = 4

/**
 * A trap or failed exit while less than this fraction of the memory cap is left is reported
 * as WasmMemoryLimitError: allocators trap right after `memory.grow` fails at the cap.
 */
export const MEMORY_LIMIT_HEADROOM_FRACTION = 1 / 8

/** The only import module a sandboxed program may link against. */
export const WASI_MODULE = 'wasi_snapshot_preview1'

/**
 * Worker threads the sandbox keeps (busy + idle) per CPU of the process: the pool's bound is
 * this times os.availableParallelism(). Runs beyond it wait for a worker; their wall-time limit
 * starts when a worker takes them. Two per core, so a core never idles while a worker waits
 * for its next message.
 */
export const POOL_WORKERS_PER_CPU = 2

/** An idle worker is terminated after this long without a run (it costs ~10 MiB of RSS). */
export const IDLE_WORKER_TTL_MS = 30_000

/**
 * A worker is retired after this many runs even if all went well: it bounds whatever a
 * long-lived thread accumulates (heap fragmentation, reserved wasm address space).
 */
export const MAX_RUNS_PER_WORKER = 5_000

/** Most compiled modules kept (keyed by sha-256 of the bytes and the memory cap). */
export const MAX_COMPILED_MODULES = 32

/** Most module bytes (sum of the wasm sizes) behind the compiled modules kept. */
export const MAX_COMPILED_MODULE_BYTES = 64 * 1024 * 1024
