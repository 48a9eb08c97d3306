/**
 * ml/kernels: the math of one record for each model kind, in a fixed order of operations
 * (docs/TRAINING.md writes each line of it down): the scores, the loss (numerically stable
 * log-sigmoid and log-sum-exp), the gradient terms and the prediction. Pure arithmetic on
 * typed arrays; it never sums over records (callers do, exactly).
 */

import type { ModelKind } from './spec.ts'

/** One kind's per-record math. A record is features z[at .. at + d); weights are per output, intercept first. */
export interface Kernel {
  /** outputs K: one, or one per softmax class */
  readonly outputs: number
  /** weights per output: d + 1 */
  readonly width: number
  /**
   * The record's loss at weights w; writes its gradient terms (K × (d + 1), the layout of w) to g.
   * y: the label (linear), 0 or 1 (logistic), the class index (softmax).
   */
  lossGradient: (z: Float64Array, at: number, y: number, w: Float64Array, g: Float64Array) => number
  /** The record's loss at weights w. */
  loss: (z: Float64Array, at: number, y: number, w: Float64Array) => number
  /** The prediction: the value (linear), the class index (logistic, softmax). */
  predict: (z: Float64Array, at: number, w: Float64Array) => number
}

/** The kernel of a model kind over d features (and K classes for softmax). */
export function kernelFor (kind: ModelKind, d: number, classes: number): Kernel {
  switch (kind) {
    case 'linear': return linearKernel(d)
    case 'logistic': return logisticKernel(d)
    case 'softmax': return softmaxKernel(d, classes)
  }
}

/** s = w[o] + w[o+1]·z[at] + … + w[o+d]·z[at+d-1], added left to right. */
function score (z: Float64Array, at: number, w: Float64Array, o: number, d: number): number {
  let s = w[o]
  for (let j = 0; j < d; j++) s += w[o + 1 + j] * z[at + j]
  return s
}

/** Writes r, r·z[at], …, r·z[at+d-1] to g from offset o. */
function writeTerms (z: Float64Array, at: number, r: number, g: Float64Array, o: number, d: number): void {
  g[o] = r
  for (let j = 0; j < d; j++) g[o + 1 + j] = r * z[at + j]
}

/** log(1 + e^t) without overflow or lost digits. */
export function softplus (t: number): number {
  return t > 0 ? t + Math.log1p(Math.exp(-t)) : Math.log1p(Math.exp(t))
}

/** 1 / (1 + e^-s), from the side where the exponential cannot overflow. */
export function sigmoid (s: number): number {
  if (s >= 0) return 1 / (1 + Math.exp(-s))
  const e = Math.exp(s)
  return e / (1 + e)
}

function linearKernel (d: number): Kernel {
  return {
    outputs: 1,
    width: d + 1,
    lossGradient (z, at, y, w, g) {
      const e = score(z, at, w, 0, d) - y
      writeTerms(z, at, e, g, 0, d)
      return 0.5 * (e * e)
    },
    loss (z, at, y, w) {
      const e = score(z, at, w, 0, d) - y
      return 0.5 * (e * e)
    },
    predict (z, at, w) {
      return score(z, at, w, 0, d)
    }
  }
}

function logisticKernel (d: number): Kernel {
  const loss = (s: number, y: number): number => y === 1 ? softplus(-s) : softplus(s)
  return {
    outputs: 1,
    width: d + 1,
    lossGradient (z, at, y, w, g) {
      const s = score(z, at, w, 0, d)
      writeTerms(z, at, sigmoid(s) - y, g, 0, d)
      return loss(s, y)
    },
    loss (z, at, y, w) {
      return loss(score(z, at, w, 0, d), y)
    },
    predict (z, at, w) {
      return score(z, at, w, 0, d) >= 0 ? 1 : 0
    }
  }
}

function softmaxKernel (d: number, classes: number): Kernel {
  const width = d + 1
  // per class: t_c = s_c - max, then e_c = exp(t_c) (1 for the first class at the max)
  const t = new Float64Array(classes)
  const e = new Float64Array(classes)
  /** Fills t and e; returns S = the sum of e_c over the classes other than the first at the max, in class order. */
  const scores = (z: Float64Array, at: number, w: Float64Array): number => {
    let top = 0
    for (let c = 0; c < classes; c++) {
      t[c] = score(z, at, w, c * width, d)
      if (t[c] > t[top]) top = c
    }
    const max = t[top]
    let rest = 0
    for (let c = 0; c < classes; c++) {
      t[c] = t[c] - max
      if (c === top) {
        e[c] = 1
      } else {
        e[c] = Math.exp(t[c])
        rest += e[c]
      }
    }
    return rest
  }
  return {
    outputs: classes,
    width,
    lossGradient (z, at, y, w, g) {
      const rest = scores(z, at, w)
      const total = 1 + rest
      for (let c = 0; c < classes; c++) {
        const p = e[c] / total
        writeTerms(z, at, c === y ? p - 1 : p, g, c * width, d)
      }
      return Math.log1p(rest) - t[y]
    },
    loss (z, at, y, w) {
      const rest = scores(z, at, w)
      return Math.log1p(rest) - t[y]
    },
    predict (z, at, w) {
      let top = 0
      let best = -Infinity
      for (let c = 0; c < classes; c++) {
        const s = score(z, at, w, c * width, d)
        if (s > best || c === 0) {
          best = s
          top = c
        }
      }
      return top
    }
  }
}
