/**
 * ml/standardization: each feature's mean and population standard deviation from exact sums
 * (Σx and Σx², each square exact by Dekker's product), rounded once each, and the centered,
 * scaled features a model computes on. Pure.
 */

import type { ExactBank } from './exact-bank.ts'
import type { Standardization } from './model-block.ts'
import { roundRatio, twoProduct, UNIT_EXPONENT } from './rounding.ts'

/** Adds a record's features to the scan sums: x_j to sum j, x_j² (exactly: p + e) to sum d + j. */
export function addScanSums (bank: ExactBank, x: Float64Array, at: number, d: number): void {
  for (let j = 0; j < d; j++) {
    const v = x[at + j]
    bank.add(j, v)
    const [p, e] = twoProduct(v, v)
    bank.add(d + j, p)
    bank.add(d + j, e)
  }
}

/**
 * The standardization of n records from their scan sums: mean = round(Σx / n), variance =
 * round((n·Σx² − (Σx)²) / n²) (0 if that is negative), std = sqrt(variance). Each is one
 * rounding of an exact rational. Returns the index of the first feature whose squares
 * overflowed instead.
 */
export function standardizationOf (bank: ExactBank, n: number, d: number): Standardization | { overflow: number } {
  const mean = new Float64Array(d)
  const std = new Float64Array(d)
  const count = BigInt(n)
  for (let j = 0; j < d; j++) {
    if (bank.isSpecial(d + j)) return { overflow: j }
    // Σx = a·2^-1074, Σx² = b·2^-1074: variance = (n·b·2^1074 − a²) / n² · 2^-2148
    const a = bank.units(j)
    const b = bank.units(d + j)
    mean[j] = roundRatio(a, count, UNIT_EXPONENT)
    const numerator = count * (b << 1074n) - a * a
    const variance = numerator <= 0n ? 0 : roundRatio(numerator, count * count, 2 * UNIT_EXPONENT)
    std[j] = Math.sqrt(variance)
  }
  return { mean, std }
}

/**
 * The features a model computes on: z = (x − mean) / std, or x − mean where std is 0; x itself
 * without standardization.
 */
export function standardize (x: Float64Array, d: number, s: Standardization | null): Float64Array {
  if (s === null) return x
  const z = new Float64Array(x.length)
  for (let at = 0; at < x.length; at += d) {
    for (let j = 0; j < d; j++) {
      const centered = x[at + j] - s.mean[j]
      z[at + j] = s.std[j] === 0 ? centered : centered / s.std[j]
    }
  }
  return z
}
