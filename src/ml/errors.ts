/**
 * ml/errors: the named errors of the numerical core, so the function adapters can turn each
 * into the error their callers expect (a bad parameter, a bad task input or result). Never
 * imports anything.
 */

/** A training or inference spec field is missing or out of range; the message names the field. */
export class TrainSpecError extends Error {
  static readonly code = 'ERR_TRAIN_SPEC'
  override name = 'TrainSpecError'
}

/** Bytes that should be a model block are not one (wrong type, version or fields). */
export class ModelBlockError extends Error {
  static readonly code = 'ERR_MODEL_BLOCK'
  override name = 'ModelBlockError'
}

/** A CSV input does not fit the model or spec (a column missing from its header, say). */
export class DatasetError extends Error {
  static readonly code = 'ERR_DATASET'
  override name = 'DatasetError'
}

/** A task result or pass state is not what the ml task code produces. */
export class PartialResultError extends Error {
  static readonly code = 'ERR_PARTIAL_RESULT'
  override name = 'PartialResultError'
}

/** Packed exact sums are malformed (a kind of PartialResultError). */
export class ExactSumFormatError extends PartialResultError {
  override name = 'ExactSumFormatError'
}

/** A task stopped because its caller aborted it. */
export class TaskAbortedError extends Error {
  static readonly code = 'ERR_TASK_ABORTED'
  override name = 'TaskAbortedError'
}
