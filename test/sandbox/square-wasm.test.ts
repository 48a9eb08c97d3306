import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { square } from '../../src/functions/index.ts'
import { runWasm, validateWasm, WasmExitError } from '../../src/sandbox/index.ts'
import { buildWasm, WASM_BUILD_DIR } from '../../wasm/build.mts'

const encode = (s: string): Uint8Array => new TextEncoder().encode(s)
const decode = (b: Uint8Array): string => new TextDecoder().decode(b)
const ctx = { taskIndex: 0, taskCount: 1, header: null }

let squareWasm: Uint8Array

beforeAll(async () => {
  const file = join(WASM_BUILD_DIR, 'square.wasm')
  // always from the current source: a stale module would test old code
  await buildWasm(['square'])
  squareWasm = await readFile(file)
}, 60_000)

const builtin = async (input: string): Promise<string> => decode(await square.run(encode(input), {}, ctx))
const wasm = async (input: string): Promise<string> => decode(await runWasm(squareWasm, encode(input), ['square']))

describe('wasm/square.ts (AssemblyScript) matches the built-in square', () => {
  it('is a valid sandbox module', async () => {
    await expect(validateWasm(squareWasm)).resolves.toBeUndefined()
  })

  it('squares 1..100', async () => {
    const input = Array.from({ length: 100 }, (_, i) => `${i + 1}`).join('\n')
    expect(await wasm(input)).toBe(await builtin(input))
  })

  it('handles the edges of Number() syntax the same way', async () => {
    const input = ' 1.5 \r\n\n-3\n  \n1e200\n0x10\n0b101\n0o17\n-0\n0.1\n+4\n.5\n5.\n1e21\n123456789012\n1e-7\n2e-7\nInfinity\n-Infinity\n\t7\u00a0\n'
    expect(await wasm(input)).toBe(await builtin(input))
  })

  it('trims any amount of surrounding white space, like the built-in', async () => {
    const input = ['     123', ' '.repeat(1019) + '42', '\t\t\t\t\t7  ', ' '.repeat(9) + '-1.5' + ' '.repeat(3)].join('\n') + '\n'
    expect(await wasm(input)).toBe(await builtin(input))
    expect(await wasm(input)).toBe('15129\n1764\n49\n2.25\n')
  })

  it('fails on a non-numeric line like the built-in', async () => {
    for (const bad of ['12abc', 'NaN', '1_000', '0x', '--1', '1e', 'e5', '.', '１２']) {
      const input = `1\n${bad}\n`
      const builtinError = await square.run(encode(input), {}, ctx).then(() => null, (e: Error) => e.message)
      const err = await runWasm(squareWasm, encode(input), ['square']).catch((e: unknown) => e)
      expect(builtinError, bad).not.toBeNull()
      expect(err, bad).toBeInstanceOf(WasmExitError)
      expect((err as WasmExitError).stderr.trim(), bad).toBe(builtinError)
    }
  })

  it('property: same output for random numeric inputs', async () => {
    const line = fc.oneof(
      fc.integer({ min: -(2 ** 31), max: 2 ** 31 }).map(String),
      fc.double({ noNaN: true }).map(String),
      fc.double({ min: -1e6, max: 1e6, noNaN: true }).map(x => x.toFixed(3)),
      fc.constantFrom('', '  ', '0.1', '1e308', '-1e-300', '5e-324')
    )
    await fc.assert(fc.asyncProperty(fc.array(line, { maxLength: 200 }), async (lines) => {
      const input = lines.join('\n')
      expect(await wasm(input)).toBe(await builtin(input))
    }), { numRuns: 25 })
  }, 60_000)
})
