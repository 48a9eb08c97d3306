/**
 * @packageDocumentation
 *
 * ml/: the numerical core of training and inference over sharded CSV data: exact,
 * order-independent sums (`ExactBank`), the per-record math of linear, logistic and softmax
 * models, what a task of each pass computes and how a pass's results reduce into the next
 * model, model blocks, a single-machine reference (`trainLocally`), and a pool of worker
 * threads that runs tasks in the background (`TaskThreads`). docs/TRAINING.md writes every
 * formula down. It knows nothing of jobs, peers or the network, and never does I/O.
 *
 * @example
 *
 * ```ts
 * import { parseTrainSpec, trainLocally, decodeModel } from './ml/index.ts'
 *
 * const spec = parseTrainSpec({ kind: 'logistic', label: 'alarm', features: 'temp,humidity', rounds: '20', standardize: 'true' })
 * const { states, loss, failure } = await trainLocally(csvBytes, spec)
 * const model = decodeModel(states[states.length - 1]) // θ_20; loss[r] is the mean loss at θ_r
 * ```
 */

export { ExactBank } from './exact-bank.ts'
export {
  parseTrainSpec, trainParams, resolveFeatures, headerColumns, MODEL_KINDS, AGGREGATE_KINDS, TRAIN_PARAMS
} from './spec.ts'
export type { TrainSpec, ModelKind, AggregateKind } from './spec.ts'
export { encodeModel, decodeModel, outputsOf, LOGISTIC_CLASSES } from './model-block.ts'
export type { Model, Standardization } from './model-block.ts'
export { encodeTaskResult, decodeTaskResult } from './task-results.ts'
export type { TaskResult, ScanResult, GradientResult, LocalResult, EvaluateResult } from './task-results.ts'
export { scanTask, roundTask } from './training-tasks.ts'
export type { TaskPlace } from './training-tasks.ts'
export { reduceScan, reduceRound, trainingResult } from './training-reduce.ts'
export type { ScanOutcome, RoundOutcome } from './training-reduce.ts'
export { trainLocally, dagCborCid } from './local-trainer.ts'
export type { LocalTrainOptions, LocalTraining } from './local-trainer.ts'
export { ownedRanges, headerOf } from './file-shards.ts'
export { predictTask, predictLocally, evaluateTask, reduceEvaluate, evaluateLocally } from './inference.ts'
export { runMlTask } from './task-entry.ts'
export type { MlTaskRequest } from './task-entry.ts'
export { TaskThreads, sharedTaskThreads } from './task-threads.ts'
export type { TaskThreadsInit, TaskThreadsStats } from './task-threads.ts'
export { TrainSpecError, ModelBlockError, DatasetError, PartialResultError, ExactSumFormatError, TaskAbortedError } from './errors.ts'
export {
  DEFAULT_TRAIN_ROUNDS, MAX_TRAIN_ROUNDS, DEFAULT_LEARNING_RATE, DEFAULT_L2, DEFAULT_BATCH_SIZE, DEFAULT_TRIM,
  MAX_FEATURES, MAX_CLASSES, MAX_MODEL_WEIGHTS, MODEL_BLOCK_TYPE
} from './constants.ts'
