/**
 * ml/rounding: the few places where an exact value becomes a double: exact integers and
 * ratios (BigInt in units of a power of two, or an exact sum's base-2^32 digits) rounded once
 * to the nearest double, ties to even; exact powers of two; and Dekker's exact product. Pure arithmetic; it never rounds
 * twice and never reads anything but its arguments.
 */

/** Exponent of the unit every finite double is a multiple of: 2^-1074, the smallest subnormal. */
export const UNIT_EXPONENT = -1074

/** Bits of a double's significand, the hidden bit included. */
const PRECISION = 53

/** 2^e for every e in [-1074, 1023], built by exact halvings and doublings. */
const POWERS = (() => {
  const table = new Float64Array(1023 + 1074 + 1)
  let up = 1
  for (let e = 0; e <= 1023; e++) { table[e + 1074] = up; up *= 2 }
  let down = 1
  for (let e = 0; e >= -1074; e--) { table[e + 1074] = down; down /= 2 }
  return table
})()

/** 2^e, exactly, for -1074 <= e <= 1023. */
export function powerOfTwo (e: number): number {
  if (!(Number.isInteger(e) && e >= -1074 && e <= 1023)) throw new RangeError(`2^${e} is not a finite double`)
  return POWERS[e + 1074]
}

/** Bit length of a non-negative BigInt (0 for 0). */
export function bitLength (n: bigint): number {
  if (n === 0n) return 0
  // hex digits give the length to within 3 bits, then the top digit the rest
  const hex = n.toString(16)
  return (hex.length - 1) * 4 + (32 - Math.clz32(parseInt(hex[0], 16)))
}

/**
 * The double nearest to (num / den) * 2^exp2, ties to even; ±Infinity past the largest double.
 * `den` must be positive.
 */
export function roundRatio (num: bigint, den: bigint, exp2: number): number {
  if (den <= 0n) throw new RangeError('roundRatio: the denominator must be positive')
  if (num === 0n) return 0
  const negative = num < 0n
  const n = negative ? -num : num
  // scale so the integer quotient has at least 55 bits: two below the last kept bit, plus a sticky remainder
  const shift = PRECISION + 3 - (bitLength(n) - bitLength(den))
  const scaled = shift >= 0 ? n << BigInt(shift) : n
  const divisor = shift >= 0 ? den : den << BigInt(-shift)
  const q = scaled / divisor
  const sticky = scaled % divisor !== 0n
  const value = roundQuotient(q, sticky, exp2 - shift)
  return negative ? -value : value
}

/** The double nearest to units * 2^-1074 (an exact sum in its integer form), ties to even. */
export function roundUnits (units: bigint): number {
  return roundRatio(units, 1n, UNIT_EXPONENT)
}

/**
 * Rounds q * 2^exp (plus a sticky bit below q's last bit) to the nearest double. q has 56 or
 * 57 bits (see roundRatio), so the rounding position is always inside q.
 */
function roundQuotient (q: bigint, sticky: boolean, exp: number): number {
  // keep 53 bits, or fewer where the result is subnormal (its last bit is worth 2^-1074)
  const drop = Math.max(bitLength(q) - PRECISION, UNIT_EXPONENT - exp)
  const dropped = BigInt(drop)
  let kept = q >> dropped
  const rest = q - (kept << dropped)
  const half = 1n << (dropped - 1n)
  if (rest > half || (rest === half && (sticky || (kept & 1n) === 1n))) kept += 1n
  if (kept === 0n) return 0
  const e = exp + drop
  // kept <= 2^53 is exact as a double, and kept * 2^e is one unless it overflows
  if (e + bitLength(kept) - 1 > 1023) return Infinity
  return Number(kept) * powerOfTwo(e)
}

/** Veltkamp's splitter for doubles: 2^27 + 1. */
const SPLITTER = 134217729

/**
 * Dekker's exact product: [p, e] with p = fl(a * b) and p + e = a * b exactly, unless the
 * product overflows or its error underflows (|a * b| near or below 2^-969).
 */
export function twoProduct (a: number, b: number): [number, number] {
  const p = a * b
  const ca = SPLITTER * a
  const aHi = ca - (ca - a)
  const aLo = a - aHi
  const cb = SPLITTER * b
  const bHi = cb - (cb - b)
  const bLo = b - bHi
  const e = ((aHi * bHi - p) + aHi * bLo + aLo * bHi) + aLo * bLo
  return [p, e]
}

const scratch = new DataView(new ArrayBuffer(8))

/** The exact value of a finite double as an integer multiple of 2^-1074. */
export function toUnits (x: number): bigint {
  if (!Number.isFinite(x)) throw new RangeError(`not a finite number: ${x}`)
  scratch.setFloat64(0, x)
  const hi = scratch.getUint32(0)
  const lo = scratch.getUint32(4)
  const biased = (hi >>> 20) & 0x7ff
  let units = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo)
  // a normal double is (2^52 + fraction) * 2^(biased - 1075) = ((2^52 + fraction) << (biased - 1)) units
  if (biased !== 0) units = (units | (1n << 52n)) << BigInt(biased - 1)
  return (hi >>> 31) === 1 ? -units : units
}

/**
 * The double nearest to the sum whose canonical digits (base 2^32, non-negative, indices
 * `first` to `last`) and sign are given, ties to even, from its top three digits and whether any digit
 * below them is non-zero; undefined below 2^-1022 (subnormal results take the BigInt path).
 */
export function roundDigits (digits: Float64Array, first: number, last: number, sign: number): number | undefined {
  let top = last
  while (top > first && digits[top] === 0) top--
  const d2 = digits[top]
  const d1 = top - 1 >= first ? digits[top - 1] : 0
  const d0 = top - 2 >= first ? digits[top - 2] : 0
  let sticky = false
  for (let k = top - 3; k >= first && !sticky; k--) sticky = digits[k] !== 0
  const s = 32 - Math.clz32(d2) // bits of the top digit
  // the value's top bit, in units of 2^-1074
  const topBit = 32 * top + s - 1
  if (topBit < 52) return undefined
  // kept: the top 53 bits; rest: the bits below them within the three digits, against half of their weight
  let kept: number
  let rest: number
  let restBits: number
  if (s <= 21) {
    const fromD0 = 21 - s // bits of d0 kept
    restBits = 32 - fromD0
    kept = (d2 * 2 ** 32 + d1) * 2 ** fromD0 + Math.floor(d0 / 2 ** restBits)
    rest = d0 % 2 ** restBits
  } else {
    const fromD1 = 53 - s // bits of d1 kept, 21 to 31
    restBits = 32 - fromD1
    kept = d2 * 2 ** fromD1 + Math.floor(d1 / 2 ** restBits)
    rest = d1 % 2 ** restBits
    sticky ||= d0 !== 0
  }
  const half = 2 ** (restBits - 1)
  if (rest > half || (rest === half && (sticky || kept % 2 === 1))) kept += 1
  const exponent = topBit - 52 - 1074
  // kept <= 2^53; a product past the largest double is Infinity, as rounding makes it
  return sign * (exponent > 971 ? Infinity : kept * powerOfTwo(exponent))
}
