/**
 * ml/exact-bank: many exact sums of doubles at once, at a small multiple of the cost of a
 * plain `+=`. The result of a sum never depends on the order or grouping of its terms,
 * because nothing is rounded before `toNumber`, which rounds the exact total once.
 *
 * How: every finite double is an integer multiple of 2^-1074. The bank cuts that integer
 * into 32-bit digits: bin k holds a multiple of 2^(32k - 1074), kept in a float64 slot.
 * A term below 2^974 spans at most three bins and is split into its three parts exactly
 * by rounding with a constant (x + C) - C. A bin starts below 2^31 of its units and gains
 * at most 2^32 per term, so it stays an exact integer (below 2^53) for 2^20 terms; then
 * carries move each bin's excess to the next. Terms of 2^974 and above go to an exact
 * BigInt part; NaN and infinities are remembered as flags, so the total is NaN or
 * infinite as IEEE addition would make it in any order.
 *
 * Sums travel between peers packed (`pack`, `addPacked`; the format is packed-sums.ts): each
 * as the bytes of its exact integer. Pure arithmetic over typed arrays; it never rounds a
 * term and never allocates per term.
 */

import { ByteReader, ByteWriter } from './byte-codec.ts'
import { ExactSumFormatError } from './errors.ts'
import { BYTE_WEIGHT, MAX_SUM_BYTES, packDigits, packUnits, readTag } from './packed-sums.ts'
import { powerOfTwo, roundDigits, roundUnits, toUnits } from './rounding.ts'

/** Bins, each 32 bits of the exact integer: bin k holds multiples of 2^(32k - 1074). */
const BINS = 64
/** Slots per sum: slot k + 1 is bin k; slot 0 (bin -1) only ever receives zeros. Slot s of sum i is at s * size + i, so a row of terms of like magnitude touches few cache lines. */
const SLOTS = BINS + 1
/** Terms with a biased exponent from here on (|x| >= 2^974, and NaN, ±Infinity) take the slow path. */
const SLOW_BIASED_EXPONENT = 1997
/** Terms per bin before carries must run (a bin must stay below 2^53 units). */
const TERMS_BEFORE_CARRY = 1 << 20
/** The top bin spills to the BigInt part past this many of its units. */
const TOP_BIN_SPILL = 2 ** 40

/** The unit of bin k: 2^(32k - 1074). */
const UNIT = Float64Array.from({ length: BINS }, (_, k) => powerOfTwo(32 * k - 1074))
/** (x + SPLIT[k]) - SPLIT[k] rounds x to a multiple of bin k's unit, for |x| < 2^(32k - 1074 + 51). */
const SPLIT = Float64Array.from({ length: BINS }, (_, k) => 1.5 * powerOfTwo(32 * k - 1074 + 52))

const F64 = new Float64Array(1)
const U32 = new Uint32Array(F64.buffer)
/** Index of the high word of a float64 in U32 (1 on little-endian hosts). */
const HI = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1 ? 1 : 0

const NAN_FLAG = 1
const POS_INF_FLAG = 2
const NEG_INF_FLAG = 4

/** A fixed number of exact sums of doubles, indexed 0..size-1. */
export class ExactBank {
  readonly size: number
  private readonly bins: Float64Array
  /** Terms added to a bin since the last carry, at most (counted per call, for every sum). */
  private terms = 0
  /** The exact part of each sum past the bins (huge terms), in units of 2^-1074. */
  private big: Map<number, bigint> | null = null
  /** NaN / +Infinity / -Infinity seen, per sum. */
  private flags: Uint8Array | null = null
  /** The lowest and highest bins any sum may use (a term's three bins, carries, packed digits). */
  private low = BINS
  private high = -1
  private readonly scratchDigits = new Float64Array(BINS)
  private words: Uint32Array<ArrayBufferLike> = new Uint32Array(0)
  private wordsFor: Float64Array | null = null

  constructor (size: number) {
    if (!(Number.isSafeInteger(size) && size >= 0)) throw new RangeError(`bank size must be a non-negative integer, got ${size}`)
    this.size = size
    this.bins = new Float64Array(size * SLOTS)
  }

  /** Sets every sum back to zero, clearing only the bins in use. */
  reset (): void {
    if (this.high >= 0) this.bins.fill(0, this.firstBin() * this.size, (this.carryTop() + 2) * this.size)
    this.low = BINS
    this.high = -1
    this.terms = 0
    this.big = null
    this.flags = null
  }

  /** Adds x to sum i exactly. */
  add (i: number, x: number): void {
    if (++this.terms >= TERMS_BEFORE_CARRY) this.carryAll()
    this.deposit(i, x)
  }

  /** Adds values[i] to sum i for every i < size, exactly. */
  addAll (values: Float64Array): void {
    if (++this.terms >= TERMS_BEFORE_CARRY) this.carryAll()
    const bins = this.bins
    const size = this.size
    const words = this.wordsOf(values)
    let lowBin = this.low
    let highBin = this.high
    // deposit, inlined: this loop is the hot path of training
    for (let i = 0; i < size; i++) {
      const x = values[i]
      const biased = (words[2 * i + HI] >>> 20) & 0x7ff
      if (biased >= SLOW_BIASED_EXPONENT) {
        this.depositSlow(i, x)
        continue
      }
      const k = ((biased === 0 ? 1 : biased) + 51) >>> 5
      if (k > highBin) highBin = k
      if (k < lowBin) lowBin = k
      const c1 = SPLIT[k]
      const high = (x + c1) - c1
      const rest = x - high
      const c2 = SPLIT[k - 1]
      const middle = (rest + c2) - c2
      const at = k * size + i
      bins[at + size] += high
      bins[at] += middle
      bins[at - size] += rest - middle
    }
    this.low = lowBin
    this.high = highBin
  }

  /** A 32-bit view of `values` (kept for the next call: callers reuse one row buffer). */
  private wordsOf (values: Float64Array): Uint32Array<ArrayBufferLike> {
    if (this.wordsFor !== values) {
      this.words = new Uint32Array(values.buffer, values.byteOffset, values.length * 2)
      this.wordsFor = values
    }
    return this.words
  }

  /** The exact sum i rounded once to the nearest double (ties to even); +0 for an exact zero. */
  toNumber (i: number): number {
    const flags = this.flags?.[i] ?? 0
    if (flags !== 0) return flagValue(flags)
    if (this.big?.has(i) !== true) {
      const sign = this.canonicalDigits(i, this.scratchDigits)
      if (sign === 0) return 0
      if (sign !== undefined) {
        const value = roundDigits(this.scratchDigits, this.firstBin(), this.high, sign)
        if (value !== undefined) return value
      }
    }
    return roundUnits(this.units(i))
  }

  /** Every sum rounded once, as toNumber does. */
  toArray (): Float64Array {
    const out = new Float64Array(this.size)
    for (let i = 0; i < this.size; i++) out[i] = this.toNumber(i)
    return out
  }

  /** Whether sum i saw a NaN or an infinity. */
  isSpecial (i: number): boolean {
    return (this.flags?.[i] ?? 0) !== 0
  }

  /** The exact finite sum i in units of 2^-1074. @throws RangeError when it saw a NaN or an infinity */
  units (i: number): bigint {
    if (this.isSpecial(i)) throw new RangeError(`sum ${i} is not finite`)
    let total = this.big?.get(i) ?? 0n
    for (let k = this.firstBin(); k <= this.high; k++) {
      const v = this.bins[(k + 1) * this.size + i]
      if (v !== 0) total += BigInt(v / UNIT[k]) << BigInt(32 * k)
    }
    return total
  }

  /** Adds `units` * 2^-1074 to sum i exactly. */
  addUnits (i: number, units: bigint): void {
    if (units === 0n) return
    this.big ??= new Map()
    this.big.set(i, (this.big.get(i) ?? 0n) + units)
  }

  /** Every sum, packed (packed-sums.ts): the exact integer's bytes, one encoding per value. */
  pack (): Uint8Array {
    const out = new ByteWriter(this.size * 12)
    const digits = this.scratchDigits
    for (let i = 0; i < this.size; i++) {
      const flags = this.flags?.[i] ?? 0
      if (flags !== 0) {
        out.varint(flagTag(flags))
        continue
      }
      const sign = this.big?.has(i) === true ? undefined : this.canonicalDigits(i, digits)
      if (sign === undefined) packUnits(out, this.units(i))
      else packDigits(out, digits, this.firstBin(), this.high, sign)
    }
    return out.bytes()
  }

  /**
   * Adds every sum of a packed bank of the same size (see pack), exactly.
   * @throws ExactSumFormatError when the bytes are not `size` packed sums
   */
  addPacked (bytes: Uint8Array): void {
    if (++this.terms >= TERMS_BEFORE_CARRY) this.carryAll()
    const reader = new ByteReader(bytes)
    for (let i = 0; i < this.size; i++) {
      const tag = reader.varint()
      if (tag === 0) continue
      if (tag < 4) {
        this.flags ??= new Uint8Array(this.size)
        this.flags[i] |= tag === 1 ? NAN_FLAG : tag === 2 ? POS_INF_FLAG : NEG_INF_FLAG
        continue
      }
      const { z, negative } = readTag(tag)
      const length = reader.varint()
      if (z < 0 || length < 1 || z + length > MAX_SUM_BYTES) throw new ExactSumFormatError(`packed sum ${i} spans bytes ${z}..${z + length - 1}, outside 0..${MAX_SUM_BYTES - 1}`)
      const start = reader.skip(length)
      if (bytes[start] === 0 || bytes[start + length - 1] === 0) throw new ExactSumFormatError(`packed sum ${i} has a leading or trailing zero byte`)
      const sign = negative ? -1 : 1
      // assemble each 32-bit digit from its bytes, then add it to its bin
      let k = z >> 2
      let digit = 0
      for (let p = 0; p < length; p++) {
        const at = z + p
        if (at >> 2 !== k) {
          this.addDigit(i, k, sign * digit)
          k = at >> 2
          digit = 0
        }
        digit += bytes[start + p] * BYTE_WEIGHT[at & 3]
      }
      this.addDigit(i, k, sign * digit)
    }
    if (!reader.done()) throw new ExactSumFormatError(`packed sums have ${reader.remaining()} bytes after sum ${this.size - 1}`)
  }

  /** Adds d * 2^(32k) units (|d| < 2^32) to sum i. */
  private addDigit (i: number, k: number, d: number): void {
    if (d === 0) return
    if (k >= BINS) {
      this.addUnits(i, BigInt(d) << BigInt(32 * k))
      return
    }
    this.bins[(k + 1) * this.size + i] += d * UNIT[k]
    if (k > this.high) this.high = k
    if (k < this.low) this.low = k
  }

  /** The lowest bin a sum may hold a non-zero value in: a term's bins reach two below its top one. */
  private firstBin (): number {
    return Math.max(0, this.low - 2)
  }

  /** Splits x into its parts in (at most) three bins and adds them; huge and non-finite terms go the slow way. */
  private deposit (i: number, x: number): void {
    F64[0] = x
    const biased = (U32[HI] >>> 20) & 0x7ff
    if (biased >= SLOW_BIASED_EXPONENT) {
      this.depositSlow(i, x)
      return
    }
    // the bin of x's top bit (a subnormal's exponent reads as the smallest normal's)
    const k = ((biased === 0 ? 1 : biased) + 51) >>> 5
    if (k > this.high) this.high = k
    if (k < this.low) this.low = k
    const c1 = SPLIT[k]
    const high = (x + c1) - c1
    const rest = x - high
    const c2 = SPLIT[k - 1]
    const middle = (rest + c2) - c2
    const size = this.size
    const at = k * size + i
    const bins = this.bins
    bins[at + size] += high
    bins[at] += middle
    bins[at - size] += rest - middle
  }

  private depositSlow (i: number, x: number): void {
    if (Number.isFinite(x)) {
      this.addUnits(i, toUnits(x))
      return
    }
    this.flags ??= new Uint8Array(this.size)
    this.flags[i] |= Number.isNaN(x) ? NAN_FLAG : x > 0 ? POS_INF_FLAG : NEG_INF_FLAG
  }

  /** Carries every sum, so each bin again holds at most 2^31 of its units. */
  private carryAll (): void {
    for (let i = 0; i < this.size; i++) this.carry(i)
    this.terms = 0
  }

  /** The bins a carry walks: from the first in use to one past the highest (carries reach no further). */
  private carryTop (): number {
    return Math.min(BINS - 1, this.high + 1)
  }

  /**
   * Moves each bin's excess (rounded to the next bin's unit) to the next bin, over the bins in
   * use; spills a large top bin to the BigInt part. A bin below 2^53 units carries at most
   * 2^22 units on, so the bin above the highest in use ends below 2^31 and carries nothing.
   */
  private carry (i: number): void {
    if (this.high < 0) return
    const bins = this.bins
    const size = this.size
    const top = this.carryTop()
    let incoming = 0
    for (let k = this.firstBin(), at = (k + 1) * size + i; k < top; k++, at += size) {
      const v = bins[at] + incoming
      const c = SPLIT[k + 1]
      const out = (v + c) - c
      bins[at] = v - out
      incoming = out
    }
    const topAt = (top + 1) * size + i
    const v = bins[topAt] + incoming
    if (top === BINS - 1 && Math.abs(v) > TOP_BIN_SPILL * UNIT[BINS - 1]) {
      this.addUnits(i, BigInt(v / UNIT[BINS - 1]) << BigInt(32 * (BINS - 1)))
      bins[topAt] = 0
    } else {
      bins[topAt] = v
    }
    if (incoming !== 0 && top > this.high) this.high = top
  }

  /**
   * Carries sum i and writes the base-2^32 digits of its magnitude, non-negative, to
   * `digits[firstBin() .. high]`; returns the sum's sign (0 for zero), or undefined when its top
   * bin does not fit one digit.
   */
  private canonicalDigits (i: number, digits: Float64Array): number | undefined {
    this.carry(i)
    const first = this.firstBin()
    let top = -1
    for (let k = first; k <= this.high; k++) {
      const d = this.bins[(k + 1) * this.size + i] / UNIT[k]
      digits[k] = d
      if (d !== 0) top = k
    }
    if (top === -1) return 0
    if (Math.abs(digits[top]) >= 2 ** 32) return undefined
    const sign = digits[top] > 0 ? 1 : -1
    // digits are in [-2^31, 2^31]: make them all non-negative digits of |sum|, borrowing upwards
    let borrow = 0
    for (let k = first; k <= top; k++) {
      let d = sign * digits[k] - borrow
      borrow = 0
      if (d < 0) {
        d += 2 ** 32
        borrow = 1
      }
      digits[k] = d
    }
    for (let k = top + 1; k <= this.high; k++) digits[k] = 0
    return sign
  }
}

/** Banks kept for reuse by size and use, so a task does not allocate and zero a bank per run. */
const spareBanks = new Map<string, ExactBank>()

/**
 * A zeroed bank of `size` sums for the caller's use `use` (distinct uses get distinct banks),
 * reused from call to call within a thread: valid until the next call with the same size and use.
 */
export function scratchBank (size: number, use: string): ExactBank {
  const key = `${use}:${size}`
  let bank = spareBanks.get(key)
  if (bank === undefined) {
    if (spareBanks.size >= 16) spareBanks.clear()
    bank = new ExactBank(size)
    spareBanks.set(key, bank)
  } else {
    bank.reset()
  }
  return bank
}

function flagValue (flags: number): number {
  if ((flags & NAN_FLAG) !== 0 || flags === (POS_INF_FLAG | NEG_INF_FLAG)) return NaN
  return (flags & POS_INF_FLAG) !== 0 ? Infinity : -Infinity
}

function flagTag (flags: number): number {
  const value = flagValue(flags)
  return Number.isNaN(value) ? 1 : value > 0 ? 2 : 3
}
