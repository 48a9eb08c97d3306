import { describe, expect, it } from 'vitest'
import { builtinFunctions, FunctionRegistrationError, FunctionRegistry, UnknownFunctionError } from '../../src/functions/index.ts'
import { decode, encode } from './partition.ts'

describe('FunctionRegistry', () => {
  it('lists built-ins and user functions', async () => {
    const registry = new FunctionRegistry(builtinFunctions)
    registry.registerSimple('upper', input => encode(decode(input).toUpperCase()), results => encode(results.map(decode).join('')), { description: 'uppercases' })
    expect(registry.list().map(f => [f.name, f.builtin])).toEqual([['square', true], ['word-count', true], ['csv-stats', true], ['train', true], ['predict', true], ['evaluate', true], ['upper', false]])
    const upper = registry.get('upper')
    expect(upper.lineOriented).toBe(true)
    const part = await upper.run(encode('ab\n'), {}, { taskIndex: 0, taskCount: 1, header: null })
    expect(decode(await upper.reduce([part, part], {}))).toBe('AB\nAB\n')
    expect(registry.has('square')).toBe(true)
  })

  it('rejects duplicate and malformed names, and names unknown ones', () => {
    const registry = new FunctionRegistry(builtinFunctions)
    const noop = (): Uint8Array => new Uint8Array(0)
    expect(() => registry.registerSimple('square', noop, noop)).toThrow(FunctionRegistrationError)
    expect(() => registry.registerSimple('Bad Name', noop, noop)).toThrow(/invalid function name/)
    expect(() => registry.registerSimple('-x', noop, noop)).toThrow(FunctionRegistrationError)
    expect(() => registry.registerSimple('a'.repeat(65), noop, noop)).toThrow(FunctionRegistrationError)
    expect(() => registry.get('nope')).toThrow(UnknownFunctionError)
  })
})
