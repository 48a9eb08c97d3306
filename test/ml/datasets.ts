/**
 * test/ml/datasets: random CSV training data for property tests: a header, feature columns
 * of mixed magnitudes and formats (short decimals, full-precision doubles, integers, the odd
 * cell that does not parse), and a label of the model kind's sort.
 */

import fc from 'fast-check'
import type { ModelKind } from '../../src/ml/index.ts'

export interface Dataset {
  csv: Uint8Array
  features: string[]
  label: string
  rows: number
}

const cell = fc.oneof(
  { weight: 6, arbitrary: fc.double({ min: -50, max: 50, noNaN: true }).map(v => v.toFixed(3)) },
  { weight: 3, arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true }).map(String) },
  { weight: 2, arbitrary: fc.integer({ min: -1000, max: 1000 }).map(String) },
  { weight: 1, arbitrary: fc.double({ min: -1e-3, max: 1e-3, noNaN: true }).map(v => v.toExponential(8)) },
  { weight: 1, arbitrary: fc.constantFrom('', 'x', 'NaN', ' 7 ', '1e400') }
)

function labelOf (kind: ModelKind): fc.Arbitrary<string> {
  switch (kind) {
    case 'linear': return fc.oneof({ weight: 9, arbitrary: fc.double({ min: -100, max: 100, noNaN: true }).map(v => v.toFixed(4)) }, { weight: 1, arbitrary: fc.constant('?') })
    case 'logistic': return fc.oneof({ weight: 9, arbitrary: fc.constantFrom('0', '1', ' 1', '0.0') }, { weight: 1, arbitrary: fc.constant('') })
    case 'softmax': return fc.constantFrom('red', 'green', 'blue', '10', ' red ')
  }
}

/** A CSV of 1 to `maxRows` rows over 1 to 4 features and a label of `kind`'s sort. */
export function datasetOf (kind: ModelKind, maxRows = 40): fc.Arbitrary<Dataset> {
  return fc.integer({ min: 1, max: 4 }).chain(d => {
    const features = Array.from({ length: d }, (_, j) => `f${j}`)
    const row = fc.tuple(fc.array(cell, { minLength: d, maxLength: d }), labelOf(kind))
    return fc.record({
      rows: fc.array(row, { minLength: 1, maxLength: maxRows }),
      crlf: fc.boolean(),
      finalNewline: fc.boolean()
    }).map(({ rows, crlf, finalNewline }) => {
      const eol = crlf ? '\r\n' : '\n'
      const lines = [[...features, 'y'].join(','), ...rows.map(([cells, y]) => [...cells, y].join(','))]
      const text = lines.join(eol) + (finalNewline ? eol : '')
      return { csv: new TextEncoder().encode(text), features, label: 'y', rows: rows.length }
    })
  })
}

/** Byte offsets to cut a file of `length` bytes at: any positions. */
export function cutsOf (length: number): fc.Arbitrary<number[]> {
  return fc.array(fc.integer({ min: 0, max: Math.max(0, length) }), { maxLength: 8 })
}

/** The offsets that cut a file into chunks of `chunkSize` bytes, as the data layer does. */
export function chunkCuts (length: number, chunkSize: number): number[] {
  const cuts: number[] = []
  for (let at = chunkSize; at < length; at += chunkSize) cuts.push(at)
  return cuts
}

/** A completion order of n tasks from a seed: tasks finish in any order. */
export function shuffled (n: number, seed: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i)
  let s = seed >>> 0
  for (let i = n - 1; i > 0; i--) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0
    const j = s % (i + 1)
    ;[order[i], order[j]] = [order[j], order[i]]
  }
  return order
}
