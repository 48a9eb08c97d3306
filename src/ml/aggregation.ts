/**
 * ml/aggregation: how a round combines per-task vectors coordinate by coordinate: the
 * record-weighted mean (exact sum of n_t·v_t, rounded once, over N), the median and the
 * trimmed mean. Each depends only on the multiset of (n_t, v_t), never on the order tasks
 * arrive in. Pure.
 */

import { ExactBank } from './exact-bank.ts'

/** v[i] = round(Σ_t fl(n_t · v_t[i])) / N, N = Σ_t n_t; the products rounded, the sum exact. */
export function weightedMean (vectors: readonly Float64Array[], counts: readonly number[], length: number): Float64Array {
  const bank = new ExactBank(length)
  const scaled = new Float64Array(length)
  let total = 0
  vectors.forEach((v, t) => {
    const n = counts[t]
    total += n
    for (let i = 0; i < length; i++) scaled[i] = n * v[i]
    bank.addAll(scaled)
  })
  const out = bank.toArray()
  for (let i = 0; i < length; i++) out[i] = out[i] / total
  return out
}

/** Per coordinate, the middle value; of an even count, 0.5·a + 0.5·b of the two middle ones (a ≤ b). */
export function coordinateMedian (vectors: readonly Float64Array[], length: number): Float64Array {
  const m = vectors.length
  const out = new Float64Array(length)
  const column = new Float64Array(m)
  for (let i = 0; i < length; i++) {
    for (let t = 0; t < m; t++) column[t] = vectors[t][i]
    sortTotal(column)
    out[i] = m % 2 === 1 ? column[(m - 1) / 2] : 0.5 * column[m / 2 - 1] + 0.5 * column[m / 2]
  }
  return out
}

/**
 * Per coordinate, the mean of the values left after dropping the k = ⌊trim · m⌋ lowest and
 * k highest: their exact sum, rounded once, over m − 2k.
 */
export function trimmedMean (vectors: readonly Float64Array[], length: number, trim: number): Float64Array {
  const m = vectors.length
  const k = Math.floor(trim * m)
  const kept = m - 2 * k
  const out = new Float64Array(length)
  const column = new Float64Array(m)
  for (let i = 0; i < length; i++) {
    for (let t = 0; t < m; t++) column[t] = vectors[t][i]
    sortTotal(column)
    const sum = new ExactBank(1)
    for (let t = k; t < m - k; t++) sum.add(0, column[t])
    out[i] = sum.toNumber(0) / kept
  }
  return out
}

/** Sorts ascending; a typed array's default sort puts -0 before +0, so equal multisets sort alike. */
function sortTotal (values: Float64Array): void {
  values.sort()
}
