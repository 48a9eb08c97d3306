/**
 * sandbox/wasm-binary: reads just enough of the WebAssembly binary format to vet a module
 * before it is compiled (imports, exports, memories) and rewrites its memory section so that
 * `memory.grow` cannot pass the sandbox's memory cap. Pure byte logic; it must never compile
 * or run the module.
 */

import { WASI_MODULE } from './constants.ts'
import { InvalidWasmError, WasmMemoryLimitError } from './errors.ts'
import { WASI_FUNCTION_NAMES } from './wasi-shim.ts'

const MAGIC = [0x00, 0x61, 0x73, 0x6d]
const VERSION = [0x01, 0x00, 0x00, 0x00]

const SECTION_IMPORT = 2
const SECTION_MEMORY = 5
const SECTION_EXPORT = 7

const KIND_FUNCTION = 0
const KIND_NAMES = ['function', 'table', 'memory', 'global', 'tag']

/** Limits flags: 0x00 = min only, 0x01 = min and max; others are shared memory or memory64. */
const LIMITS_MIN = 0x00
const LIMITS_MIN_MAX = 0x01

export interface WasmImport { module: string, name: string, kind: string }
export interface WasmExport { name: string, kind: string }
export interface MemoryLimits { min: number, max: number | null }

export interface ModuleOutline {
  imports: WasmImport[]
  exports: WasmExport[]
  /** the memories the module defines (not imports), in index order */
  memories: MemoryLimits[]
}

interface Section { id: number, start: number, end: number, headerStart: number }

class Reader {
  readonly bytes: Uint8Array
  offset: number
  readonly end: number

  constructor (bytes: Uint8Array, offset: number, end: number) {
    this.bytes = bytes
    this.offset = offset
    this.end = end
  }

  byte (): number {
    if (this.offset >= this.end) throw new InvalidWasmError(`truncated module at byte ${this.offset}`)
    return this.bytes[this.offset++]
  }

  u32 (): number {
    let result = 0
    for (let shift = 0; shift < 35; shift += 7) {
      const b = this.byte()
      result += (b & 0x7f) * 2 ** shift
      if ((b & 0x80) === 0) {
        if (result > 0xffffffff) break
        return result
      }
    }
    throw new InvalidWasmError(`malformed LEB128 integer before byte ${this.offset}`)
  }

  name (): string {
    const length = this.u32()
    if (this.offset + length > this.end) throw new InvalidWasmError(`truncated name at byte ${this.offset}`)
    const bytes = this.bytes.subarray(this.offset, this.offset + length)
    this.offset += length
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes)
    } catch {
      throw new InvalidWasmError('a name in the module is not valid UTF-8')
    }
  }

  limits (what: string): MemoryLimits {
    const flags = this.byte()
    if (flags !== LIMITS_MIN && flags !== LIMITS_MIN_MAX) {
      const kind = (flags & 0x04) !== 0 ? '64-bit' : (flags & 0x02) !== 0 ? 'shared' : `flags 0x${flags.toString(16)}`
      throw new InvalidWasmError(`${what} uses ${kind} limits, which the sandbox does not support`)
    }
    const min = this.u32()
    const max = flags === LIMITS_MIN_MAX ? this.u32() : null
    return { min, max }
  }
}

function sections (bytes: Uint8Array): Section[] {
  if (bytes.length < 8 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new InvalidWasmError('not a WebAssembly module (missing the \\0asm magic number)')
  }
  if (VERSION.some((b, i) => bytes[4 + i] !== b)) {
    throw new InvalidWasmError('unsupported WebAssembly binary version (only core modules, version 1, are accepted)')
  }
  const reader = new Reader(bytes, 8, bytes.length)
  const found: Section[] = []
  while (reader.offset < reader.end) {
    const headerStart = reader.offset
    const id = reader.byte()
    const size = reader.u32()
    const start = reader.offset
    if (start + size > bytes.length) throw new InvalidWasmError(`section ${id} runs past the end of the module`)
    found.push({ id, start, end: start + size, headerStart })
    reader.offset = start + size
  }
  return found
}

/** Reads the imports, exports and memories of a module. @throws InvalidWasmError */
export function outlineModule (bytes: Uint8Array): ModuleOutline {
  const outline: ModuleOutline = { imports: [], exports: [], memories: [] }
  for (const section of sections(bytes)) {
    const reader = new Reader(bytes, section.start, section.end)
    if (section.id === SECTION_IMPORT) {
      for (let count = reader.u32(); count > 0; count--) {
        const module = reader.name()
        const name = reader.name()
        const kind = reader.byte()
        outline.imports.push({ module, name, kind: KIND_NAMES[kind] ?? `kind ${kind}` })
        if (kind !== KIND_FUNCTION) return outline // vetImports rejects it; the rest is not needed
        reader.u32() // type index
      }
    } else if (section.id === SECTION_MEMORY) {
      for (let count = reader.u32(); count > 0; count--) outline.memories.push(reader.limits('memory'))
    } else if (section.id === SECTION_EXPORT) {
      for (let count = reader.u32(); count > 0; count--) {
        const name = reader.name()
        const kind = reader.byte()
        reader.u32() // index
        outline.exports.push({ name, kind: KIND_NAMES[kind] ?? `kind ${kind}` })
      }
    }
  }
  return outline
}

/**
 * Checks what a module links against and exposes: only WASI preview 1 functions may be
 * imported, and it must export a `_start` function (and its memory, if it uses WASI).
 * @throws InvalidWasmError
 */
export function vetOutline (outline: ModuleOutline): void {
  for (const imp of outline.imports) {
    const what = `"${imp.module}"."${imp.name}"`
    if (imp.module !== WASI_MODULE) {
      throw new InvalidWasmError(`module imports ${imp.kind} ${what}: only "${WASI_MODULE}" imports are allowed`)
    }
    if (imp.kind !== 'function') throw new InvalidWasmError(`module imports ${imp.kind} ${what}: only functions may be imported`)
    if (!WASI_FUNCTION_NAMES.has(imp.name)) throw new InvalidWasmError(`module imports ${what}, which is not a WASI preview 1 function`)
  }
  if (!outline.exports.some(e => e.name === '_start' && e.kind === 'function')) {
    throw new InvalidWasmError('module does not export a "_start" function (build it as a WASI command)')
  }
  if (outline.imports.length > 0 && !outline.exports.some(e => e.name === 'memory' && e.kind === 'memory')) {
    throw new InvalidWasmError('module uses WASI but does not export its memory as "memory"')
  }
}

/**
 * Returns a copy of the module whose memories have `maximum` = min(declared maximum, maxPages).
 * @throws WasmMemoryLimitError if a memory's initial size is already above maxPages
 */
export function capMemory (bytes: Uint8Array, maxPages: number): Uint8Array {
  const section = sections(bytes).find(s => s.id === SECTION_MEMORY)
  if (section === undefined) return bytes
  const reader = new Reader(bytes, section.start, section.end)
  const body: number[] = []
  const count = reader.u32()
  writeU32(body, count)
  for (let i = 0; i < count; i++) {
    const { min, max } = reader.limits('memory')
    if (min > maxPages) {
      throw new WasmMemoryLimitError(`module needs at least ${pagesToMB(min)} MiB of memory at start, above the limit of ${pagesToMB(maxPages)} MiB`)
    }
    body.push(LIMITS_MIN_MAX)
    writeU32(body, min)
    writeU32(body, Math.min(max ?? maxPages, maxPages))
  }
  if (reader.offset !== section.end) throw new InvalidWasmError('memory section has trailing bytes')
  const header = [SECTION_MEMORY]
  writeU32(header, body.length)
  const out = new Uint8Array(section.headerStart + header.length + body.length + (bytes.length - section.end))
  out.set(bytes.subarray(0, section.headerStart), 0)
  out.set(header, section.headerStart)
  out.set(body, section.headerStart + header.length)
  out.set(bytes.subarray(section.end), section.headerStart + header.length + body.length)
  return out
}

function writeU32 (out: number[], value: number): void {
  do {
    let b = value & 0x7f
    value = Math.floor(value / 128)
    if (value !== 0) b |= 0x80
    out.push(b)
  } while (value !== 0)
}

function pagesToMB (pages: number): number {
  return pages / 16
}
