/**
 * test/sandbox/wasm-fixtures: tiny hand-assembled WebAssembly modules for the sandbox tests.
 * Each is real wasm, written as opcodes with comments, through a minimal binary encoder.
 */

const I32 = 0x7f
const I64 = 0x7e

/** unsigned LEB128 */
function u32 (n: number): number[] {
  const out: number[] = []
  do {
    let b = n & 0x7f
    n = Math.floor(n / 128)
    if (n !== 0) b |= 0x80
    out.push(b)
  } while (n !== 0)
  return out
}

/** signed LEB128 (for i32.const) */
function s32 (n: number): number[] {
  const out: number[] = []
  for (;;) {
    const b = n & 0x7f
    n >>= 7
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b)
      return out
    }
    out.push(b | 0x80)
  }
}

const bytesOf = (s: string): number[] => [...new TextEncoder().encode(s)]
const name = (s: string): number[] => [...u32(bytesOf(s).length), ...bytesOf(s)]
const vec = (items: number[][]): number[] => [...u32(items.length), ...items.flat()]
const section = (id: number, body: number[]): number[] => body.length === 0 ? [] : [id, ...u32(body.length), ...body]

// instructions
export const op = {
  i32: (n: number): number[] => [0x41, ...s32(n)],
  i64: (n: number): number[] => [0x42, ...s32(n)],
  call: (f: number): number[] => [0x10, ...u32(f)],
  drop: [0x1a],
  load: [0x28, 0x02, 0x00], // i32.load align=4 offset=0
  store: [0x36, 0x02, 0x00], // i32.store align=4 offset=0
  memoryGrow: [0x40, 0x00],
  eq: [0x46],
  eqz: [0x45],
  block: [0x02, 0x40], // block (no result)
  loop: [0x03, 0x40], // loop (no result)
  if: [0x04, 0x40], // if (no result)
  br: (depth: number): number[] => [0x0c, ...u32(depth)],
  brIf: (depth: number): number[] => [0x0d, ...u32(depth)],
  unreachable: [0x00],
  end: [0x0b]
}

export interface ModuleSpec {
  /** [module, name, params, results] function imports; they take function indices 0.. */
  imports?: Array<[string, string, number[], number[]]>
  /** body of the exported `_start` (function index = number of imports) */
  start: number[][]
  memory?: { min: number, max?: number }
  /** active data segments in memory 0: [offset, text] */
  data?: Array<[number, string]>
  exportStart?: boolean
}

/** Assembles a module with one `_start: () -> ()` function. */
export function assemble (spec: ModuleSpec): Uint8Array {
  const imports = spec.imports ?? []
  const types = [[0x60, 0, 0], ...imports.map(([, , params, results]) => [0x60, ...vec(params.map(p => [p])), ...vec(results.map(r => [r]))])]
  const importEntries = imports.map(([module, field], i) => [...name(module), ...name(field), 0x00, ...u32(i + 1)])
  const body = [0x00 /* no locals */, ...spec.start.flat(), ...op.end]
  const exportsList: number[][] = []
  if (spec.exportStart !== false) exportsList.push([...name('_start'), 0x00, ...u32(imports.length)])
  if (spec.memory !== undefined) exportsList.push([...name('memory'), 0x02, 0x00])
  const memory = spec.memory === undefined
    ? []
    : vec([spec.memory.max === undefined ? [0x00, ...u32(spec.memory.min)] : [0x01, ...u32(spec.memory.min), ...u32(spec.memory.max)]])
  const data = (spec.data ?? []).map(([offset, text]) => [0x00, ...op.i32(offset), ...op.end, ...name(text)])
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // \0asm, version 1
    ...section(1, vec(types)), // type section: type 0 = () -> (), then one per import
    ...section(2, importEntries.length === 0 ? [] : vec(importEntries)),
    ...section(3, vec([u32(0)])), // function section: _start has type 0
    ...section(5, memory),
    ...section(7, vec(exportsList)),
    ...section(10, vec([[...u32(body.length), ...body]])), // code section
    ...section(11, data.length === 0 ? [] : vec(data))
  ])
}

const WASI = 'wasi_snapshot_preview1'
const fdRead: [string, string, number[], number[]] = [WASI, 'fd_read', [I32, I32, I32, I32], [I32]]
const fdWrite: [string, string, number[], number[]] = [WASI, 'fd_write', [I32, I32, I32, I32], [I32]]
const procExit: [string, string, number[], number[]] = [WASI, 'proc_exit', [I32], []]

/** `loop br 0 end`: spins forever. */
export const loopForever = assemble({ start: [op.loop, op.br(0), op.end] })

/** Traps at once with `unreachable`. */
export const trapAtOnce = assemble({ start: [op.unreachable] })

/** Grows memory 1 MiB at a time until memory.grow returns -1, then traps (like an allocator). */
export const growForever = assemble({
  memory: { min: 1 },
  start: [
    op.loop,
    op.i32(16), op.memoryGrow, op.i32(-1), op.eq, // memory.grow(16) == -1 ?
    op.if, op.unreachable, op.end,
    op.br(0),
    op.end
  ]
})

/** Copies stdin to stdout in chunks: fd_read(0, iov@0, 1, nread@8) / fd_write(1, iov@0, 1, nwritten@12). */
export const echoSpec: ModuleSpec = {
  imports: [fdRead, fdWrite],
  memory: { min: 2 },
  start: [
    op.block, op.loop,
    op.i32(0), op.i32(16), op.store, // iov.buf = 16
    op.i32(4), op.i32(60_000), op.store, // iov.len = 60000
    op.i32(0), op.i32(0), op.i32(1), op.i32(8), op.call(0), op.drop, // fd_read(0, 0, 1, 8)
    op.i32(8), op.load, op.eqz, op.brIf(1), // if nread == 0: done
    op.i32(4), op.i32(8), op.load, op.store, // iov.len = nread
    op.i32(1), op.i32(0), op.i32(1), op.i32(12), op.call(1), op.drop, // fd_write(1, 0, 1, 12)
    op.br(0),
    op.end, op.end
  ]
}
export const echo = assemble(echoSpec)

/** Writes its argv buffer ("a\0b\0...") to stdout: args_sizes_get(0, 4); args_get(64, 1024); fd_write(1, iov@8). */
export const printArgs = assemble({
  imports: [[WASI, 'args_sizes_get', [I32, I32], [I32]], [WASI, 'args_get', [I32, I32], [I32]], fdWrite],
  memory: { min: 1 },
  start: [
    op.i32(0), op.i32(4), op.call(0), op.drop, // args_sizes_get(&argc=0, &bufsize=4)
    op.i32(64), op.i32(1024), op.call(1), op.drop, // args_get(argv=64, buf=1024)
    op.i32(8), op.i32(1024), op.store, // iov.buf = 1024
    op.i32(12), op.i32(4), op.load, op.store, // iov.len = bufsize
    op.i32(1), op.i32(8), op.i32(1), op.i32(16), op.call(2), op.drop // fd_write(1, 8, 1, 16)
  ]
})

/** Writes "boom\n" to stderr and exits with code 3. */
export const exitThree = assemble({
  imports: [fdWrite, procExit],
  memory: { min: 1 },
  data: [[100, 'boom\n']],
  start: [
    op.i32(0), op.i32(100), op.store, op.i32(4), op.i32(5), op.store, // iov = {100, 5}
    op.i32(2), op.i32(0), op.i32(1), op.i32(8), op.call(0), op.drop, // fd_write(2, 0, 1, 8)
    op.i32(3), op.call(1) // proc_exit(3)
  ]
})

/**
 * Tries to open "/etc/passwd" via path_open on fd 3 (as libc would with a preopen) and exits
 * with the errno it got; proc_exit(0) would mean it got a file.
 */
export const tryPathOpen = assemble({
  imports: [[WASI, 'path_open', [I32, I32, I32, I32, I32, I64, I64, I32, I32], [I32]], procExit],
  memory: { min: 1 },
  data: [[100, '/etc/passwd']],
  start: [
    op.i32(3), op.i32(0), op.i32(100), op.i32(11), op.i32(0), op.i64(-1), op.i64(-1), op.i32(0), op.i32(200),
    op.call(0), // path_open(3, 0, "/etc/passwd", 11, 0, all rights, all rights, 0, &fd=200)
    op.call(1) // proc_exit(errno)
  ]
})

/** Tries sock_send and exits with the errno it got. */
export const trySockSend = assemble({
  imports: [[WASI, 'sock_send', [I32, I32, I32, I32, I32], [I32]], procExit],
  memory: { min: 1 },
  start: [op.i32(3), op.i32(0), op.i32(0), op.i32(0), op.i32(8), op.call(0), op.call(1)]
})

/** Imports a host function from "env": must be rejected. */
export const importsEnv = assemble({
  imports: [['env', 'something', [], []]],
  start: [op.call(0)]
})

/** Imports a function that is not part of WASI preview 1. */
export const importsUnknownWasi = assemble({
  imports: [[WASI, 'get_secret_key', [], []]],
  memory: { min: 1 },
  start: [op.call(0)]
})

/** Valid, but exports no `_start`. */
export const noStart = assemble({ start: [], exportStart: false })

/** Starts with 40 MiB of memory (640 pages) and a declared maximum of 100 pages that is below it: does not compile. */
export const needsForty = assemble({ memory: { min: 640 }, start: [] })
