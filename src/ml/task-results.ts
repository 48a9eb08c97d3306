/**
 * ml/task-results: the results of training and evaluation tasks as dag-cbor maps, tagged by
 * `t`, with their exact sums packed (exact-bank.ts) and weights as float64 bytes. Owns the
 * encoding and its validation (packed sums are checked when they are added); it never
 * computes a result.
 */

import * as dagCbor from '@ipld/dag-cbor'
import { MAX_CLASS_LABEL_CHARS, MAX_CLASSES, MAX_MODEL_WEIGHTS } from './constants.ts'
import { PartialResultError } from './errors.ts'
import { bytesToFloats, floatsToBytes } from './float-bytes.ts'

/** Pass 0 of a training: what a shard holds. */
export interface ScanResult {
  t: 'scan'
  /** records that parsed */
  n: number
  /** records skipped: their label or a feature did not parse */
  skipped: number
  /** the job's id, which the round-0 model records */
  job: string
  /** with standardization: the packed exact sums Σx_j (j < d), then Σx_j² */
  sums: Uint8Array | null
  /** softmax: the distinct labels, sorted by code units, at most MAX_CLASSES + 1 */
  labels: string[] | null
  /** logistic: records whose label is a number other than 0 and 1, and the smallest such label */
  bad: number
  badMin: number | null
}

/** A full-batch round: the exact sums of the losses and gradient terms at the round's model. */
export interface GradientResult {
  t: 'gradient'
  n: number
  /** one packed sum */
  loss: Uint8Array
  /** K × (d + 1) packed sums, in weight order */
  gradient: Uint8Array
}

/** A round of local steps: the task's weights after them, and its loss sum at the round's model. */
export interface LocalResult {
  t: 'local'
  n: number
  loss: Uint8Array
  weights: Float64Array
}

/** An evaluation task: exact sums and counts of its records. */
export interface EvaluateResult {
  t: 'evaluate'
  n: number
  /** records skipped: a feature or the label did not parse, or the label is not a class of the model */
  skipped: number
  loss: Uint8Array
  /** linear: the packed exact sum of squared errors */
  squares: Uint8Array | null
  /** classifiers: K × K counts, row = actual class, column = predicted */
  confusion: number[] | null
  /** classifiers: the model's classes, which name the confusion matrix's rows and columns */
  classes: string[] | null
}

export type TaskResult = ScanResult | GradientResult | LocalResult | EvaluateResult

/** The result as task result bytes. */
export function encodeTaskResult (result: TaskResult): Uint8Array {
  if (result.t === 'local') return dagCbor.encode({ ...result, weights: floatsToBytes(result.weights) })
  return dagCbor.encode(result)
}

/**
 * The result in task result bytes, which must be of kind `t`.
 * @throws PartialResultError naming what is wrong
 */
export function decodeTaskResult<T extends TaskResult['t']> (bytes: Uint8Array, t: T): Extract<TaskResult, { t: T }> {
  let raw: unknown
  try {
    raw = dagCbor.decode(bytes)
  } catch (err) {
    throw new PartialResultError(`task result is not dag-cbor: ${(err as Error).message}`)
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new PartialResultError('task result is not a map')
  const r = raw as Record<string, unknown>
  if (r.t !== t) throw new PartialResultError(`task result is a ${JSON.stringify(r.t)} result, not a "${t}" result`)
  const n = count(r.n, 'n')
  switch (t) {
    case 'scan': {
      const labels = r.labels === null ? null : stringList(r.labels, 'labels')
      const badMin = r.badMin === null ? null : finite(r.badMin, 'badMin')
      if (typeof r.job !== 'string') throw new PartialResultError('task result job is not a string')
      return { t, n, skipped: count(r.skipped, 'skipped'), job: r.job, sums: bytesOrNull(r.sums, 'sums'), labels, bad: count(r.bad, 'bad'), badMin } as Extract<TaskResult, { t: T }>
    }
    case 'gradient':
      return { t, n, loss: bytesField(r.loss, 'loss'), gradient: bytesField(r.gradient, 'gradient') } as Extract<TaskResult, { t: T }>
    case 'local': {
      const weights = bytesToFloats(bytesField(r.weights, 'weights'))
      if (weights === undefined || weights.length > MAX_MODEL_WEIGHTS) throw new PartialResultError('task result weights are not float64 bytes of a model')
      return { t, n, loss: bytesField(r.loss, 'loss'), weights } as Extract<TaskResult, { t: T }>
    }
    default: {
      const confusion = r.confusion === null ? null : countList(r.confusion, 'confusion')
      const classes = r.classes === null ? null : stringList(r.classes, 'classes')
      if ((confusion === null) !== (classes === null) || (classes !== null && confusion?.length !== classes.length * classes.length)) {
        throw new PartialResultError('task result confusion is not a square matrix over its classes')
      }
      if ((confusion === null) === (r.squares === null)) throw new PartialResultError('task result has neither or both of squares and confusion')
      return { t, n, skipped: count(r.skipped, 'skipped'), loss: bytesField(r.loss, 'loss'), squares: bytesOrNull(r.squares, 'squares'), confusion, classes } as Extract<TaskResult, { t: T }>
    }
  }
}

function count (value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new PartialResultError(`task result ${field} is not a count`)
  return value
}

function finite (value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new PartialResultError(`task result ${field} is not a finite number`)
  return value
}

function bytesField (value: unknown, field: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new PartialResultError(`task result ${field} is not bytes`)
  return value
}

function bytesOrNull (value: unknown, field: string): Uint8Array | null {
  return value === null ? null : bytesField(value, field)
}

function stringList (value: unknown, field: string): string[] {
  if (!Array.isArray(value) || value.length > MAX_CLASSES + 1 || !value.every(v => typeof v === 'string' && v.length <= MAX_CLASS_LABEL_CHARS)) {
    throw new PartialResultError(`task result ${field} is not a list of at most ${MAX_CLASSES + 1} labels`)
  }
  return value as string[]
}

function countList (value: unknown, field: string): number[] {
  if (!Array.isArray(value) || value.length > MAX_CLASSES * MAX_CLASSES || !value.every(v => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0)) {
    throw new PartialResultError(`task result ${field} is not a list of counts`)
  }
  return value as number[]
}
