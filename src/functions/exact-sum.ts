/**
 * functions/exact-sum: exact, order-independent summation of doubles. Every finite double
 * is an integer multiple of 2^-1074, so the sum is kept as that integer (a BigInt) and rounded
 * to a double once, at the end. Pure arithmetic; it must never lose a bit before `toNumber`.
 */

/** Exponent of the unit every double is a multiple of: 2^-1074 (the smallest subnormal). */
const UNIT_EXPONENT = 1074
/** Bits of precision of a double's significand. */
const PRECISION = 53

const scratch = new DataView(new ArrayBuffer(8))

/** The exact value of a finite double as a multiple of 2^-1074. */
function toUnits (x: number): bigint {
  if (!Number.isFinite(x)) throw new RangeError(`cannot sum a non-finite number: ${x}`)
  scratch.setFloat64(0, x)
  const hi = scratch.getUint32(0)
  const lo = scratch.getUint32(4)
  const negative = (hi >>> 31) === 1
  const biasedExponent = (hi >>> 20) & 0x7ff
  let mantissa = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo)
  if (biasedExponent !== 0) {
    // normal: (2^52 + m) * 2^(e - 1075) = ((2^52 + m) << (e - 1)) * 2^-1074
    mantissa = (mantissa | (1n << 52n)) << BigInt(biasedExponent - 1)
  }
  return negative ? -mantissa : mantissa
}

/** Rounds an exact multiple of 2^-1074 to the nearest double (ties to even); overflows to ±Infinity. */
function fromUnits (units: bigint): number {
  const negative = units < 0n
  const magnitude = negative ? -units : units
  const bits = magnitude === 0n ? 0 : magnitude.toString(2).length
  let value: number
  if (bits <= PRECISION) {
    // magnitude * 2^-1074 is exactly representable (subnormal or the lowest normals)
    value = Number(magnitude) * powerOfTwo(-UNIT_EXPONENT)
  } else {
    const shift = bits - PRECISION
    let q = magnitude >> BigInt(shift)
    const remainder = magnitude - (q << BigInt(shift))
    const half = 1n << BigInt(shift - 1)
    if (remainder > half || (remainder === half && (q & 1n) === 1n)) q += 1n
    const exponent = shift - UNIT_EXPONENT
    // q < 2^54 is exact; q * 2^exponent is a normal double or overflows
    value = exponent > 1023 ? Infinity : Number(q) * powerOfTwo(exponent)
  }
  return negative ? -value : value
}

/** 2^n for -1074 <= n <= 1023, built from its bits so it is exact. */
function powerOfTwo (n: number): number {
  if (n >= -1022) {
    scratch.setUint32(0, (n + 1023) << 20)
    scratch.setUint32(4, 0)
  } else {
    const bit = n + 1074 // position in the 52-bit subnormal significand
    scratch.setUint32(0, bit >= 32 ? 1 << (bit - 32) : 0)
    scratch.setUint32(4, bit < 32 ? (2 ** bit) >>> 0 : 0)
  }
  return scratch.getFloat64(0)
}

/** Accumulates doubles exactly. */
export class ExactSum {
  private total = 0n

  add (x: number): void {
    this.total += toUnits(x)
  }

  /** Adds another exact sum, e.g. one parsed from a task result. */
  addUnits (units: bigint): void {
    this.total += units
  }

  /** The sum so far, in units of 2^-1074. */
  get units (): bigint {
    return this.total
  }

  /** The exact sum rounded once to the nearest double. */
  toNumber (): number {
    return fromUnits(this.total)
  }
}
