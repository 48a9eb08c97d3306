/**
 * jobs/training: a training as a user asks for it (`TrainSpec`: a model kind,
 * inputs, a label, and the hyper-parameters it sets) made into the job of the
 * `train` function: its params as that function takes them (strings), with
 * the features resolved from the first input's header and first record when
 * not given, so the document pins them, and gradient rounds' tasks grouped
 * to about TRAIN_TASK_INPUT_BYTES of input; and a trained model read back from
 * the swarm as a user sees it (`ModelView`). Never judges a hyper-parameter:
 * the function does, at submit, with one clear line per mistake.
 */
import { InvalidParamsError } from '../functions/index.ts'
import { decodeModel, type Model } from '../ml/index.ts'
import { MAX_PARAM_BLOCK_BYTES, MAX_SHARDS_PER_TASK, MIN_GROUPED_TRAIN_TASKS, TRAIN_TASK_INPUT_BYTES } from './constants.ts'
import type { JobServiceData } from './data-access.ts'
import { readInputHead, readNamed } from './input-head.ts'
import type { JobSpec, Priority, Requirements } from './spec.ts'
import { InvalidJobError } from './errors.ts'

/** The built-in iterative function a training runs. */
export const TRAIN_FUNCTION = 'train'

/** A training: what `node.jobs.train` and `edgeswarm train` take. */
export interface TrainSpec {
  /** The model: `linear`, `logistic` or `softmax`. */
  kind: string
  /** Root CIDs of the CSV inputs (each with a header line). */
  inputs: string[]
  /** The column to predict. */
  label: string
  /** The feature columns, in model order. @default every other column numeric in the first record */
  features?: string[]
  /** Rounds of gradient descent (after the scan pass). @default the function's */
  rounds?: number
  /** Learning rate. @default the function's */
  lr?: number
  /** L2 penalty (not applied to intercepts). @default the function's */
  l2?: number
  /** Center and scale the features by their mean and standard deviation. @default false */
  standardize?: boolean
  /** Mini-batch steps per task and round (FedAvg); none: full-batch rounds. */
  localSteps?: number
  /** Records per mini-batch step. @default the function's */
  batchSize?: number
  /** How a round combines its tasks' models: `mean`, `median` or `trimmed-mean`. @default mean */
  aggregate?: string
  /** The fraction trimmed-mean drops at each end. @default the function's */
  trim?: number
  /** Distinct peers that run each task; a result is accepted by majority. @default 1 */
  redundancy?: number
  /** Claim lease in ms. */
  leaseMs?: number
  maxAttempts?: number
  priority?: Priority
  requirements?: Requirements
  /** How long (ms) the training may take from its submit (see JobSpec.deadlineMs). @default none */
  deadlineMs?: number
  /**
   * Consecutive input shards one task reads (see JobSpec.shardsPerTask). @default with local
   * steps or a robust aggregate 1; else as many as make about TRAIN_TASK_INPUT_BYTES of the
   * first input (shardsPerTaskFor)
   */
  shardsPerTask?: number
}

/** What making a training's job needs: reading the first input's head, and the function's feature rule. */
export interface TrainingComponents {
  data: Pick<JobServiceData, 'manifest' | 'getShard'>
  /**
   * The features of a training over an input with this header and first record, when the
   * spec gives none (the `train` function's rule); throws InvalidParamsError naming what is wrong.
   */
  resolveFeatures: (header: string | null, firstRecord: string | null, label: string) => string[]
}

/** A trained model as `model show` prints it: every number as JSON gives it (weights per output). */
export interface ModelView {
  cid: string
  kind: string
  label: string
  features: string[]
  classes: string[]
  standardization: { mean: number[], std: number[] } | null
  /** Per output (one, or one per softmax class): its intercept, then one weight per feature. */
  weights: number[][]
  /** The updates applied: the model θ_round. */
  round: number
  /** The training job's id ('' for a model trained on one machine). */
  job: string
  records: number
  skipped: number
}

/** `model` (named `cid`) as a user sees it. */
export function modelView (cid: string, model: Model): ModelView {
  const per = model.features.length + 1
  const weights: number[][] = []
  for (let k = 0; k < model.weights.length; k += per) weights.push([...model.weights.subarray(k, k + per)])
  return {
    cid,
    kind: model.kind,
    label: model.label,
    features: [...model.features],
    classes: [...model.classes],
    standardization: model.standardization == null ? null : { mean: [...model.standardization.mean], std: [...model.standardization.std] },
    weights,
    round: model.round,
    job: model.job,
    records: model.records,
    skipped: model.skipped
  }
}

/**
 * The model `cid` names (a model block, or a file holding one), verified; InvalidParamsError
 * when it is not a model, the data layer's NotFoundError when no peer has it.
 */
export async function readModel (data: Pick<JobServiceData, 'get' | 'getShard'>, cid: string, options: { signal?: AbortSignal } = {}): Promise<ModelView> {
  const bytes = await readNamed(data, cid, MAX_PARAM_BLOCK_BYTES, options)
  try {
    return modelView(cid, decodeModel(bytes))
  } catch (err) {
    throw new InvalidParamsError(`${cid}: ${(err as Error).message}`)
  }
}

/** The params of `spec` as `train` takes them: only those it sets, numbers and flags as text. */
export function trainParams (spec: TrainSpec): Record<string, string> {
  const params: Record<string, string> = { kind: spec.kind, label: spec.label }
  if (spec.features != null) params.features = spec.features.join(',')
  const optional: Array<[string, number | boolean | string | undefined]> = [
    ['rounds', spec.rounds], ['lr', spec.lr], ['l2', spec.l2], ['standardize', spec.standardize], ['localSteps', spec.localSteps],
    ['batchSize', spec.batchSize], ['aggregate', spec.aggregate], ['trim', spec.trim]
  ]
  for (const [name, value] of optional) if (value != null) params[name] = String(value)
  return params
}

/**
 * How many shards a gradient round's task reads of an input laid out as `manifest`: enough
 * for about TRAIN_TASK_INPUT_BYTES, never so many that a pass has fewer than
 * MIN_GROUPED_TRAIN_TASKS tasks, at most MAX_SHARDS_PER_TASK. A task's result has the same
 * size whatever its input, so larger tasks mean fewer result bytes gossiped a round; exact
 * sums do not depend on the grouping, so the model's bits do not either.
 */
export function shardsPerTaskFor (manifest: { size: number, shards: readonly unknown[] }): number {
  const shards = manifest.shards.length
  if (shards === 0 || manifest.size === 0) return 1
  const bySize = Math.floor(TRAIN_TASK_INPUT_BYTES / (manifest.size / shards))
  const byCount = Math.floor(shards / MIN_GROUPED_TRAIN_TASKS)
  return Math.max(1, Math.min(MAX_SHARDS_PER_TASK, bySize, byCount))
}

/** The job spec of a training, its features resolved from the first input when not given. */
export async function trainJobSpec (spec: TrainSpec, components: TrainingComponents, options: { signal?: AbortSignal } = {}): Promise<JobSpec> {
  if (!Array.isArray(spec.inputs) || spec.inputs.length === 0) throw new InvalidJobError('a training needs at least one input CID')
  const params = trainParams(spec)
  if (spec.features == null) {
    const head = await readInputHead(components.data, await components.data.manifest(spec.inputs[0], options), options)
    params.features = components.resolveFeatures(head.header, head.firstRecord, spec.label).join(',')
  }
  const job: JobSpec = { fn: TRAIN_FUNCTION, inputs: spec.inputs, params }
  if (spec.shardsPerTask != null) {
    job.shardsPerTask = spec.shardsPerTask
  } else if ((spec.localSteps ?? 0) === 0 && (spec.aggregate ?? 'mean') === 'mean') {
    // only the mean of exact sums is the same whatever the grouping; local steps and the robust aggregates work per task
    const group = shardsPerTaskFor(await components.data.manifest(spec.inputs[0], options))
    if (group > 1) job.shardsPerTask = group
  }
  if (spec.redundancy != null) job.redundancy = spec.redundancy
  if (spec.leaseMs != null) job.leaseMs = spec.leaseMs
  if (spec.maxAttempts != null) job.maxAttempts = spec.maxAttempts
  if (spec.priority != null) job.priority = spec.priority
  if (spec.requirements != null) job.requirements = spec.requirements
  if (spec.deadlineMs != null) job.deadlineMs = spec.deadlineMs
  return job
}
