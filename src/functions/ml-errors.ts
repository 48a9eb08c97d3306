/**
 * functions/ml-errors: turns the errors of the numerical core (ml/) into the errors callers
 * of task functions branch on: a bad spec is a bad parameter, data that does not fit is a
 * bad task input, a malformed partial result a bad task result. Owns the mapping only.
 */

import { DatasetError, ModelBlockError, PartialResultError, TrainSpecError } from '../ml/index.ts'
import { InvalidParamsError, InvalidTaskInputError, InvalidTaskResultError } from './errors.ts'

/** The functions-layer error for an ml error (others unchanged); `fn` prefixes messages that lack it. */
export function asFunctionError (err: unknown, fn: string): unknown {
  if (err instanceof TrainSpecError) return new InvalidParamsError(err.message)
  if (err instanceof DatasetError || err instanceof ModelBlockError) return new InvalidTaskInputError(`${fn}: ${err.message}`)
  if (err instanceof PartialResultError) return new InvalidTaskResultError(`${fn}: ${err.message}`)
  return err
}

/** Runs `work`, throwing its ml errors as functions-layer errors. */
export function withFunctionErrors<T> (fn: string, work: () => T): T {
  try {
    return work()
  } catch (err) {
    throw asFunctionError(err, fn)
  }
}

/** Awaits `work`, throwing its ml errors as functions-layer errors. */
export async function withFunctionErrorsAsync<T> (fn: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (err) {
    throw asFunctionError(err, fn)
  }
}
