/**
 * sim/percentiles: latency summaries for the report. Pure.
 */

/** p50/p95/p99 of a latency sample, in ms; `null` fields when nothing was measured. */
export interface Percentiles {
  p50: number | null
  p95: number | null
  p99: number | null
}

/** Digits kept after the decimal point in reported latencies. */
const LATENCY_DECIMALS = 1

/** The `q`-quantile (0..1) of sorted values, nearest-rank method. */
export function quantile (sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN
  const rank = Math.ceil(q * sorted.length)
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]
}

function round (x: number): number {
  const f = 10 ** LATENCY_DECIMALS
  return Math.round(x * f) / f
}

export function percentiles (values: readonly number[]): Percentiles {
  if (values.length === 0) return { p50: null, p95: null, p99: null }
  const sorted = [...values].sort((a, b) => a - b)
  return { p50: round(quantile(sorted, 0.5)), p95: round(quantile(sorted, 0.95)), p99: round(quantile(sorted, 0.99)) }
}
