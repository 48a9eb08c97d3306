/**
 * functions/errors: the named errors task functions and the registry throw, so callers
 * (job layer, API, CLI) can branch on type. Never imports anything.
 */

/** Job parameters are missing, malformed or do not fit the input (e.g. unknown CSV column). */
export class InvalidParamsError extends Error {
  static readonly code = 'ERR_INVALID_PARAMS'
  override name = 'InvalidParamsError'
}

/** A task's input does not have the shape the function needs (e.g. a non-numeric line for `square`). */
export class InvalidTaskInputError extends Error {
  static readonly code = 'ERR_INVALID_TASK_INPUT'
  override name = 'InvalidTaskInputError'
}

/** A task result handed to a reducer is not what the function's `run` produces. */
export class InvalidTaskResultError extends Error {
  static readonly code = 'ERR_INVALID_TASK_RESULT'
  override name = 'InvalidTaskResultError'
}

/** A single record (line) is longer than MAX_RECORD_BYTES. */
export class RecordTooLargeError extends Error {
  static readonly code = 'ERR_RECORD_TOO_LARGE'
  override name = 'RecordTooLargeError'
}

/** A function name is malformed or already registered. */
export class FunctionRegistrationError extends Error {
  static readonly code = 'ERR_FUNCTION_REGISTRATION'
  override name = 'FunctionRegistrationError'
}

/** No function of that name is registered. */
export class UnknownFunctionError extends Error {
  static readonly code = 'ERR_UNKNOWN_FUNCTION'
  override name = 'UnknownFunctionError'
}
