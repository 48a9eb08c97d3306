import { describe, expect, it } from 'vitest'
import {
  DEFAULT_WASM_LIMITS, InvalidWasmError, runWasm, validateWasm, WasmExitError, WasmMemoryLimitError,
  WasmOutputLimitError, WasmTimeoutError, WasmTrapError
} from '../../src/sandbox/index.ts'
import * as fixtures from './wasm-fixtures.ts'

const encode = (s: string): Uint8Array => new TextEncoder().encode(s)
const decode = (b: Uint8Array): string => new TextDecoder().decode(b)
const empty = new Uint8Array(0)

describe('runWasm', () => {
  it('passes stdin through to stdout, in chunks', async () => {
    const input = encode('x'.repeat(200_000) + 'end\n')
    expect(decode(await runWasm(fixtures.echo, input, ['echo']))).toBe(decode(input))
  })

  it('gives the module argv = [name, k=v...]', async () => {
    expect(decode(await runWasm(fixtures.printArgs, empty, ['fn', 'k=v', 'ünï=1']))).toBe('fn\0k=v\0ünï=1\0')
  })

  it('kills a module that loops forever at the timeout, and the next run works', async () => {
    const started = Date.now()
    await expect(runWasm(fixtures.loopForever, empty, ['spin'], { timeoutMs: 300 })).rejects.toThrow(WasmTimeoutError)
    expect(Date.now() - started).toBeLessThan(1_300)
    expect(decode(await runWasm(fixtures.echo, encode('ok\n'), ['echo']))).toBe('ok\n')
  })

  it('stops a module that grows memory without bound at the memory limit', async () => {
    const err = await runWasm(fixtures.growForever, empty, ['grow'], { memoryMB: 32 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(WasmMemoryLimitError)
    expect((err as Error).message).toMatch(/32 MiB/)
  })

  it('refuses a module whose initial memory is above the limit', async () => {
    await expect(runWasm(fixtures.needsForty, empty, ['big'], { memoryMB: 16 })).rejects.toThrow(WasmMemoryLimitError)
    expect(await runWasm(fixtures.needsForty, empty, ['big'], { memoryMB: 64 })).toEqual(empty)
  })

  it('reports a non-zero exit with the stderr tail', async () => {
    const err = await runWasm(fixtures.exitThree, empty, ['x']).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(WasmExitError)
    expect((err as WasmExitError).exitCode).toBe(3)
    expect((err as WasmExitError).stderr).toBe('boom\n')
    expect((err as Error).message).toMatch(/code 3: boom/)
  })

  it('reports a trap', async () => {
    await expect(runWasm(fixtures.trapAtOnce, empty, ['x'])).rejects.toThrow(WasmTrapError)
  })

  it('caps stdout', async () => {
    await expect(runWasm(fixtures.echo, encode('y'.repeat(10_000)), ['echo'], { maxOutputBytes: 1_000 })).rejects.toThrow(WasmOutputLimitError)
  })

  it('gives path_open a bad-descriptor error, not a file, and sockets ENOSYS', async () => {
    await expect(runWasm(fixtures.tryPathOpen, empty, ['x'])).rejects.toMatchObject({ name: 'WasmExitError', exitCode: 8 })
    await expect(runWasm(fixtures.trySockSend, empty, ['x'])).rejects.toMatchObject({ name: 'WasmExitError', exitCode: 52 })
  })

  it('kills the module when the signal aborts', async () => {
    const controller = new AbortController()
    const started = Date.now()
    setTimeout(() => { controller.abort() }, 200)
    await expect(runWasm(fixtures.loopForever, empty, ['spin'], { timeoutMs: 30_000 }, { signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' })
    expect(Date.now() - started).toBeLessThan(2_000)
    await expect(runWasm(fixtures.loopForever, empty, ['spin'], {}, { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' })
  })

  it('rejects bad limits', async () => {
    await expect(runWasm(fixtures.echo, empty, [], { memoryMB: 0 })).rejects.toThrow(RangeError)
    await expect(runWasm(fixtures.echo, empty, [], { timeoutMs: -1 })).rejects.toThrow(RangeError)
    expect(DEFAULT_WASM_LIMITS).toMatchObject({ timeoutMs: 10_000, memoryMB: 256 })
  })
})

describe('validateWasm', () => {
  it('accepts a WASI command', async () => {
    await expect(validateWasm(fixtures.echo)).resolves.toBeUndefined()
  })

  it.each([
    ['not wasm', encode('#!/bin/sh\nrm -rf /\n'), /not a WebAssembly module/],
    ['truncated', fixtures.echo.subarray(0, fixtures.echo.length - 5), /runs past the end|does not compile/],
    ['garbage code', (() => { const b = fixtures.trapAtOnce.slice(); b[b.length - 3] = 0xff; return b })(), /does not compile/],
    ['an env import', fixtures.importsEnv, /imports function "env"."something": only "wasi_snapshot_preview1" imports are allowed/],
    ['an unknown WASI import', fixtures.importsUnknownWasi, /not a WASI preview 1 function/],
    ['no _start', fixtures.noStart, /does not export a "_start" function/]
  ])('rejects %s with a clear reason', async (_label, bytes, reason) => {
    const err = await validateWasm(bytes).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(InvalidWasmError)
    expect((err as Error).message).toMatch(reason)
    // runWasm refuses it the same way, before starting a worker
    await expect(runWasm(bytes, empty, ['x'])).rejects.toThrow(InvalidWasmError)
  })
})
