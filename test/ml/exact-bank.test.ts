import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ExactSum } from '../../src/functions/exact-sum.ts'
import { ExactBank } from '../../src/ml/exact-bank.ts'
import { ExactSumFormatError } from '../../src/ml/errors.ts'
import { roundRatio, roundUnits, toUnits, twoProduct } from '../../src/ml/rounding.ts'

/** Doubles from every region: subnormals, tiny, ordinary, huge (past the fast bins), and their negatives. */
const anyFinite = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.double({ min: -1e3, max: 1e3, noNaN: true }),
  fc.double({ min: -1e-300, max: 1e-300, noNaN: true }),
  fc.constantFrom(5e-324, -5e-324, 2.2250738585072014e-308, Number.MAX_VALUE, -Number.MAX_VALUE, 2 ** 974, -(2 ** 974), 2 ** 973 * 1.5, 0, -0, 1, -1, 0.1, 0.2, 0.3)
)

function reference (values: number[]): { units: bigint, value: number } {
  const sum = new ExactSum()
  for (const v of values) sum.add(v)
  return { units: sum.units, value: sum.toNumber() }
}

describe('ExactBank', () => {
  it('sums exactly: the same integer and the same rounding as the BigInt sum, for any doubles', () => {
    fc.assert(fc.property(fc.array(anyFinite, { maxLength: 60 }), values => {
      const bank = new ExactBank(1)
      for (const v of values) bank.add(0, v)
      const expected = reference(values)
      expect(bank.units(0)).toBe(expected.units)
      expect(Object.is(bank.toNumber(0), expected.value === 0 ? 0 : expected.value)).toBe(true)
    }), { numRuns: 400 })
  })

  it('gives the same bits for any order and any grouping into packed partial sums', () => {
    fc.assert(fc.property(fc.array(anyFinite, { minLength: 1, maxLength: 60 }), fc.array(fc.nat(), { maxLength: 8 }), fc.nat(), (values, cuts, seed) => {
      const whole = new ExactBank(2)
      for (const v of values) { whole.add(0, v); whole.add(1, -v / 3) }
      // cut into groups, sum each on its own bank, pack, and add the packs in a shuffled order
      const points = [...new Set(cuts.map(c => c % (values.length + 1)))].sort((a, b) => a - b)
      const groups: number[][] = []
      let start = 0
      for (const p of [...points, values.length]) { groups.push(values.slice(start, p)); start = p }
      const packs = groups.map(g => {
        const bank = new ExactBank(2)
        for (const v of [...g].reverse()) { bank.add(0, v); bank.add(1, -v / 3) }
        return bank.pack()
      })
      const order = packs.map((_, i) => i).sort((a, b) => ((a * 7919 + seed) % 101) - ((b * 7919 + seed) % 101))
      const total = new ExactBank(2)
      for (const i of order) total.addPacked(packs[i])
      expect(total.units(0)).toBe(whole.units(0))
      expect(total.units(1)).toBe(whole.units(1))
      expect(total.pack()).toEqual(whole.pack())
    }), { numRuns: 300 })
  })

  it('stays exact past the carry interval, with cancelling huge and tiny terms', () => {
    const bank = new ExactBank(1)
    const terms = [1e300, 3.5, -1e300, 5e-324, 0.1, -(2 ** 960), 2 ** 960 * 0.75, 123456.789e-200]
    const n = (1 << 20) + 5000
    let expected = 0n
    for (let i = 0; i < n; i++) {
      const t = terms[i % terms.length] * (i % 3 === 0 ? -1 : 1)
      bank.add(0, t)
      expected += toUnits(t)
    }
    expect(bank.units(0)).toBe(expected)
    // a long run of equal terms crosses the carry interval several times
    const many = new ExactBank(1)
    for (let i = 0; i < 3 * (1 << 20); i++) many.add(0, 4294967295.75)
    expect(many.units(0)).toBe(toUnits(4294967295.75) * BigInt(3 * (1 << 20)))
    expect(many.toNumber(0)).toBe(4294967295.75 * 3 * (1 << 20))
  })

  it('rounds once, ties to even, with lower terms breaking ties', () => {
    const sumOf = (values: number[]): number => {
      const bank = new ExactBank(1)
      for (const v of values) bank.add(0, v)
      return bank.toNumber(0)
    }
    expect(sumOf([1, 2 ** -53])).toBe(1) // a tie: to even
    expect(sumOf([1, 2 ** -53, 2 ** -200])).toBe(1 + 2 ** -52) // just above the tie
    expect(sumOf([1 + 2 ** -52, 2 ** -53])).toBe(1 + 2 ** -51) // a tie to the even neighbour above
    expect(sumOf([1, 2 ** -53, -(2 ** -1074)])).toBe(1) // just below the tie
    expect(sumOf([2 ** 52, 0.5])).toBe(2 ** 52) // ties at every digit position
    expect(sumOf([2 ** 40, 2 ** -13])).toBe(2 ** 40) // half an ulp of 2^40: a tie
    expect(sumOf([2 ** 40, 2 ** -13, 2 ** -300])).toBe(2 ** 40 + 2 ** -12)
    expect(sumOf([2 ** 40 + 2 ** -12, 2 ** -13])).toBe(2 ** 40 + 2 ** -11)
    expect(sumOf([0.1, 0.2])).toBe(0.30000000000000004)
    expect(sumOf([1e308, 0.1, -1e308, 0.2, -1e-300])).toBe(0.3)
    expect(sumOf([Number.MAX_VALUE, 2 ** 970])).toBe(Infinity) // halfway to 2^1024 rounds up
    expect(sumOf([Number.MAX_VALUE, 2 ** 969])).toBe(Number.MAX_VALUE)
    expect(sumOf([2 ** -1022, -(2 ** -1074)])).toBe(2 ** -1022 - 2 ** -1074)
  })

  it('rounds like IEEE for non-finite terms, whatever the order', () => {
    const sumOf = (values: number[]): number => {
      const bank = new ExactBank(1)
      for (const v of values) bank.add(0, v)
      const other = new ExactBank(1)
      other.addPacked(bank.pack())
      expect(Object.is(other.toNumber(0), bank.toNumber(0))).toBe(true)
      return bank.toNumber(0)
    }
    expect(sumOf([1, Infinity, 2])).toBe(Infinity)
    expect(sumOf([-Infinity, 1e308])).toBe(-Infinity)
    expect(sumOf([Infinity, -Infinity])).toBeNaN()
    expect(sumOf([NaN, 1])).toBeNaN()
    expect(sumOf([Number.MAX_VALUE, Number.MAX_VALUE])).toBe(Infinity)
    expect(sumOf([Number.MAX_VALUE, Number.MAX_VALUE, -Number.MAX_VALUE])).toBe(Number.MAX_VALUE)
  })

  it('packs a typical sum in a few bytes and refuses malformed packs', () => {
    const bank = new ExactBank(3)
    bank.add(0, 0.1)
    bank.add(1, -2.5)
    const packed = bank.pack()
    expect(packed.length).toBeLessThanOrEqual(2 * 10 + 1)
    const other = new ExactBank(3)
    other.addPacked(packed)
    expect([other.toNumber(0), other.toNumber(1), other.toNumber(2)]).toEqual([0.1, -2.5, 0])
    expect(() => new ExactBank(4).addPacked(packed)).toThrow(ExactSumFormatError)
    expect(() => new ExactBank(2).addPacked(packed)).toThrow(ExactSumFormatError)
    expect(() => new ExactBank(1).addPacked(Uint8Array.of(4 + 2 * 0, 2, 0, 1))).toThrow(ExactSumFormatError)
    expect(() => new ExactBank(1).addPacked(Uint8Array.of(0x80, 0))).toThrow(ExactSumFormatError)
  })
})

describe('rounding', () => {
  it('rounds ratios once, ties to even, into subnormals and to Infinity', () => {
    expect(roundRatio(1n, 3n, 0)).toBe(1 / 3)
    expect(roundRatio(-2n, 3n, 0)).toBe(-2 / 3)
    expect(roundRatio(1n, 10n, 0)).toBe(0.1)
    expect(roundRatio(1n, 1n, -1074)).toBe(5e-324)
    expect(roundRatio(1n, 2n, -1074)).toBe(0) // a tie between 0 and 2^-1074 goes to even
    expect(roundRatio(3n, 2n, -1074)).toBe(1e-323) // 1.5 units: tie to even (2 units)
    expect(roundRatio(1n, 1n, 1024)).toBe(Infinity)
    expect(roundRatio((1n << 53n) + 1n, 1n, 0)).toBe(2 ** 53)
    expect(roundRatio((1n << 53n) + 3n, 1n, 0)).toBe(2 ** 53 + 4)
    fc.assert(fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), x => {
      expect(Object.is(roundUnits(toUnits(x)), x === 0 ? 0 : x)).toBe(true)
    }))
  })

  it("two-product is exact (Dekker) where nothing under- or overflows", () => {
    fc.assert(fc.property(fc.double({ min: -1e100, max: 1e100, noNaN: true }), fc.double({ min: -1e100, max: 1e100, noNaN: true }), (a, b) => {
      fc.pre(Math.abs(a * b) > 1e-250 || a * b === 0)
      const [p, e] = twoProduct(a, b)
      expect(toUnits(p) + toUnits(e)).toBe(a === 0 || b === 0 ? 0n : exactProductUnits(a, b))
    }))
  })
})

/** a * b in units of 2^-1074, when that is an integer (it is here: |a * b| is far above 2^-1074 * 2^53). */
function exactProductUnits (a: number, b: number): bigint {
  // a * b = (A * 2^-1074) * (B * 2^-1074) = A * B * 2^-2148
  const product = toUnits(a) * toUnits(b)
  return product / (1n << 1074n)
}

describe('scratch banks', () => {
  it('come back zeroed, whatever the last use left in them', async () => {
    const { scratchBank } = await import('../../src/ml/exact-bank.ts')
    const first = scratchBank(3, 'test')
    first.add(0, 1e300)
    first.add(1, -5e-324)
    first.add(2, Infinity)
    for (let i = 0; i < 10; i++) first.addAll(Float64Array.of(1.5, 2 ** 900, 3))
    const again = scratchBank(3, 'test')
    expect(again).toBe(first)
    expect([again.toNumber(0), again.toNumber(1), again.toNumber(2)]).toEqual([0, 0, 0])
    expect(again.pack()).toEqual(new ExactBank(3).pack())
    again.add(1, 0.25)
    expect(again.toNumber(1)).toBe(0.25)
  })
})
