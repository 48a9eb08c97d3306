/**
 * ml/gradient-step: the one update rule of every training, full-batch rounds and local
 * steps alike: θ_q ← θ_q − α·(g_q / n + λ·θ_q) for a weight, θ_q ← θ_q − α·(g_q / n) for an
 * intercept (the first weight of each output). In place; pure arithmetic.
 */

/** Applies one step to w from the gradient sums g of n records (n = 1 for a gradient that is already a mean). */
export function gradientStep (w: Float64Array, g: Float64Array, n: number, lr: number, l2: number, width: number): void {
  for (let q = 0; q < w.length; q++) {
    const mean = g[q] / n
    const direction = q % width === 0 ? mean : mean + l2 * w[q]
    w[q] = w[q] - lr * direction
  }
}

/** Whether every value is finite. */
export function allFinite (values: Float64Array): boolean {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) return false
  }
  return true
}
