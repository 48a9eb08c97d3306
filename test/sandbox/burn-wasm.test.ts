import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { runWasm, validateWasm, WasmExitError, WasmTimeoutError } from '../../src/sandbox/index.ts'
import { buildWasm, WASM_BUILD_DIR } from '../../wasm/build.mts'

const encode = (s: string): Uint8Array => new TextEncoder().encode(s)
const decode = (b: Uint8Array): string => new TextDecoder().decode(b)

const U64 = (1n << 64n) - 1n
const SEED = 0x9e3779b97f4a7c15n

/** The reference: N rounds of xorshift64 (13, 7, 17) from SEED ^ N, as in wasm/burn.ts. */
function burn (n: bigint): bigint {
  let x = SEED ^ n
  if (x === 0n) x = SEED
  for (let i = 0n; i < n; i++) {
    x ^= (x << 13n) & U64
    x ^= x >> 7n
    x ^= (x << 17n) & U64
  }
  return x
}

let burnWasm: Uint8Array

beforeAll(async () => {
  const file = join(WASM_BUILD_DIR, 'burn.wasm')
  // always from the current source: a stale module would test old code
  await buildWasm(['burn'])
  burnWasm = await readFile(file)
}, 60_000)

describe('wasm/burn.ts (AssemblyScript)', () => {
  it('is a valid sandbox module', async () => {
    await expect(validateWasm(burnWasm)).resolves.toBeUndefined()
  })

  it('prints N rounds of xorshift64 per line, like the reference', async () => {
    const counts = [0n, 1n, 2n, 13n, 1_000n, 54_321n]
    // surrounding blanks are trimmed and empty lines skipped
    const input = counts.map((n, i) => i === 3 ? ` ${n}\t` : `${n}`).join('\n') + '\n\n'
    const expected = counts.map(n => `${burn(n)}\n`).join('')
    expect(decode(await runWasm(burnWasm, encode(input), ['burn']))).toBe(expected)
  })

  it('reads lines padded with any amount of white space', async () => {
    const input = [' '.repeat(1019) + '1000', '      7 ', '\t\t\t\t\t\t\t\t\t3'].join('\n') + '\n'
    expect(decode(await runWasm(burnWasm, encode(input), ['burn']))).toBe(`${burn(1000n)}\n${burn(7n)}\n${burn(3n)}\n`)
  })

  it('is deterministic', async () => {
    const input = encode('200000\n7\n')
    const first = decode(await runWasm(burnWasm, input, ['burn']))
    expect(decode(await runWasm(burnWasm, input, ['burn']))).toBe(first)
  })

  it('fails a line that is not a non-negative integer below 2^64', async () => {
    for (const bad of ['-1', '1.5', '12x', '18446744073709551616', '1e3']) {
      const err = await runWasm(burnWasm, encode(`1\n${bad}\n`), ['burn']).catch((e: unknown) => e)
      expect(err, bad).toBeInstanceOf(WasmExitError)
      expect((err as WasmExitError).stderr, bad).toMatch(/burn: line is not a non-negative integer/)
    }
    // 2^64 - 1 is accepted: it starts burning, and the sandbox stops it at the time limit
    await expect(runWasm(burnWasm, encode('18446744073709551615\n'), ['burn'], { timeoutMs: 100 })).rejects.toThrow(WasmTimeoutError)
  })
})
