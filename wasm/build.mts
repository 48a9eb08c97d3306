/**
 * wasm/build.mts: compiles every AssemblyScript entry `wasm/*.ts` to `build/wasm/NAME.wasm`
 * as a WASI command (exports `_start` and `memory`, imports only wasi_snapshot_preview1).
 * `npm run build:wasm` runs it; tests import `buildWasm`. It is a Node build tool (hence
 * .mts, not an AssemblyScript source); it must never be imported by src/.
 */

import { mkdir, readdir } from 'node:fs/promises'
import { basename, dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import asc from 'assemblyscript/asc'

/** The folder of the AssemblyScript sources (this file's folder). */
export const WASM_SOURCE_DIR = dirname(fileURLToPath(import.meta.url))

/** Where the modules are written: build/wasm at the repo root (gitignored). */
export const WASM_BUILD_DIR = join(WASM_SOURCE_DIR, '..', 'build', 'wasm')

/** asc flags shared by every entry. */
const ASC_FLAGS = [
  '--optimize',
  // run top-level code from an exported _start (WASI command), not the wasm start section
  '--exportStart', '_start',
  // report aborts on stderr + proc_exit instead of importing env.abort
  '--use', `abort=${relative(process.cwd(), join(WASM_SOURCE_DIR, 'lib', 'wasi')).split('\\').join('/')}/abort`
]

/** The entry names (`square`, ...) found in wasm/. */
export async function wasmEntries (): Promise<string[]> {
  const files = await readdir(WASM_SOURCE_DIR)
  return files.filter(f => f.endsWith('.ts') && !f.endsWith('.d.ts')).map(f => basename(f, '.ts')).sort()
}

/** Compiles the named entries (default: all) and returns the paths of the written modules. */
export async function buildWasm (names?: string[]): Promise<string[]> {
  await mkdir(WASM_BUILD_DIR, { recursive: true })
  const written: string[] = []
  for (const name of names ?? await wasmEntries()) {
    const outFile = join(WASM_BUILD_DIR, `${name}.wasm`)
    const errors: string[] = []
    const stderr = { write: (chunk: Uint8Array | string): void => { errors.push(String(chunk)) } }
    const { error } = await asc.main([join(WASM_SOURCE_DIR, `${name}.ts`), '-o', outFile, ...ASC_FLAGS], { stderr })
    if (error !== null) throw new Error(`asc failed for wasm/${name}.ts: ${error.message}\n${errors.join('')}`)
    written.push(outFile)
  }
  return written
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const file of await buildWasm()) console.log(`built ${relative(process.cwd(), file)}`)
}
