/**
 * sandbox/wasi-shim: a minimal WASI preview 1 host over in-memory buffers. stdin is the task
 * input, stdout and stderr are bounded buffers, argv is given, the environment is empty.
 * It must never give a module a file, a socket, a directory or any other host capability:
 * every other WASI call links but fails with ERRNO_BADF or ERRNO_NOSYS.
 */

import type { WasmImports, WasmMemory } from './webassembly.ts'

/** WASI errno values used here. */
const ERRNO_SUCCESS = 0
const ERRNO_BADF = 8
const ERRNO_FAULT = 21
const ERRNO_INVAL = 28
const ERRNO_NOSYS = 52
const ERRNO_SPIPE = 70

const FD_STDIN = 0
const FD_STDOUT = 1
const FD_STDERR = 2

const FILETYPE_CHARACTER_DEVICE = 2
const RIGHT_FD_READ = 1n << 1n
const RIGHT_FD_WRITE = 1n << 6n

const CLOCK_REALTIME = 0
const CLOCK_MONOTONIC = 1
const CLOCK_PROCESS_CPUTIME = 2
const CLOCK_THREAD_CPUTIME = 3

/** crypto.getRandomValues fills at most this many bytes per call. */
const MAX_RANDOM_CHUNK = 65_536

/** Every function of wasi_snapshot_preview1; a module may import only these. */
export const WASI_FUNCTION_NAMES: ReadonlySet<string> = new Set([
  'args_get', 'args_sizes_get', 'environ_get', 'environ_sizes_get', 'clock_res_get', 'clock_time_get',
  'fd_advise', 'fd_allocate', 'fd_close', 'fd_datasync', 'fd_fdstat_get', 'fd_fdstat_set_flags',
  'fd_fdstat_set_rights', 'fd_filestat_get', 'fd_filestat_set_size', 'fd_filestat_set_times', 'fd_pread',
  'fd_prestat_get', 'fd_prestat_dir_name', 'fd_pwrite', 'fd_read', 'fd_readdir', 'fd_renumber', 'fd_seek',
  'fd_sync', 'fd_tell', 'fd_write', 'path_create_directory', 'path_filestat_get', 'path_filestat_set_times',
  'path_link', 'path_open', 'path_readlink', 'path_remove_directory', 'path_rename', 'path_symlink',
  'path_unlink_file', 'poll_oneoff', 'proc_exit', 'proc_raise', 'sched_yield', 'random_get',
  'sock_accept', 'sock_recv', 'sock_send', 'sock_shutdown'
])

/** Thrown through the module's frames by proc_exit to stop it. */
export class ProcExit extends Error {
  override name = 'ProcExit'
  readonly code: number

  constructor (code: number) {
    super(`proc_exit(${code})`)
    this.code = code
  }
}

/** Thrown through the module's frames when stdout passes its cap. */
export class OutputLimitExceeded extends Error {
  override name = 'OutputLimitExceeded'
}

export interface WasiShimInit {
  stdin: Uint8Array
  /** argv, argv[0] included */
  args: string[]
  maxStdoutBytes: number
  maxStderrTailBytes: number
}

type HostFunction = (...args: Array<number | bigint>) => number | undefined

export class WasiShim {
  private readonly stdin: Uint8Array
  private stdinOffset = 0
  private readonly args: Uint8Array[]
  private readonly stdoutChunks: Uint8Array[] = []
  private stdoutBytes = 0
  private readonly maxStdoutBytes: number
  private stderr: Uint8Array = new Uint8Array(0)
  private readonly maxStderrTailBytes: number
  private memory: WasmMemory | null = null

  /** set by proc_exit; stays set even if the module catches the unwinding exception */
  exitCode: number | null = null
  /** set when stdout passed its cap; stays set even if the module catches the exception */
  outputLimitExceeded = false

  constructor (init: WasiShimInit) {
    this.stdin = init.stdin
    const encoder = new TextEncoder()
    this.args = init.args.map(arg => encoder.encode(`${arg}\0`))
    this.maxStdoutBytes = init.maxStdoutBytes
    this.maxStderrTailBytes = init.maxStderrTailBytes
  }

  /** Must be called with the instance's exported memory before `_start` runs. */
  setMemory (memory: WasmMemory | null): void {
    this.memory = memory
  }

  stdout (): Uint8Array {
    return concat(this.stdoutChunks, this.stdoutBytes)
  }

  stderrTail (): string {
    return new TextDecoder().decode(this.stderr)
  }

  /** The import object: `{ wasi_snapshot_preview1: { ... } }` with a function for every WASI name. */
  imports (): WasmImports {
    const implemented: Record<string, HostFunction> = {
      args_sizes_get: (argcPtr, bufSizePtr) => this.withMemory(view => {
        view.setUint32(Number(argcPtr), this.args.length, true)
        view.setUint32(Number(bufSizePtr), this.args.reduce((n, a) => n + a.length, 0), true)
      }),
      args_get: (argvPtr, bufPtr) => this.withMemory((view, bytes) => {
        let buf = Number(bufPtr)
        this.args.forEach((arg, i) => {
          view.setUint32(Number(argvPtr) + i * 4, buf, true)
          bytes.set(arg, buf)
          buf += arg.length
        })
      }),
      environ_sizes_get: (countPtr, bufSizePtr) => this.withMemory(view => {
        view.setUint32(Number(countPtr), 0, true)
        view.setUint32(Number(bufSizePtr), 0, true)
      }),
      environ_get: () => ERRNO_SUCCESS,
      clock_res_get: (id, resPtr) => {
        if (!isClock(Number(id))) return ERRNO_INVAL
        return this.withMemory(view => { view.setBigUint64(Number(resPtr), 1_000n, true) })
      },
      clock_time_get: (id, _precision, timePtr) => {
        const clock = Number(id)
        if (!isClock(clock)) return ERRNO_INVAL
        const now = clock === CLOCK_REALTIME ? BigInt(Date.now()) * 1_000_000n : process.hrtime.bigint()
        return this.withMemory(view => { view.setBigUint64(Number(timePtr), now, true) })
      },
      random_get: (ptr, length) => this.withMemory((_view, bytes) => {
        const target = bytes.subarray(Number(ptr), Number(ptr) + Number(length))
        if (target.length !== Number(length)) throw new RangeError('random_get out of bounds')
        for (let i = 0; i < target.length; i += MAX_RANDOM_CHUNK) crypto.getRandomValues(target.subarray(i, i + MAX_RANDOM_CHUNK))
      }),
      proc_exit: (code) => {
        this.exitCode ??= Number(code) >>> 0
        throw new ProcExit(this.exitCode)
      },
      sched_yield: () => ERRNO_SUCCESS,
      fd_read: (fd, iovs, iovsLength, nreadPtr) => {
        if (Number(fd) !== FD_STDIN) return ERRNO_BADF
        return this.withMemory((view, bytes) => {
          let read = 0
          for (const [ptr, length] of iovecs(view, Number(iovs), Number(iovsLength))) {
            const n = Math.min(length, this.stdin.length - this.stdinOffset)
            if (ptr + n > bytes.length) throw new RangeError('fd_read out of bounds')
            bytes.set(this.stdin.subarray(this.stdinOffset, this.stdinOffset + n), ptr)
            this.stdinOffset += n
            read += n
            if (n < length) break
          }
          view.setUint32(Number(nreadPtr), read, true)
        })
      },
      fd_write: (fd, iovs, iovsLength, nwrittenPtr) => {
        const target = Number(fd)
        if (target !== FD_STDOUT && target !== FD_STDERR) return ERRNO_BADF
        if (target === FD_STDOUT && this.outputLimitExceeded) throw new OutputLimitExceeded()
        let overflow = false
        const errno = this.withMemory((view, bytes) => {
          let written = 0
          for (const [ptr, length] of iovecs(view, Number(iovs), Number(iovsLength))) {
            if (ptr + length > bytes.length) throw new RangeError('fd_write out of bounds')
            const data = bytes.slice(ptr, ptr + length)
            if (target === FD_STDOUT) {
              if (this.stdoutBytes + data.length > this.maxStdoutBytes) {
                overflow = true
                return
              }
              this.stdoutChunks.push(data)
              this.stdoutBytes += data.length
            } else {
              this.appendStderr(data)
            }
            written += length
          }
          view.setUint32(Number(nwrittenPtr), written, true)
        })
        if (overflow) {
          this.outputLimitExceeded = true
          throw new OutputLimitExceeded(`stdout exceeded ${this.maxStdoutBytes} bytes`)
        }
        return errno
      },
      fd_fdstat_get: (fd, statPtr) => {
        const target = Number(fd)
        if (target !== FD_STDIN && target !== FD_STDOUT && target !== FD_STDERR) return ERRNO_BADF
        return this.withMemory((view, bytes) => {
          const ptr = Number(statPtr)
          bytes.fill(0, ptr, ptr + 24)
          view.setUint8(ptr, FILETYPE_CHARACTER_DEVICE)
          view.setBigUint64(ptr + 8, target === FD_STDIN ? RIGHT_FD_READ : RIGHT_FD_WRITE, true)
          view.setBigUint64(ptr + 16, 0n, true)
        })
      },
      fd_close: (fd) => isStdio(fd) ? ERRNO_SUCCESS : ERRNO_BADF,
      fd_seek: (fd) => isStdio(fd) ? ERRNO_SPIPE : ERRNO_BADF,
      fd_tell: (fd) => isStdio(fd) ? ERRNO_SPIPE : ERRNO_BADF
    }
    const wasi: Record<string, HostFunction> = {}
    for (const name of WASI_FUNCTION_NAMES) {
      // no preopened directories and no other fds: every fd_* / path_* call is a bad descriptor
      wasi[name] = implemented[name] ?? (name.startsWith('fd_') || name.startsWith('path_') ? () => ERRNO_BADF : () => ERRNO_NOSYS)
    }
    return { wasi_snapshot_preview1: wasi }
  }

  /** Runs a memory access, turning an out-of-bounds pointer into ERRNO_FAULT rather than a host exception. */
  private withMemory (access: (view: DataView, bytes: Uint8Array) => void): number {
    if (this.memory === null) return ERRNO_FAULT
    const buffer = this.memory.buffer
    try {
      access(new DataView(buffer), new Uint8Array(buffer))
      return ERRNO_SUCCESS
    } catch (err) {
      if (err instanceof RangeError) return ERRNO_FAULT
      throw err
    }
  }

  private appendStderr (data: Uint8Array): void {
    const joined = concat([this.stderr, data], this.stderr.length + data.length)
    this.stderr = joined.length > this.maxStderrTailBytes ? joined.slice(joined.length - this.maxStderrTailBytes) : joined
  }
}

function iovecs (view: DataView, ptr: number, count: number): Array<[number, number]> {
  const out: Array<[number, number]> = []
  for (let i = 0; i < count; i++) {
    out.push([view.getUint32(ptr + i * 8, true), view.getUint32(ptr + i * 8 + 4, true)])
  }
  return out
}

function isStdio (fd: number | bigint): boolean {
  const n = Number(fd)
  return n === FD_STDIN || n === FD_STDOUT || n === FD_STDERR
}

function isClock (id: number): boolean {
  return id === CLOCK_REALTIME || id === CLOCK_MONOTONIC || id === CLOCK_PROCESS_CPUTIME || id === CLOCK_THREAD_CPUTIME
}

/**
 * Joins into a buffer of its own. Not Buffer.concat (or uint8arrays' concat,
 * which uses it): those may return a view of a shared pool slab, and stdout's
 * buffer is transferred out of the worker, which would detach the slab.
 */
function concat (parts: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length)
  let offset = 0
  for (const p of parts) {
    out.set(p, offset)
    offset += p.length
  }
  return out
}
