/**
 * sandbox/webassembly: typed access to the engine's global `WebAssembly` object. The project
 * compiles without the DOM lib, which is where TypeScript declares it; this module declares
 * just the parts the sandbox uses. Types and one binding only; never compiles anything itself.
 */

export interface WasmMemory {
  readonly buffer: ArrayBuffer
}

/** A compiled module; opaque to the sandbox. */
export interface WasmModule {
  readonly __brand?: 'WasmModule'
}

export interface WasmInstance {
  readonly exports: Record<string, unknown>
}

export type WasmImports = Record<string, Record<string, unknown>>

export interface WebAssemblyApi {
  compile(bytes: Uint8Array): Promise<WasmModule>
  instantiate(module: WasmModule, imports: WasmImports): Promise<WasmInstance>
  Memory: abstract new (...args: never[]) => WasmMemory
  LinkError: abstract new (...args: never[]) => Error
}

export const webAssembly: WebAssemblyApi = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly
