/**
 * wasm/lib/wasi: the WASI preview 1 calls edgeswarm's example functions need (AssemblyScript).
 * stdin is the task input, stdout the task result (the sandbox passes argv = [functionName,
 * 'k=v', ...], which these functions do not read). Declares only the fd_read, fd_write and
 * proc_exit imports; it must never import anything else, since the sandbox links nothing but
 * wasi_snapshot_preview1.
 */

import { trim } from "./text"

// @ts-ignore: decorator
@external("wasi_snapshot_preview1", "fd_read")
declare function fd_read(fd: u32, iovs: usize, iovsLength: usize, nread: usize): u16

// @ts-ignore: decorator
@external("wasi_snapshot_preview1", "fd_write")
declare function fd_write(fd: u32, iovs: usize, iovsLength: usize, nwritten: usize): u16

// @ts-ignore: decorator
@external("wasi_snapshot_preview1", "proc_exit")
declare function proc_exit(code: u32): void

const STDIN: u32 = 0
const STDOUT: u32 = 1
const STDERR: u32 = 2

/** Bytes read from stdin per fd_read call. */
const READ_CHUNK: i32 = 64 * 1024

/** A growable byte buffer. */
export class Bytes {
  data: Uint8Array = new Uint8Array(READ_CHUNK)
  length: i32 = 0

  reserve(extra: i32): void {
    if (this.length + extra <= this.data.length) return
    let capacity = this.data.length << 1
    while (capacity < this.length + extra) capacity <<= 1
    const grown = new Uint8Array(capacity)
    memory.copy(grown.dataStart, this.data.dataStart, this.length)
    this.data = grown
  }

  pushString(s: string): void {
    const encoded = String.UTF8.encode(s)
    const n = encoded.byteLength
    this.reserve(n)
    memory.copy(this.data.dataStart + <usize>this.length, changetype<usize>(encoded), n)
    this.length += n
  }

  pushByte(b: u8): void {
    this.reserve(1)
    this.data[this.length++] = b
  }
}

/** Reads all of stdin. */
export function readStdin(): Bytes {
  const buf = new Bytes()
  const iov = new StaticArray<u32>(2)
  const nread = new StaticArray<u32>(1)
  while (true) {
    buf.reserve(READ_CHUNK)
    iov[0] = <u32>(buf.data.dataStart + <usize>buf.length)
    iov[1] = <u32>READ_CHUNK
    const errno = fd_read(STDIN, changetype<usize>(iov), 1, changetype<usize>(nread))
    if (errno != 0) fail("cannot read stdin (errno " + errno.toString() + ")")
    if (nread[0] == 0) break
    buf.length += <i32>nread[0]
  }
  return buf
}

function writeAll(fd: u32, ptr: usize, length: i32): void {
  const iov = new StaticArray<u32>(2)
  const written = new StaticArray<u32>(1)
  let offset = 0
  while (offset < length) {
    iov[0] = <u32>(ptr + <usize>offset)
    iov[1] = <u32>(length - offset)
    const errno = fd_write(fd, changetype<usize>(iov), 1, changetype<usize>(written))
    if (errno != 0) exit(71)
    offset += <i32>written[0]
  }
}

export function writeStdout(bytes: Bytes): void {
  writeAll(STDOUT, bytes.data.dataStart, bytes.length)
}

export function writeStderr(message: string): void {
  const encoded = String.UTF8.encode(message)
  writeAll(STDERR, changetype<usize>(encoded), encoded.byteLength)
}

export function exit(code: u32): void {
  proc_exit(code)
}

/** Prints `message` to stderr and exits with code 1. */
export function fail(message: string): void {
  writeStderr(message + "\n")
  proc_exit(1)
}

/** AssemblyScript's abort handler (wired with `--use abort=...`): report on stderr, exit 134. */
export function abort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  writeStderr("abort: " + (message !== null ? message : "") + " at " + (fileName !== null ? fileName : "?") + ":" + line.toString() + ":" + column.toString() + "\n")
  proc_exit(134)
}

/**
 * Calls `each(line, out)` for every non-empty line of `input`, trimmed like
 * JavaScript's String#trim, in order. `out` is passed along because functions
 * passed by reference cannot capture locals in AssemblyScript.
 */
export function forEachLine(input: Bytes, out: Bytes, each: (line: string, out: Bytes) => void): void {
  let lineStart = 0
  while (lineStart < input.length) {
    let lineEnd = lineStart
    while (lineEnd < input.length && input.data[lineEnd] != 10) lineEnd++
    const line = trim(String.UTF8.decodeUnsafe(input.data.dataStart + <usize>lineStart, <usize>(lineEnd - lineStart)))
    lineStart = lineEnd + 1
    if (line.length == 0) continue
    each(line, out)
  }
}
