/**
 * ml/spec: a training spec from its string parameters, validated field by field with one
 * clear line per mistake, and the features of an input resolved from its header. Pure; it
 * never reads data beyond the header and first record it is given.
 */

import {
  DEFAULT_BATCH_SIZE, DEFAULT_L2, DEFAULT_LEARNING_RATE, DEFAULT_TRAIN_ROUNDS, DEFAULT_TRIM,
  MAX_BATCH_SIZE, MAX_FEATURES, MAX_LOCAL_STEPS, MAX_TRAIN_ROUNDS
} from './constants.ts'
import { TrainSpecError } from './errors.ts'

export type ModelKind = 'linear' | 'logistic' | 'softmax'
export type AggregateKind = 'mean' | 'median' | 'trimmed-mean'

export const MODEL_KINDS: readonly ModelKind[] = ['linear', 'logistic', 'softmax']
export const AGGREGATE_KINDS: readonly AggregateKind[] = ['mean', 'median', 'trimmed-mean']

/** Everything a training computes from, typed. */
export interface TrainSpec {
  kind: ModelKind
  /** the label column */
  label: string
  /** the feature columns, in model order */
  features: readonly string[]
  /** rounds R: passes are a scan and then R rounds */
  rounds: number
  /** learning rate α */
  lr: number
  /** L2 penalty λ (never applied to intercepts) */
  l2: number
  /** center and scale features by the scan's mean and population standard deviation */
  standardize: boolean
  /** local steps H per task and round (FedAvg); 0 for full-batch gradient rounds */
  localSteps: number
  /** mini-batch size of local steps */
  batchSize: number
  /** how a round combines its tasks */
  aggregate: AggregateKind
  /** fraction dropped at each end by trimmed-mean */
  trim: number
}

/** The parameters of `train`, as strings. */
export const TRAIN_PARAMS = ['kind', 'label', 'features', 'rounds', 'lr', 'l2', 'standardize', 'localSteps', 'batchSize', 'aggregate', 'trim'] as const

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/
const INTEGER = /^\d+$/

/**
 * The spec of a training from its parameters. `features` may be missing only when
 * `allowMissingFeatures` (submit resolves it from the input, see resolveFeatures); it is then
 * empty in the result.
 * @throws TrainSpecError naming the first bad parameter
 */
export function parseTrainSpec (params: Readonly<Record<string, string>>, allowMissingFeatures = false): TrainSpec {
  for (const key of Object.keys(params)) {
    if (!(TRAIN_PARAMS as readonly string[]).includes(key)) throw new TrainSpecError(`train: unknown parameter "${key}" (known: ${TRAIN_PARAMS.join(', ')})`)
  }
  const kind = params.kind
  if (kind === undefined || kind === '') throw new TrainSpecError(`train: parameter "kind" is required (${MODEL_KINDS.join(', ')})`)
  if (!(MODEL_KINDS as readonly string[]).includes(kind)) throw new TrainSpecError(`train: unknown model kind "${kind}" (expected ${MODEL_KINDS.join(', ')})`)
  const label = params.label?.trim() ?? ''
  if (label === '') throw new TrainSpecError('train: parameter "label" (the column to predict) is required')
  let features: string[] = []
  if (params.features !== undefined) {
    features = parseFeatureList(params.features, label)
  } else if (!allowMissingFeatures) {
    throw new TrainSpecError('train: parameter "features" is required (a comma-separated list of columns)')
  }
  const rounds = integerParam(params, 'rounds', 1, MAX_TRAIN_ROUNDS, DEFAULT_TRAIN_ROUNDS)
  const lr = numberParam(params, 'lr', DEFAULT_LEARNING_RATE, 'a finite number above 0', v => v > 0)
  const l2 = numberParam(params, 'l2', DEFAULT_L2, 'a finite number of at least 0', v => v >= 0)
  const standardize = booleanParam(params, 'standardize')
  const localSteps = integerParam(params, 'localSteps', 0, MAX_LOCAL_STEPS, 0)
  if (params.batchSize !== undefined && localSteps === 0) throw new TrainSpecError('train: batchSize applies only with localSteps (mini-batch steps per task)')
  const batchSize = integerParam(params, 'batchSize', 1, MAX_BATCH_SIZE, DEFAULT_BATCH_SIZE)
  const aggregate = params.aggregate ?? 'mean'
  if (!(AGGREGATE_KINDS as readonly string[]).includes(aggregate)) throw new TrainSpecError(`train: unknown aggregate "${aggregate}" (expected ${AGGREGATE_KINDS.join(', ')})`)
  if (params.trim !== undefined && aggregate !== 'trimmed-mean') throw new TrainSpecError('train: trim applies only with aggregate=trimmed-mean')
  const trim = numberParam(params, 'trim', DEFAULT_TRIM, 'in [0, 0.5)', v => v >= 0 && v < 0.5)
  return { kind: kind as ModelKind, label, features, rounds, lr, l2, standardize, localSteps, batchSize, aggregate: aggregate as AggregateKind, trim }
}

/** The parameters that give `spec` back through parseTrainSpec (defaults written out). */
export function trainParams (spec: TrainSpec): Record<string, string> {
  const params: Record<string, string> = {
    kind: spec.kind,
    label: spec.label,
    features: spec.features.join(','),
    rounds: String(spec.rounds),
    lr: String(spec.lr),
    l2: String(spec.l2),
    standardize: String(spec.standardize),
    aggregate: spec.aggregate
  }
  if (spec.localSteps > 0) {
    params.localSteps = String(spec.localSteps)
    params.batchSize = String(spec.batchSize)
  }
  if (spec.aggregate === 'trimmed-mean') params.trim = String(spec.trim)
  return params
}

/** The columns of a CSV header line: split on ',', each trimmed (no quoting). */
export function headerColumns (header: string): string[] {
  return header.split(',').map(cell => cell.trim())
}

/**
 * The features of a training over an input with this header and first record: `features`
 * when given (each must be a column, not the label), else every other column whose cell in
 * the first record is a finite number.
 * @throws TrainSpecError when the label is not a column, a feature is not, or no column is numeric
 */
export function resolveFeatures (header: string | null, firstRecord: string | null, label: string, features?: string | readonly string[]): string[] {
  if (header === null) throw new TrainSpecError('train: the input is empty: it has no header line')
  const columns = headerColumns(header)
  const wanted = label.trim()
  if (!columns.includes(wanted)) throw new TrainSpecError(`train: label "${wanted}" is not a column of the header (columns: ${columns.join(', ')})`)
  if (features !== undefined) {
    const list = typeof features === 'string' ? parseFeatureList(features, wanted) : parseFeatureList(features.join(','), wanted)
    for (const name of list) {
      if (!columns.includes(name)) throw new TrainSpecError(`train: feature "${name}" is not a column of the header (columns: ${columns.join(', ')})`)
    }
    return list
  }
  if (firstRecord === null) throw new TrainSpecError('train: the input has no record after its header, so no column can be told numeric (give features=a,b,c)')
  const cells = firstRecord.split(',')
  const found: string[] = []
  columns.forEach((name, i) => {
    if (name === wanted || name === '' || found.includes(name) || columns.indexOf(name) !== i) return
    if (parseCell(cells[i]) !== undefined) found.push(name)
  })
  if (found.length === 0) throw new TrainSpecError(`train: no numeric feature: no column but the label "${wanted}" holds a number in the first record`)
  if (found.length > MAX_FEATURES) throw new TrainSpecError(`train: ${found.length} numeric columns, more than ${MAX_FEATURES} features (give features=a,b,c)`)
  return found
}

/** A cell as a number: the trimmed text, when non-empty and a finite JavaScript Number. */
export function parseCell (cell: string | undefined): number | undefined {
  if (cell === undefined) return undefined
  const text = cell.trim()
  if (text === '') return undefined
  const value = Number(text)
  return Number.isFinite(value) ? value : undefined
}

function parseFeatureList (text: string, label: string): string[] {
  const names = text.split(',').map(name => name.trim())
  if (names.some(name => name === '')) throw new TrainSpecError(`train: features must be a comma-separated list of column names, got "${text}"`)
  const seen = new Set<string>()
  for (const name of names) {
    if (name === label) throw new TrainSpecError(`train: the label "${label}" cannot also be a feature`)
    if (seen.has(name)) throw new TrainSpecError(`train: feature "${name}" is listed twice`)
    seen.add(name)
  }
  if (names.length > MAX_FEATURES) throw new TrainSpecError(`train: ${names.length} features, more than ${MAX_FEATURES}`)
  return names
}

/** A decimal parameter, `fallback` when absent; one message (`must`) for any bad value. */
function numberParam (params: Readonly<Record<string, string>>, name: string, fallback: number, must: string, fits: (value: number) => boolean): number {
  const text = params[name]
  if (text === undefined) return fallback
  const value = DECIMAL.test(text.trim()) ? Number(text.trim()) : NaN
  if (!Number.isFinite(value) || !fits(value)) throw new TrainSpecError(`train: ${name} must be ${must}, got "${text}"`)
  return value
}

function integerParam (params: Readonly<Record<string, string>>, name: string, min: number, max: number, fallback: number): number {
  const text = params[name]
  if (text === undefined) return fallback
  const value = INTEGER.test(text.trim()) ? Number(text.trim()) : NaN
  if (!(value >= min && value <= max)) throw new TrainSpecError(`train: ${name} must be an integer from ${min} to ${max}, got "${text}"`)
  return value
}

function booleanParam (params: Readonly<Record<string, string>>, name: string): boolean {
  const text = params[name]
  if (text === undefined) return false
  if (text === 'true' || text === '') return true
  if (text === 'false') return false
  throw new TrainSpecError(`train: ${name} must be true or false, got "${text}"`)
}
