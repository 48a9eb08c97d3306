/**
 * wasm/square: the `square` task function as a WASI command (AssemblyScript), with the same
 * semantics as the built-in in src/functions/square.ts: each non-empty (after trim) stdin
 * line is a number in JavaScript `Number()` syntax; stdout gets `String(x * x)` per line.
 * A non-numeric line is reported on stderr with exit code 1. Pure computation; no imports
 * beyond wasm/lib (wasi, js-number, text).
 */

import { jsNumberToString, parseUnsignedDecimal } from "./lib/js-number"
import { Bytes, fail, forEachLine, readStdin, writeStdout } from "./lib/wasi"

/** Longest line quoted back in an error message (matches the built-in). */
const MAX_QUOTED_LINE = 80

function isDigit(c: i32, radix: i32): bool {
  if (radix == 16) return (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70)
  return c >= 48 && c < 48 + radix
}

function digitValue(c: i32): i32 {
  if (c <= 57) return c - 48
  return (c | 32) - 87
}

/** True if `s` (trimmed) is a JavaScript StrDecimalLiteral, i.e. Number(s) is not NaN. */
function isDecimalLiteral(s: string): bool {
  let i = 0
  const n = s.length
  if (i < n && (s.charCodeAt(i) == 43 || s.charCodeAt(i) == 45)) i++
  if (s.substring(i) == "Infinity") return true
  let mantissaDigits = 0
  while (i < n && isDigit(s.charCodeAt(i), 10)) { i++; mantissaDigits++ }
  if (i < n && s.charCodeAt(i) == 46) {
    i++
    while (i < n && isDigit(s.charCodeAt(i), 10)) { i++; mantissaDigits++ }
  }
  if (mantissaDigits == 0) return false
  if (i < n && (s.charCodeAt(i) | 32) == 101) {
    i++
    if (i < n && (s.charCodeAt(i) == 43 || s.charCodeAt(i) == 45)) i++
    let exponentDigits = 0
    while (i < n && isDigit(s.charCodeAt(i), 10)) { i++; exponentDigits++ }
    if (exponentDigits == 0) return false
  }
  return i == n
}

/** JavaScript `Number(s)` for a trimmed, non-empty `s`; NaN when it is not a number. */
function jsNumber(s: string): f64 {
  if (s.length > 2 && s.charCodeAt(0) == 48) {
    const prefix = s.charCodeAt(1) | 32
    const radix = prefix == 120 ? 16 : prefix == 111 ? 8 : prefix == 98 ? 2 : 0
    if (radix != 0) {
      let value: f64 = 0
      for (let i = 2; i < s.length; i++) {
        const c = s.charCodeAt(i)
        if (!isDigit(c, radix)) return NaN
        value = value * radix + digitValue(c)
      }
      return value
    }
  }
  if (!isDecimalLiteral(s)) return NaN
  const sign = s.charCodeAt(0)
  const negative = sign == 45
  const body = sign == 43 || sign == 45 ? s.substring(1) : s
  const magnitude = body == "Infinity" ? Infinity : parseUnsignedDecimal(body)
  return negative ? -magnitude : magnitude
}

function squareLine(line: string, out: Bytes): void {
  const x = jsNumber(line)
  if (isNaN(x)) {
    const quoted = line.length > MAX_QUOTED_LINE ? line.substring(0, MAX_QUOTED_LINE) + "…" : line
    fail("square: line is not a number: \"" + quoted + "\"")
  }
  out.pushString(jsNumberToString(x * x))
  out.pushByte(10)
}

const out = new Bytes()
forEachLine(readStdin(), out, squareLine)
writeStdout(out)
