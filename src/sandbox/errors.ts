/**
 * sandbox/errors: the named errors runWasm and validateWasm throw, one per way an untrusted
 * module can fail, so the scheduler can tell a bad module from a bad input or a slow peer.
 */

/** The bytes are not a WebAssembly module we accept (not wasm, does not compile, forbidden imports, no `_start`). */
export class InvalidWasmError extends Error {
  static readonly code = 'ERR_INVALID_WASM'
  override name = 'InvalidWasmError'
}

/** The module ran longer than its wall-time limit and was killed. */
export class WasmTimeoutError extends Error {
  static readonly code = 'ERR_WASM_TIMEOUT'
  override name = 'WasmTimeoutError'
}

/** The module needed more memory than its limit. */
export class WasmMemoryLimitError extends Error {
  static readonly code = 'ERR_WASM_MEMORY_LIMIT'
  override name = 'WasmMemoryLimitError'
}

/** The module called proc_exit with a non-zero code. */
export class WasmExitError extends Error {
  static readonly code = 'ERR_WASM_EXIT'
  override name = 'WasmExitError'
  readonly exitCode: number
  /** the last bytes the module wrote to stderr, decoded as UTF-8 */
  readonly stderr: string

  constructor (exitCode: number, stderr: string) {
    super(`wasm module exited with code ${exitCode}${stderr === '' ? '' : `: ${stderr.trimEnd()}`}`)
    this.exitCode = exitCode
    this.stderr = stderr
  }
}

/** The module trapped (unreachable, out-of-bounds access, stack overflow, ...). */
export class WasmTrapError extends Error {
  static readonly code = 'ERR_WASM_TRAP'
  override name = 'WasmTrapError'
  readonly stderr: string

  constructor (message: string, stderr: string = '') {
    super(`wasm module trapped: ${message}${stderr === '' ? '' : ` (stderr: ${stderr.trimEnd()})`}`)
    this.stderr = stderr
  }
}

/** The module wrote more to stdout than maxOutputBytes. */
export class WasmOutputLimitError extends Error {
  static readonly code = 'ERR_WASM_OUTPUT_LIMIT'
  override name = 'WasmOutputLimitError'
}
