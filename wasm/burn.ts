/**
 * wasm/burn: a CPU-bound task function as a WASI command (AssemblyScript), for benchmarks and
 * tests. Each non-empty (after trim) stdin line is a decimal integer N (0 ≤ N < 2^64); the
 * function runs N rounds of xorshift64 from a seed derived from N and writes the final state
 * as a decimal u64 line. Same input, same output, on any machine; the cost is linear in N.
 * A line that is not such an integer is reported on stderr with exit code 1. Pure
 * computation; no imports beyond wasm/lib/wasi and wasm/lib/text.
 */

import { Bytes, fail, forEachLine, readStdin, writeStdout } from "./lib/wasi"

/** Longest line quoted back in an error message. */
const MAX_QUOTED_LINE = 80

/** Mixed into N so that the state is never zero (xorshift's fixed point). */
const SEED: u64 = 0x9e3779b97f4a7c15

/** Most decimal digits of a u64. */
const MAX_DIGITS = 20

/** N rounds of Marsaglia's xorshift64 (13, 7, 17) from SEED ^ N. */
function burn(n: u64): u64 {
  let x: u64 = SEED ^ n
  if (x == 0) x = SEED
  for (let i: u64 = 0; i < n; i++) {
    x ^= x << 13
    x ^= x >> 7
    x ^= x << 17
  }
  return x
}

/** The line as a u64, or fails the task. */
function parseCount(line: string): u64 {
  let value: u64 = 0
  const n = line.length
  let ok = n > 0 && n <= MAX_DIGITS
  for (let i = 0; ok && i < n; i++) {
    const c = line.charCodeAt(i)
    if (c < 48 || c > 57) { ok = false; break }
    const next = value * 10 + <u64>(c - 48)
    if (next / 10 != value) { ok = false; break } // overflowed 2^64
    value = next
  }
  if (!ok) {
    const quoted = line.length > MAX_QUOTED_LINE ? line.substring(0, MAX_QUOTED_LINE) + "…" : line
    fail("burn: line is not a non-negative integer below 2^64: \"" + quoted + "\"")
  }
  return value
}

function burnLine(line: string, out: Bytes): void {
  out.pushString(burn(parseCount(line)).toString())
  out.pushByte(10)
}

const out = new Bytes()
forEachLine(readStdin(), out, burnLine)
writeStdout(out)
