/**
 * ml/training-reduce: how a pass of a training combines its task results, in task order,
 * into the next model: the scan into the round-0 model (classes, standardization, zero
 * weights), a round into θ_{r+1} and the mean loss at θ_r. Exact sums are added exactly and
 * rounded once; a failure (no record, bad labels, divergence) is a reason naming the pass.
 * Pure functions of their arguments: every peer computes the same bytes.
 */

import { coordinateMedian, trimmedMean, weightedMean } from './aggregation.ts'
import { MAX_CLASSES, MAX_MODEL_WEIGHTS } from './constants.ts'
import { PartialResultError } from './errors.ts'
import { ExactBank } from './exact-bank.ts'
import { allFinite, gradientStep } from './gradient-step.ts'
import { LOGISTIC_CLASSES, outputsOf, type Model } from './model-block.ts'
import type { TrainSpec } from './spec.ts'
import { standardizationOf } from './standardization.ts'
import { decodeTaskResult } from './task-results.ts'
import { checkModelFits, sortClasses } from './training-tasks.ts'

export type ScanOutcome = { model: Model } | { failure: string }
export type RoundOutcome = { model: Model, loss: number } | { failure: string }

/** What the scan of every record found, before it becomes the round-0 model. */
export interface ScanTotals {
  records: number
  skipped: number
  /** softmax: the distinct labels */
  labels: Set<string>
  /** softmax: some task saw more than MAX_CLASSES distinct labels */
  tooManyLabels: boolean
  /** logistic: records whose label is a number other than 0 and 1, and the smallest such label */
  bad: number
  badMin: number | null
  /** with standardization: Σx_j (j < d), then Σx_j² */
  sums: ExactBank | null
}

/** Empty scan totals of a training. */
export function emptyScanTotals (spec: TrainSpec): ScanTotals {
  return { records: 0, skipped: 0, labels: new Set(), tooManyLabels: false, bad: 0, badMin: null, sums: spec.standardize ? new ExactBank(2 * spec.features.length) : null }
}

/**
 * The round-0 model from the scan results of every task, in task order; the job id it
 * records is the one the tasks ran for.
 * @throws PartialResultError when a result is not a scan result of this training
 */
export function reduceScan (results: readonly Uint8Array[], spec: TrainSpec): ScanOutcome {
  const totals = emptyScanTotals(spec)
  let job: string | undefined
  for (const bytes of results) {
    const scan = decodeTaskResult(bytes, 'scan')
    if (job !== undefined && scan.job !== job) throw new PartialResultError(`scan results of two jobs: "${job}" and "${scan.job}"`)
    job = scan.job
    totals.records += scan.n
    totals.skipped += scan.skipped
    if (totals.sums !== null) {
      if (scan.sums === null) throw new PartialResultError('a scan result lacks the standardization sums')
      totals.sums.addPacked(scan.sums)
    }
    if (spec.kind === 'softmax') {
      if (scan.labels === null) throw new PartialResultError('a scan result lacks the labels of a softmax model')
      for (const label of scan.labels) totals.labels.add(label)
      totals.tooManyLabels ||= scan.labels.length > MAX_CLASSES
    }
    totals.bad += scan.bad
    if (scan.badMin !== null) totals.badMin = totals.badMin === null ? scan.badMin : Math.min(totals.badMin, scan.badMin)
  }
  return modelFromScan(totals, spec, job ?? '')
}

/** The round-0 model of a training from its scan totals, or why the training cannot start. */
export function modelFromScan (totals: ScanTotals, spec: TrainSpec, job: string): ScanOutcome {
  const d = spec.features.length
  const { records, skipped, labels, bad, badMin, sums } = totals
  if (records === 0) return { failure: `scan: no record to train on (${skipped} rows skipped because their label or a feature did not parse)` }
  if (spec.kind === 'logistic' && bad > 0) {
    return { failure: `scan: label "${spec.label}" of a logistic model must be 0 or 1, but ${bad} records hold other numbers (the smallest: ${String(badMin)}); kind=softmax learns more classes` }
  }
  let classes: readonly string[] = []
  if (spec.kind === 'softmax') {
    if (totals.tooManyLabels || labels.size > MAX_CLASSES) return { failure: `scan: label "${spec.label}" has more than ${MAX_CLASSES} distinct values, the most classes a softmax model has` }
    classes = sortClasses(labels)
    if (classes.length < 2) return { failure: `scan: label "${spec.label}" has a single value ("${classes[0]}"): a softmax model needs at least 2 classes` }
  } else if (spec.kind === 'logistic') {
    classes = LOGISTIC_CLASSES
  }
  const outputs = outputsOf(spec.kind, classes)
  if (outputs * (d + 1) > MAX_MODEL_WEIGHTS) {
    return { failure: `scan: a model of ${outputs} outputs over ${d} features has ${outputs * (d + 1)} weights, more than ${MAX_MODEL_WEIGHTS}` }
  }
  let standardization = null
  if (sums !== null) {
    const s = standardizationOf(sums, records, d)
    if ('overflow' in s) return { failure: `scan: feature "${spec.features[s.overflow]}" has values too large to standardize (their squares overflow)` }
    standardization = s
  }
  return {
    model: {
      kind: spec.kind,
      label: spec.label,
      features: spec.features,
      classes,
      standardization,
      weights: new Float64Array(outputs * (d + 1)),
      round: 0,
      job,
      records,
      skipped
    }
  }
}

/**
 * Round `round`: θ_{round+1} from θ_round (`model`) and the round's task results in task
 * order, and the mean training loss at θ_round.
 * @throws PartialResultError when a result is not a round result of this training
 */
export function reduceRound (round: number, model: Model, results: readonly Uint8Array[], spec: TrainSpec): RoundOutcome {
  checkModelFits(model, spec)
  if (model.round !== round) throw new PartialResultError(`the pass state is the model of round ${model.round}, not of round ${round}`)
  const width = model.features.length + 1
  const size = outputsOf(model.kind, model.classes) * width
  const lossBank = new ExactBank(1)
  let records = 0
  const weights = model.weights.slice()
  if (spec.localSteps === 0) {
    const decoded = results.map(bytes => decodeTaskResult(bytes, 'gradient'))
    for (const r of decoded) {
      records += r.n
      lossBank.addPacked(r.loss)
    }
    if (spec.aggregate === 'mean') {
      const gradient = new ExactBank(size)
      for (const r of decoded) gradient.addPacked(r.gradient)
      if (records > 0) gradientStep(weights, gradient.toArray(), records, spec.lr, spec.l2, width)
    } else {
      // each task's mean gradient: its exact sums rounded once, over its records
      const means = decoded.filter(r => r.n > 0).map(r => {
        const bank = new ExactBank(size)
        bank.addPacked(r.gradient)
        return bank.toArray().map(v => v / r.n)
      })
      if (means.length > 0) gradientStep(weights, robust(means, size, spec), 1, spec.lr, spec.l2, width)
    }
  } else {
    const vectors: Float64Array[] = []
    const counts: number[] = []
    for (const bytes of results) {
      const r = decodeTaskResult(bytes, 'local')
      if (r.weights.length !== size) throw new PartialResultError(`a local-steps result holds ${r.weights.length} weights, the model ${size}`)
      records += r.n
      lossBank.addPacked(r.loss)
      if (r.n > 0) {
        vectors.push(r.weights)
        counts.push(r.n)
      }
    }
    if (vectors.length > 0) weights.set(spec.aggregate === 'mean' ? weightedMean(vectors, counts, size) : robust(vectors, size, spec))
  }
  if (records !== model.records) return { failure: `round ${round}: the tasks counted ${records} records, the scan ${model.records}` }
  return closeRound(round, model, weights, lossBank.toNumber(0) / records)
}

/** Round `round`'s outcome from θ_{round+1} and the mean loss at θ_round: a failure if either is not finite. */
export function closeRound (round: number, model: Model, weights: Float64Array, loss: number): RoundOutcome {
  if (!Number.isFinite(loss)) return { failure: `round ${round}: the mean loss at the round's model is not finite (${loss}); the training diverged (try a smaller lr)` }
  if (!allFinite(weights)) return { failure: `round ${round}: a weight is not finite after the update; the training diverged (try a smaller lr)` }
  return { model: { ...model, weights, round: round + 1 }, loss }
}

/** The median or trimmed mean of per-task vectors, as the spec's aggregate says. */
export function robust (vectors: readonly Float64Array[], size: number, spec: TrainSpec): Float64Array {
  return spec.aggregate === 'median' ? coordinateMedian(vectors, size) : trimmedMean(vectors, size, spec.trim)
}

/** The result of a training: `{"model", "rounds", "loss", "classes"}` as one JSON line. */
export function trainingResult (modelCid: string, losses: readonly number[], classes: readonly string[]): Uint8Array {
  return new TextEncoder().encode(`${JSON.stringify({ model: modelCid, rounds: losses.length, loss: losses, classes })}\n`)
}
