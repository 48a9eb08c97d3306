import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { csvStats, InvalidParamsError, InvalidTaskInputError, square, wordCount } from '../../src/functions/index.ts'
import { cutAt, decode, encode, runPartitioned, runWhole } from './partition.ts'

const ctx = { taskIndex: 0, taskCount: 1, header: null }

describe('square', () => {
  it('squares the numbers 1..100', async () => {
    const input = Array.from({ length: 100 }, (_, i) => `${i + 1}\n`).join('')
    const expected = Array.from({ length: 100 }, (_, i) => `${(i + 1) ** 2}\n`).join('')
    expect(await runWhole(square, [encode(input)])).toBe(expected)
    expect(await runPartitioned(square, [cutAt(encode(input), [7, 50, 51, 200])])).toBe(expected)
  })

  it('skips blank lines, trims, and formats like String(x * x)', async () => {
    const out = await square.run(encode(' 1.5 \r\n\n-3\n  \n1e200\n0x10\n-0\n0.1'), {}, ctx)
    expect(decode(out)).toBe('2.25\n9\nInfinity\n256\n0\n0.010000000000000002\n')
  })

  it('names the offending line', async () => {
    await expect(square.run(encode('1\ntwelve\n'), {}, ctx)).rejects.toThrow(InvalidTaskInputError)
    await expect(square.run(encode('1\ntwelve\n'), {}, ctx)).rejects.toThrow('"twelve"')
  })
})

describe('word-count', () => {
  it('counts case-folded Unicode words', async () => {
    const text = 'The cat and the hat.\nTHE END, café 42 naïve—Ünïcode 日本語\n'
    expect(await runWhole(wordCount, [encode(text)])).toBe([
      '{',
      '  "42": 1,',
      '  "and": 1,',
      '  "café": 1,',
      '  "cat": 1,',
      '  "end": 1,',
      '  "hat": 1,',
      '  "naïve": 1,',
      '  "the": 3,',
      '  "ünïcode": 1,',
      '  "日本語": 1',
      '}',
      ''
    ].join('\n'))
  })

  it('sorts keys by code unit, keeps "__proto__", and prints {} for no words', async () => {
    expect(await runWhole(wordCount, [encode('__proto__ b 10 9 B\n')])).toBe('{\n  "10": 1,\n  "9": 1,\n  "b": 2,\n  "proto": 1\n}\n')
    expect(await runWhole(wordCount, [encode('... !!!\n')])).toBe('{}\n')
  })
})

describe('csv-stats', () => {
  const temps = 'device,temp\r\nd1,20\r\nd2,30\r\nd1,22.5\r\nd2,bad\r\nd3,\r\nd2,-1\r\n'

  it('summarises temperature per device', async () => {
    expect(await runWhole(csvStats, [encode(temps)], { by: 'device', column: 'temp' })).toBe([
      '{',
      '  "d1": {"count":2,"sum":42.5,"mean":21.25,"min":20,"max":22.5},',
      '  "d2": {"count":2,"sum":29,"mean":14.5,"min":-1,"max":30}',
      '}',
      ''
    ].join('\n'))
  })

  it('groups everything under "all" without `by`, across several files', async () => {
    const other = 'temp,device\n10,d9\n'
    expect(await runWhole(csvStats, [encode(temps), encode(other), new Uint8Array(0)], { column: 'temp' }))
      .toBe('{\n  "all": {"count":5,"sum":81.5,"mean":16.3,"min":-1,"max":30}\n}\n')
  })

  it('sums exactly: 0.1 + 0.2 + ... does not depend on order', async () => {
    // 0.1 + 0.2 is exactly halfway between two doubles: ties-to-even gives 0.30000000000000004,
    // and the tiny -1e-300 tips the exact sum below the midpoint, to 0.3. 1e308 cancels exactly.
    const sumOf = async (values: string[]): Promise<number> => {
      const csv = ['k,v', ...values.map(v => `a,${v}`)].join('\n')
      return JSON.parse(await runWhole(csvStats, [encode(csv)], { by: 'k', column: 'v' })).a.sum
    }
    expect(await sumOf(['1e308', '0.1', '-1e308', '0.2'])).toBe(0.30000000000000004)
    expect(await sumOf(['1e308', '0.1', '-1e308', '0.2', '-1e-300'])).toBe(0.3)
    expect(await sumOf(['-1e-300', '0.2', '1e308', '0.1', '-1e308'])).toBe(0.3)
    expect(await sumOf(['1e308', '1e308', '-1e308'])).toBe(1e308) // no intermediate overflow
  })

  it('rejects missing, unknown and misspelt params', async () => {
    expect(() => csvStats.validateParams?.({ by: 'device' })).toThrow(InvalidParamsError)
    expect(() => csvStats.validateParams?.({ column: 'temp', colour: 'x' })).toThrow(/unknown parameter "colour"/)
    const header = { taskIndex: 0, taskCount: 1, header: 'device,temp' }
    await expect(csvStats.run(encode(temps), { by: 'dev', column: 'temp' }, header)).rejects.toThrow(/by="dev" is not a column.*device, temp/)
  })
})

// --- partition independence -------------------------------------------------------------

/** Random cut offsets for a file of `length` bytes. */
const cuts = fc.array(fc.nat(2000), { maxLength: 12 })

const numberText = fc.oneof(
  fc.integer({ min: -1e6, max: 1e6 }).map(String),
  fc.double({ noNaN: true }).map(String),
  fc.constantFrom('0.1', '1e308', '-1e-300', '  7 ', '', '5e-324')
)

const niceDouble = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0.1, 0.2, 0.3, 1e308, -1e308, 1e-300, -1e-300, 5e-324, 2 ** 53, 1 / 3)
)

describe('results do not depend on partitioning', () => {
  it('square', async () => {
    await fc.assert(fc.asyncProperty(fc.array(numberText, { maxLength: 60 }), fc.boolean(), cuts, async (lines, trailing, cut) => {
      const file = encode(lines.join('\n') + (trailing ? '\n' : ''))
      expect(await runPartitioned(square, [cutAt(file, cut)])).toBe(await runWhole(square, [file]))
    }), { numRuns: 200 })
  })

  it('word-count', async () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'B', 'ß', 'Σ', 'ς', 'İ', '1', ' ', '\n', '-', 'é', '😀', '\r'), maxLength: 400 })
    await fc.assert(fc.asyncProperty(fc.array(text, { minLength: 1, maxLength: 3 }), fc.array(cuts, { minLength: 3, maxLength: 3 }), async (files, fileCuts) => {
      const bytes = files.map(encode)
      const whole = await runWhole(wordCount, bytes)
      expect(await runPartitioned(wordCount, bytes.map((b, i) => cutAt(b, fileCuts[i])))).toBe(whole)
      // and it is the same as counting everything as one text
      expect(await runWhole(wordCount, [encode(files.join('\n'))])).toBe(whole)
    }), { numRuns: 200 })
  })

  it('csv-stats, with exact sums of nasty floats', async () => {
    const row = fc.tuple(fc.constantFrom('d1', 'd2', 'd3', '__proto__', '10', ''), fc.oneof(niceDouble.map(String), fc.constantFrom('', 'x', 'Infinity', ' 3 ')))
    await fc.assert(fc.asyncProperty(fc.array(row, { maxLength: 80 }), cuts, fc.boolean(), async (rows, cut, crlf) => {
      const eol = crlf ? '\r\n' : '\n'
      const file = encode(['device,temp', ...rows.map(([d, t]) => `${d},${t}`)].join(eol) + eol)
      const params = { by: 'device', column: 'temp' }
      const whole = await runWhole(csvStats, [file], params)
      expect(await runPartitioned(csvStats, [cutAt(file, cut)], params)).toBe(whole)
      // sums are the correctly rounded exact sum, checked against a shuffled order too
      const parsed = JSON.parse(whole) as Record<string, { sum: number | null, count: number }>
      for (const [group, stats] of Object.entries(parsed)) {
        const values = rows.filter(([d, t]) => d === group && t.trim() !== '' && Number.isFinite(Number(t))).map(([, t]) => Number(t))
        expect(stats.count).toBe(values.length)
        const reversed = encode(['device,temp', ...values.reverse().map(v => `${group},${v}`)].join('\n'))
        expect(JSON.parse(await runWhole(csvStats, [reversed], params))[group].sum).toBe(stats.sum)
      }
    }), { numRuns: 200 })
  })
})
