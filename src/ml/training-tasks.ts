/**
 * ml/training-tasks: what one task of a training computes over its records. Pass 0 (the
 * scan): counts, skipped rows, softmax labels, logistic label checks and the exact
 * standardization sums. A round: the exact sums of losses and gradient terms at the round's
 * model, or (local steps) the task's weights after H mini-batch steps from it, with its exact
 * loss sum at it. Pure functions of (input, header, task index, job, spec, model); the
 * results never depend on anything else.
 */

import { MAX_CLASS_LABEL_CHARS, MAX_CLASSES, RECORDS_PER_ABORT_CHECK } from './constants.ts'
import { columnsOf, type LabelMode, type ParsedRecords } from './csv-records.ts'
import { DatasetError, ModelBlockError, TaskAbortedError } from './errors.ts'
import { ExactBank, scratchBank } from './exact-bank.ts'
import { gradientStep } from './gradient-step.ts'
import { kernelFor, type Kernel } from './kernels.ts'
import { outputsOf, type Model } from './model-block.ts'
import { cachedRecords, cachedStandardized } from './record-cache.ts'
import { shuffledOrder, taskSeed } from './seeded-order.ts'
import { parseCell, type ModelKind, type TrainSpec } from './spec.ts'
import { addScanSums } from './standardization.ts'
import { encodeTaskResult } from './task-results.ts'

/** Where a task sits: what it needs besides its input bytes. */
export interface TaskPlace {
  /** the first line of the task's input file */
  header: string | null
  /** the task's index within its input file; task 0's input starts with the header line */
  taskIndex: number
  /** the job's id: seeds the order of local steps */
  job: string
  /** polled every RECORDS_PER_ABORT_CHECK records; true stops the task with TaskAbortedError */
  isAborted?: () => boolean
}

/** How a kind's label is read: softmax labels are texts (classes), the others numbers. */
export function labelMode (kind: ModelKind): LabelMode {
  return kind === 'softmax' ? 'text' : 'number'
}

/** Pass 0 of a training over one task's input: its scan result bytes. */
export function scanTask (input: Uint8Array, spec: TrainSpec, place: TaskPlace): Uint8Array {
  const columns = columnsOf(place.header, spec.features, spec.label)
  const records = cachedRecords(input, place.taskIndex === 0, columns, labelMode(spec.kind), place.isAborted)
  const d = spec.features.length
  let sums: Uint8Array | null = null
  if (spec.standardize) {
    const bank = new ExactBank(2 * d)
    for (let i = 0; i < records.count; i++) {
      checkAbort(place, i)
      addScanSums(bank, records.x, i * d, d)
    }
    sums = bank.pack()
  }
  let labels: string[] | null = null
  if (spec.kind === 'softmax') {
    const distinct = [...new Set(records.labels)].sort(compareCodeUnits)
    const long = distinct.find(label => label.length > MAX_CLASS_LABEL_CHARS)
    if (long !== undefined) throw new DatasetError(`label "${spec.label}" has a value longer than ${MAX_CLASS_LABEL_CHARS} characters: "${long.slice(0, 40)}…"`)
    labels = distinct.slice(0, MAX_CLASSES + 1)
  }
  let bad = 0
  let badMin: number | null = null
  if (spec.kind === 'logistic') {
    for (let i = 0; i < records.count; i++) {
      const y = records.y[i]
      if (y !== 0 && y !== 1) {
        bad++
        badMin = badMin === null ? y : Math.min(badMin, y)
      }
    }
  }
  return encodeTaskResult({ t: 'scan', n: records.count, skipped: records.lines - records.count, job: place.job, sums, labels, bad, badMin })
}

/**
 * Round `round` of a training over one task's input, at `model` (θ_round): its gradient or
 * local-steps result bytes.
 */
export function roundTask (input: Uint8Array, spec: TrainSpec, model: Model, round: number, place: TaskPlace): Uint8Array {
  checkModelFits(model, spec)
  const data = trainingData(input, model, place)
  const { n, z, y, d } = data
  const width = d + 1
  const outputs = outputsOf(model.kind, model.classes)
  const kernel = kernelFor(model.kind, d, outputs)
  const size = outputs * width
  const w = model.weights
  const g = new Float64Array(size)
  const lossBank = scratchBank(1, 'loss')
  if (spec.localSteps === 0) {
    const gradientBank = scratchBank(size, 'gradient')
    for (let i = 0; i < n; i++) {
      checkAbort(place, i)
      lossBank.add(0, kernel.lossGradient(z, i * d, y[i], w, g))
      gradientBank.addAll(g)
    }
    return encodeTaskResult({ t: 'gradient', n, loss: lossBank.pack(), gradient: gradientBank.pack() })
  }
  for (let i = 0; i < n; i++) {
    checkAbort(place, i)
    lossBank.add(0, kernel.loss(z, i * d, y[i], w))
  }
  const local = localSteps(kernel, data, w, spec, taskSeed(place.job, round, place.taskIndex), place.isAborted)
  return encodeTaskResult({ t: 'local', n, loss: lossBank.pack(), weights: local })
}

/**
 * H mini-batch steps from w over a task's records: step h takes the records at positions
 * (h·b + 0 … h·b + b − 1) mod n of the seeded order, b = min(B, n), sums their gradient terms
 * left to right in that order, and applies gradientStep with that sum over b. The weights after.
 */
export function localSteps (kernel: Kernel, data: TrainingData, w: Float64Array, spec: TrainSpec, seed: number, isAborted?: () => boolean): Float64Array {
  const { n, z, y, d } = data
  const local = w.slice()
  if (n === 0) return local
  const size = local.length
  const g = new Float64Array(size)
  const sum = new Float64Array(size)
  const order = shuffledOrder(n, seed)
  const batch = Math.min(spec.batchSize, n)
  for (let h = 0; h < spec.localSteps; h++) {
    if (isAborted?.() === true) throw new TaskAbortedError('the task was aborted')
    sum.fill(0)
    for (let b = 0; b < batch; b++) {
      const i = order[(h * batch + b) % n]
      kernel.lossGradient(z, i * d, y[i], local, g)
      for (let q = 0; q < size; q++) sum[q] += g[q]
    }
    gradientStep(local, sum, batch, spec.lr, spec.l2, d + 1)
  }
  return local
}

/** A task's records as a model computes on them: standardized features z and labels y (class indices for softmax). */
export interface TrainingData {
  n: number
  d: number
  z: Float64Array
  y: Float64Array
}

/** The records of a task's input for `model`, parsed once per input and standardization (record-cache.ts). */
export function trainingData (input: Uint8Array, model: Model, place: TaskPlace): TrainingData {
  const columns = columnsOf(place.header, model.features, model.label)
  const records = cachedRecords(input, place.taskIndex === 0, columns, labelMode(model.kind), place.isAborted)
  const d = model.features.length
  return { n: records.count, d, z: cachedStandardized(records, d, model.standardization), y: labelsOf(records, model) }
}

/** The numeric labels of records: the labels themselves, or for softmax each label's class index. */
export function labelsOf (records: ParsedRecords, model: Model): Float64Array {
  if (model.kind !== 'softmax') return records.y
  const index = new Map(model.classes.map((c, i) => [c, i]))
  const y = new Float64Array(records.count)
  for (let i = 0; i < records.count; i++) {
    const c = index.get(records.labels[i])
    if (c === undefined) throw new DatasetError(`label value "${records.labels[i]}" is not a class of the model`)
    y[i] = c
  }
  return y
}

/** The classes of a softmax model: numerically when every label is a number (ties by code units), else by code units. */
export function sortClasses (labels: Iterable<string>): string[] {
  const list = [...new Set(labels)]
  const numbers = new Map(list.map(label => [label, parseCell(label)]))
  if ([...numbers.values()].every(v => v !== undefined)) {
    return list.sort((a, b) => (numbers.get(a) as number) - (numbers.get(b) as number) || compareCodeUnits(a, b))
  }
  return list.sort(compareCodeUnits)
}

/** Orders strings by UTF-16 code units, as `<` does. */
export function compareCodeUnits (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** @throws ModelBlockError when the state's model is not one of this training */
export function checkModelFits (model: Model, spec: TrainSpec): void {
  if (model.kind !== spec.kind || model.label !== spec.label || model.features.join(',') !== spec.features.join(',')) {
    throw new ModelBlockError(`the pass state is a ${model.kind} model of "${model.label}" over ${model.features.join(',')}, not this training's`)
  }
}

function checkAbort (place: TaskPlace, i: number): void {
  if (i % RECORDS_PER_ABORT_CHECK === 0 && place.isAborted?.() === true) throw new TaskAbortedError('the task was aborted')
}
