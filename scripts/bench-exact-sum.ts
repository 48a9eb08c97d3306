/**
 * scripts/bench-exact-sum: the per-term cost of ml/exact-bank's exact sums against a plain
 * `+=` loop and against the BigInt exact sum of functions/exact-sum.ts, on the shape training
 * uses (rows of 650 gradient terms, as a softmax over 64 features and 10 classes makes), the
 * packed size of such a bank, and a reduce's cost (32 packed banks added and rounded). Prints a table, or
 * JSON with --json; medians of several runs.
 *
 *   node scripts/bench-exact-sum.ts [--json] [--rows N] [--runs N]
 */

import { parseArgs } from 'node:util'
import { ExactSum } from '../src/functions/exact-sum.ts'
import { ExactBank } from '../src/ml/exact-bank.ts'

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    rows: { type: 'string', default: '20000' },
    runs: { type: 'string', default: '7' },
    width: { type: 'string', default: '650' }
  }
})
const rows = Number(args.rows)
const runs = Number(args.runs)
const width = Number(args.width)

/** Rows of gradient-like terms: residuals times standardized features, of mixed magnitudes. */
function makeRows (): Float64Array[] {
  let seed = 12345
  const next = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648
    return seed / 2147483648
  }
  return Array.from({ length: 64 }, () => Float64Array.from({ length: width }, () => (next() - 0.5) * 4 * Math.exp(-12 * next())))
}

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

const data = makeRows()
let sink = 0

function plain (): number {
  const acc = new Float64Array(width)
  const start = performance.now()
  for (let r = 0; r < rows; r++) {
    const row = data[r & 63]
    for (let i = 0; i < width; i++) acc[i] += row[i]
  }
  const ms = performance.now() - start
  sink += acc[0]
  return ms
}

function exact (): { ms: number, packed: number } {
  const bank = new ExactBank(width)
  const start = performance.now()
  for (let r = 0; r < rows; r++) bank.addAll(data[r & 63])
  const ms = performance.now() - start
  const packed = bank.pack().length
  sink += bank.toNumber(0)
  return { ms, packed }
}

/** The BigInt exact sum csv-stats uses, over the first 2,000 rows' terms of one sum per column. */
function bigint (): number {
  const sums = Array.from({ length: width }, () => new ExactSum())
  const n = Math.min(rows, 2000)
  const start = performance.now()
  for (let r = 0; r < n; r++) {
    const row = data[r & 63]
    for (let i = 0; i < width; i++) sums[i].add(row[i])
  }
  const ms = performance.now() - start
  sink += sums[0].toNumber()
  return ms * 1e6 / (n * width)
}

function finish (): number {
  const bank = new ExactBank(width)
  for (let r = 0; r < 200; r++) bank.addAll(data[r & 63])
  const start = performance.now()
  const packed = bank.pack()
  const total = new ExactBank(width)
  for (let t = 0; t < 32; t++) total.addPacked(packed)
  const out = total.toArray()
  sink += out[0]
  return performance.now() - start
}

// warm up both loops
plain(); exact(); finish(); bigint()
const bigintNs: number[] = []
const plainMs: number[] = []
const exactMs: number[] = []
const reduceMs: number[] = []
let packedBytes = 0
for (let i = 0; i < runs; i++) {
  plainMs.push(plain())
  const e = exact()
  exactMs.push(e.ms)
  packedBytes = e.packed
  reduceMs.push(finish())
  bigintNs.push(bigint())
}
const terms = rows * width
const result = {
  terms,
  plainNsPerTerm: median(plainMs) * 1e6 / terms,
  exactNsPerTerm: median(exactMs) * 1e6 / terms,
  ratio: median(exactMs) / median(plainMs),
  bigintNsPerTerm: median(bigintNs),
  packedBytes,
  reduce32PackedMs: median(reduceMs),
  runs
}
if (sink === 42.4242) console.log('')
if (args.json) {
  console.log(JSON.stringify(result))
} else {
  console.log(`terms per run           ${terms}`)
  console.log(`plain += ns/term        ${result.plainNsPerTerm.toFixed(2)}`)
  console.log(`exact bank ns/term      ${result.exactNsPerTerm.toFixed(2)}`)
  console.log(`ratio                   ${result.ratio.toFixed(2)}`)
  console.log(`BigInt sum ns/term      ${result.bigintNsPerTerm.toFixed(2)}`)
  console.log(`packed bank (${width} sums) ${packedBytes} bytes`)
  console.log(`pack + add 32 packs + round ${width} sums: ${result.reduce32PackedMs.toFixed(2)} ms`)
}
