/**
 * ml/model-block: a trained model as a dag-cbor block: what `model show` prints, what
 * `predict` and `evaluate` read and the state of every pass of a training. Float arrays are
 * little-endian float64 bytes, so every bit survives (dag-cbor would write -0 as 0). Owns the
 * encoding and its validation; it never computes a model.
 */

import * as dagCbor from '@ipld/dag-cbor'
import { MAX_CLASS_LABEL_CHARS, MAX_CLASSES, MAX_FEATURES, MAX_MODEL_WEIGHTS, MODEL_BLOCK_TYPE, MODEL_BLOCK_VERSION } from './constants.ts'
import { ModelBlockError } from './errors.ts'
import { bytesToFloats, floatsToBytes } from './float-bytes.ts'
import { MODEL_KINDS, type ModelKind } from './spec.ts'

/** Each feature's mean and population standard deviation over the training records. */
export interface Standardization {
  mean: Float64Array
  /** 0 for a constant feature, which is centered only */
  std: Float64Array
}

export interface Model {
  kind: ModelKind
  /** the label column it predicts */
  label: string
  /** its input columns, in weight order */
  features: readonly string[]
  /** softmax: the classes (sorted label values); logistic: ["0", "1"]; linear: none */
  classes: readonly string[]
  standardization: Standardization | null
  /** per output (one, or one per softmax class): the intercept, then one weight per feature */
  weights: Float64Array
  /** updates applied: the model θ_round */
  round: number
  /** the training job's id ('' for a model trained on one machine) */
  job: string
  /** training records, and rows skipped because their label or a feature did not parse */
  records: number
  skipped: number
}

/** The classes of a logistic model: its label values. */
export const LOGISTIC_CLASSES: readonly string[] = ['0', '1']

/** Outputs of a model: one per softmax class, else one. */
export function outputsOf (kind: ModelKind, classes: readonly string[]): number {
  return kind === 'softmax' ? classes.length : 1
}

/** The model as block bytes (dag-cbor). */
export function encodeModel (model: Model): Uint8Array {
  return dagCbor.encode({
    type: MODEL_BLOCK_TYPE,
    version: MODEL_BLOCK_VERSION,
    kind: model.kind,
    label: model.label,
    features: [...model.features],
    classes: [...model.classes],
    standardization: model.standardization === null
      ? null
      : { mean: floatsToBytes(model.standardization.mean), std: floatsToBytes(model.standardization.std) },
    weights: floatsToBytes(model.weights),
    round: model.round,
    job: model.job,
    records: model.records,
    skipped: model.skipped
  })
}

/**
 * The model in block bytes.
 * @throws ModelBlockError naming what is wrong when the bytes are not a model block
 */
export function decodeModel (bytes: Uint8Array): Model {
  let raw: unknown
  try {
    raw = dagCbor.decode(bytes)
  } catch (err) {
    throw new ModelBlockError(`not a model: not dag-cbor (${(err as Error).message})`)
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ModelBlockError('not a model: not a map')
  const block = raw as Record<string, unknown>
  if (block.type !== MODEL_BLOCK_TYPE) throw new ModelBlockError(`not a model: its type is ${JSON.stringify(block.type) ?? 'missing'}, not "${MODEL_BLOCK_TYPE}"`)
  if (block.version !== MODEL_BLOCK_VERSION) throw new ModelBlockError(`model version ${String(block.version)} is not supported (this peer reads version ${MODEL_BLOCK_VERSION})`)
  const kind = block.kind
  if (typeof kind !== 'string' || !(MODEL_KINDS as readonly string[]).includes(kind)) throw new ModelBlockError(`model kind ${JSON.stringify(kind)} is not one of ${MODEL_KINDS.join(', ')}`)
  const label = block.label
  if (typeof label !== 'string' || label === '') throw new ModelBlockError('model label must be a non-empty string')
  const features = stringList(block.features, 'features', MAX_FEATURES)
  if (features.length === 0) throw new ModelBlockError('model has no features')
  if (new Set(features).size !== features.length) throw new ModelBlockError('model features are not distinct')
  const classes = stringList(block.classes, 'classes', MAX_CLASSES)
  if (new Set(classes).size !== classes.length) throw new ModelBlockError('model classes are not distinct')
  if (kind === 'linear' && classes.length !== 0) throw new ModelBlockError('a linear model has no classes')
  if (kind === 'logistic' && (classes.length !== 2 || classes[0] !== '0' || classes[1] !== '1')) throw new ModelBlockError('a logistic model\'s classes are "0" and "1"')
  if (kind === 'softmax' && classes.length < 2) throw new ModelBlockError('a softmax model needs at least 2 classes')
  if (classes.some(c => c.length > MAX_CLASS_LABEL_CHARS)) throw new ModelBlockError(`a model class is longer than ${MAX_CLASS_LABEL_CHARS} characters`)
  const d = features.length
  const outputs = outputsOf(kind as ModelKind, classes)
  if (outputs * (d + 1) > MAX_MODEL_WEIGHTS) throw new ModelBlockError(`model has more than ${MAX_MODEL_WEIGHTS} weights`)
  const weights = floatField(block.weights, 'weights', outputs * (d + 1))
  let standardization: Standardization | null = null
  if (block.standardization !== null) {
    const s = block.standardization
    if (typeof s !== 'object' || s === null || Array.isArray(s)) throw new ModelBlockError('model standardization must be null or {mean, std}')
    const { mean, std } = s as Record<string, unknown>
    standardization = { mean: floatField(mean, 'standardization.mean', d), std: floatField(std, 'standardization.std', d) }
    if (standardization.std.some(v => v < 0)) throw new ModelBlockError('model standardization.std holds a negative value')
  }
  const round = count(block.round, 'round')
  const records = count(block.records, 'records')
  const skipped = count(block.skipped, 'skipped')
  const job = block.job
  if (typeof job !== 'string') throw new ModelBlockError('model job must be a string')
  return { kind: kind as ModelKind, label, features, classes, standardization, weights, round, job, records, skipped }
}

function stringList (value: unknown, field: string, max: number): string[] {
  if (!Array.isArray(value) || !value.every(v => typeof v === 'string')) throw new ModelBlockError(`model ${field} must be a list of strings`)
  if (value.length > max) throw new ModelBlockError(`model has more than ${max} ${field}`)
  return value as string[]
}

function floatField (value: unknown, field: string, length: number): Float64Array {
  if (!(value instanceof Uint8Array)) throw new ModelBlockError(`model ${field} must be bytes (little-endian float64)`)
  const floats = bytesToFloats(value)
  if (floats?.length !== length) throw new ModelBlockError(`model ${field} must hold ${length} float64 values, not ${value.length} bytes`)
  if (!floats.every(Number.isFinite)) throw new ModelBlockError(`model ${field} holds a value that is not finite`)
  return floats
}

function count (value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new ModelBlockError(`model ${field} must be a non-negative integer`)
  return value
}
