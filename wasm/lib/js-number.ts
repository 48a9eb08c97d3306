/**
 * wasm/lib/js-number: JavaScript's `Number(decimal)` and `String(x)` for doubles, exactly, in
 * AssemblyScript. AssemblyScript's own parseFloat and f64.toString are approximations (they
 * differ from JavaScript on some inputs), so both directions here use exact big-integer
 * comparisons: parsing finds the double nearest the decimal value (ties to even), printing
 * picks the fewest digits that parse back to x, rounded to nearest. One module because
 * printing checks each candidate by parsing it: both directions share the bignum below.
 * Pure; no imports.
 */

/** Limb base of the bignum: 10^9, so each u32 limb holds 9 decimal digits. */
const LIMB_BASE: u64 = 1_000_000_000
/** Most significant digits a double ever needs to round-trip. */
const MAX_DIGITS = 17
/** Integers below this are printed directly (every such double is an exact integer). */
const SAFE_INTEGER: f64 = 9007199254740992
/** Bit pattern of +Infinity; read as a double "value" it stands for 2^1024. */
const INFINITY_BITS: u64 = 0x7ff0000000000000
/** Largest powers used per bignum multiplication step (both < 2^32). */
const POW5_13: u32 = 1_220_703_125
const POW2_29: u32 = 1 << 29
/** Decimal exponents past which a value is certainly 0 or Infinity. */
const MIN_DECIMAL_EXPONENT = -330
const MAX_DECIMAL_EXPONENT = 310
/** How many ulps either side of the estimate the exact search starts with. */
const GUESS_WINDOW: u64 = 16

// --- bignum: little-endian base-10^9 limbs -------------------------------------------------

function multiplySmall(limbs: Array<u32>, factor: u32): void {
  let carry: u64 = 0
  for (let i = 0; i < limbs.length; i++) {
    const product = <u64>limbs[i] * <u64>factor + carry
    limbs[i] = <u32>(product % LIMB_BASE)
    carry = product / LIMB_BASE
  }
  while (carry > 0) {
    limbs.push(<u32>(carry % LIMB_BASE))
    carry /= LIMB_BASE
  }
}

function multiplyPow2(limbs: Array<u32>, n: i32): void {
  for (; n >= 29; n -= 29) multiplySmall(limbs, POW2_29)
  if (n > 0) multiplySmall(limbs, <u32>1 << n)
}

function multiplyPow5(limbs: Array<u32>, n: i32): void {
  for (; n >= 13; n -= 13) multiplySmall(limbs, POW5_13)
  let f: u32 = 1
  for (; n > 0; n--) f *= 5
  if (f > 1) multiplySmall(limbs, f)
}

function multiplyPow10(limbs: Array<u32>, n: i32): void {
  // whole limbs are a shift
  const shift = n / 9
  if (shift > 0) {
    const shifted = new Array<u32>(shift)
    for (let i = 0; i < shift; i++) shifted[i] = 0
    for (let i = 0; i < limbs.length; i++) shifted.push(limbs[i])
    limbs.length = 0
    for (let i = 0; i < shifted.length; i++) limbs.push(shifted[i])
  }
  let f: u32 = 1
  for (let r = n % 9; r > 0; r--) f *= 10
  if (f > 1) multiplySmall(limbs, f)
}

function fromU64(value: u64): Array<u32> {
  const limbs = new Array<u32>()
  do {
    limbs.push(<u32>(value % LIMB_BASE))
    value /= LIMB_BASE
  } while (value > 0)
  return limbs
}

function fromDigits(digits: string): Array<u32> {
  const limbs = new Array<u32>()
  for (let end = digits.length; end > 0; end -= 9) {
    const start = end >= 9 ? end - 9 : 0
    let limb: u32 = 0
    for (let i = start; i < end; i++) limb = limb * 10 + <u32>(digits.charCodeAt(i) - 48)
    limbs.push(limb)
  }
  return limbs
}

function compare(a: Array<u32>, b: Array<u32>): i32 {
  let la = a.length
  let lb = b.length
  while (la > 1 && a[la - 1] == 0) la--
  while (lb > 1 && b[lb - 1] == 0) lb--
  if (la != lb) return la < lb ? -1 : 1
  for (let i = la - 1; i >= 0; i--) {
    if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1
  }
  return 0
}

function toDecimalString(limbs: Array<u32>): string {
  let top = limbs.length - 1
  while (top > 0 && limbs[top] == 0) top--
  let s = limbs[top].toString()
  for (let i = top - 1; i >= 0; i--) s += limbs[i].toString().padStart(9, "0")
  return s
}

// --- exact values --------------------------------------------------------------------------

/** A positive decimal: the integer `digits` (no leading zeros) times 10^exponent. */
class Decimal {
  digits: string
  exponent: i32

  constructor(digits: string, exponent: i32) {
    this.digits = digits
    this.exponent = exponent
  }

  /** digits before the decimal point (ECMAScript's n) */
  get point(): i32 {
    return this.digits.length + this.exponent
  }
}

/** Sign of (decimal - mantissa * 2^binaryExponent), computed exactly. */
function compareWithDyadic(d: Decimal, mantissa: u64, binaryExponent: i32): i32 {
  const left = fromDigits(d.digits)
  const right = fromU64(mantissa)
  if (d.exponent >= 0) multiplyPow10(left, d.exponent)
  else multiplyPow10(right, -d.exponent)
  if (binaryExponent >= 0) multiplyPow2(right, binaryExponent)
  else multiplyPow2(left, -binaryExponent)
  return compare(left, right)
}

/** Sign of (decimal - the double with these bits); INFINITY_BITS counts as 2^1024. */
function compareWithBits(d: Decimal, bits: u64): i32 {
  const biased = <i32>(bits >> 52)
  const fraction = bits & 0xfffffffffffff
  if (biased == 0) return compareWithDyadic(d, fraction, -1074)
  return compareWithDyadic(d, fraction | (<u64>1 << 52), biased - 1075)
}

/** The double nearest to a positive decimal (ties to even), as JavaScript's Number() rounds. */
function decimalToDouble(d: Decimal): f64 {
  if (d.digits == "0") return 0
  if (d.point > MAX_DECIMAL_EXPONENT) return Infinity
  if (d.point < MIN_DECIMAL_EXPONENT) return 0
  // invariant: value(lo) <= d < value(hi); start from a close guess when there is one
  // Clinger's fast path: an integer below 2^53 times an exact power of ten rounds once
  if (d.digits.length <= 15 && d.exponent >= -22 && d.exponent <= 22) {
    const m = <f64>parseDigits(d.digits, d.digits.length)
    return d.exponent >= 0 ? m * exactPow10(d.exponent) : m / exactPow10(-d.exponent)
  }
  let lo: u64 = 0
  let hi: u64 = INFINITY_BITS + 1
  const guess = approximate(d)
  if (isFinite(guess) && guess > 0) {
    const g = reinterpret<u64>(guess)
    const a: u64 = g > GUESS_WINDOW ? g - GUESS_WINDOW : 0
    const b: u64 = g + GUESS_WINDOW < INFINITY_BITS ? g + GUESS_WINDOW : INFINITY_BITS
    if (compareWithBits(d, a) >= 0) lo = a
    if (compareWithBits(d, b) < 0) hi = b
  }
  while (hi - lo > 1) {
    const mid = lo + (hi - lo) / 2
    if (compareWithBits(d, mid) >= 0) lo = mid
    else hi = mid
  }
  if (lo == INFINITY_BITS) return Infinity
  // round: compare with the midpoint between lo and the next double, (2m + 1) * 2^(e - 1)
  const biased = <i32>(lo >> 52)
  const fraction = lo & 0xfffffffffffff
  const mantissa: u64 = biased == 0 ? fraction : fraction | (<u64>1 << 52)
  const exponent: i32 = biased == 0 ? -1074 : biased - 1075
  const side = compareWithDyadic(d, mantissa * 2 + 1, exponent - 1)
  const bits = side > 0 || (side == 0 && (lo & 1) == 1) ? lo + 1 : lo
  return reinterpret<f64>(bits)
}

function parseDigits(digits: string, n: i32): u64 {
  let value: u64 = 0
  for (let i = 0; i < n; i++) value = value * 10 + <u64>(digits.charCodeAt(i) - 48)
  return value
}

/** 10^n for 0 <= n <= 22, which are exact doubles. */
function exactPow10(n: i32): f64 {
  let p: f64 = 1
  for (let i = 0; i < n; i++) p *= 10
  return p
}

/** A double within a few ulps of d (or 0/Infinity when the exponent is extreme). */
function approximate(d: Decimal): f64 {
  const n = d.digits.length < 19 ? d.digits.length : 19
  const head = parseDigits(d.digits, n)
  const scale = d.exponent + d.digits.length - n
  const x = <f64>head
  // two steps so neither power under- or overflows on its own
  const half = scale / 2
  return x * Math.pow(10, <f64>half) * Math.pow(10, <f64>(scale - half))
}

/** Exact decimal digits of a positive finite double. */
function exactDecimal(x: f64): Decimal {
  const bits = reinterpret<u64>(x)
  const biased = <i32>((bits >> 52) & 0x7ff)
  const fraction = bits & 0xfffffffffffff
  const mantissa: u64 = biased == 0 ? fraction : fraction | (<u64>1 << 52)
  const exponent: i32 = biased == 0 ? -1074 : biased - 1075
  const limbs = fromU64(mantissa)
  // x = m * 2^e: for e < 0, x = (m * 5^-e) * 10^e
  if (exponent >= 0) multiplyPow2(limbs, exponent)
  else multiplyPow5(limbs, -exponent)
  return stripZeros(toDecimalString(limbs), exponent >= 0 ? 0 : exponent)
}

function stripZeros(digits: string, exponent: i32): Decimal {
  let end = digits.length
  while (end > 1 && digits.charCodeAt(end - 1) == 48) end--
  return new Decimal(digits.substring(0, end), exponent + digits.length - end)
}

/** `exact` rounded to k significant digits, to nearest, ties to even. */
function roundTo(exact: Decimal, k: i32): Decimal {
  const digits = exact.digits
  if (digits.length <= k) return exact
  let prefix = digits.substring(0, k)
  const next = digits.charCodeAt(k) - 48
  let restNonZero = false
  for (let i = k + 1; i < digits.length; i++) {
    if (digits.charCodeAt(i) != 48) { restNonZero = true; break }
  }
  const lastOdd = ((prefix.charCodeAt(k - 1) - 48) & 1) == 1
  const exponent = exact.exponent + digits.length - k
  if (next > 5 || (next == 5 && (restNonZero || lastOdd))) {
    let i = k - 1
    let carried = ""
    while (i >= 0 && prefix.charCodeAt(i) == 57) { carried += "0"; i-- }
    prefix = i < 0 ? "1" + carried : prefix.substring(0, i) + String.fromCharCode(prefix.charCodeAt(i) + 1) + carried
  }
  return stripZeros(prefix, exponent)
}

/** ECMAScript Number::toString layout of digits s (k of them) with the point after n. */
function layout(d: Decimal): string {
  const s = d.digits
  const k = s.length
  const n = d.point
  if (k <= n && n <= 21) return s + "0".repeat(n - k)
  if (0 < n && n <= 21) return s.substring(0, n) + "." + s.substring(n)
  if (-6 < n && n <= 0) return "0." + "0".repeat(-n) + s
  const e = n - 1
  const exponent = (e < 0 ? "-" : "+") + abs(e).toString()
  return k == 1 ? s + "e" + exponent : s.substring(0, 1) + "." + s.substring(1) + "e" + exponent
}

// --- public --------------------------------------------------------------------------------

/** JavaScript `String(x)`. */
export function jsNumberToString(x: f64): string {
  if (isNaN(x)) return "NaN"
  if (x == Infinity) return "Infinity"
  if (x == -Infinity) return "-Infinity"
  if (x == 0) return "0"
  if (x < 0) return "-" + jsNumberToString(-x)
  if (x < SAFE_INTEGER && x == Math.floor(x)) return (<u64>x).toString()
  const exact = exactDecimal(x)
  // AssemblyScript's Grisu2 output round-trips and is almost always shortest, so start at its
  // length k0. Round-tripping is monotone in k (if k digits do, k + 1 do), so: go down while
  // shorter still round-trips, else up until one does.
  let k = significantDigits(x.toString())
  if (k > MAX_DIGITS) k = MAX_DIGITS
  if (roundTrips(exact, k, x)) {
    while (k > 1 && roundTrips(exact, k - 1, x)) k--
  } else {
    while (k < MAX_DIGITS && !roundTrips(exact, k, x)) k++
  }
  return layout(roundTo(exact, k))
}

function roundTrips(exact: Decimal, k: i32, x: f64): bool {
  return decimalToDouble(roundTo(exact, k)) == x
}

/** Significant digits in a number as AssemblyScript prints it ("1.25e-7", "1234.0"). */
function significantDigits(s: string): i32 {
  let end = s.indexOf("e")
  if (end < 0) end = s.length
  let first = -1
  let last = -1
  let count = 0
  for (let i = 0; i < end; i++) {
    const c = s.charCodeAt(i)
    if (c < 48 || c > 57) continue
    if (first < 0 && c == 48) continue
    if (first < 0) first = count
    if (c != 48) last = count
    count++
  }
  return first < 0 ? 1 : last - first + 1
}

/**
 * JavaScript `Number(s)` for an unsigned decimal literal `s` that is already known to match
 * digits [ "." digits ] [ ("e" | "E") [sign] digits ] (at least one mantissa digit).
 */
export function parseUnsignedDecimal(s: string): f64 {
  let digits = ""
  let exponent: i64 = 0
  let i = 0
  const n = s.length
  let seenPoint = false
  for (; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c == 46) { seenPoint = true; continue }
    if (c < 48 || c > 57) break
    if (digits.length == 0 && c == 48) {
      if (seenPoint) exponent--
      continue
    }
    digits += String.fromCharCode(c)
    if (seenPoint) exponent--
  }
  if (i < n) {
    // exponent part; clamp absurd exponents, the result is 0 or Infinity anyway
    i++
    let negative = false
    if (s.charCodeAt(i) == 43 || s.charCodeAt(i) == 45) { negative = s.charCodeAt(i) == 45; i++ }
    let e: i64 = 0
    for (; i < n; i++) {
      if (e < 1_000_000_000) e = e * 10 + <i64>(s.charCodeAt(i) - 48)
    }
    exponent += negative ? -e : e
  }
  if (digits.length == 0) return 0
  if (exponent + <i64>digits.length > <i64>MAX_DECIMAL_EXPONENT) return Infinity
  if (exponent + <i64>digits.length < <i64>MIN_DECIMAL_EXPONENT) return 0
  return decimalToDouble(stripZeros(digits, <i32>exponent))
}
