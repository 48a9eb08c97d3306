/**
 * api/error-status: the HTTP status of an error a command threw. The caller's
 * mistakes (bad arguments, unknown CIDs, jobs or functions, a removed root, a
 * full store) are 4xx/507, everything else 500. Owns only that mapping; never builds a
 * response.
 */
import {
  ChunkSizeError, InvalidCidError, InvalidNameError, InvalidRangeError, NotFoundError, NotPutHereError, RemovedError, ReplicasError,
  StorageFullError, TooManyShardsError
} from '../data/index.ts'
import { FunctionRegistrationError, InvalidParamsError, UnknownFunctionError } from '../functions/index.ts'
import { CancelRefusedError, InvalidJobError, JobFailedError, JobNotFoundError } from '../jobs/index.ts'
import { InvalidWasmError } from '../sandbox/index.ts'
import { ApiError, InvalidArgumentError } from './errors.ts'

type ErrorClass = abstract new (...args: never[]) => Error

/** Errors that are the caller's mistake, not a daemon fault, and their status. */
const CLIENT_ERRORS: ReadonlyArray<readonly [ErrorClass, number]> = [
  [InvalidArgumentError, 400],
  [InvalidCidError, 400],
  [ChunkSizeError, 400],
  [InvalidParamsError, 400],
  [InvalidJobError, 400],
  [InvalidWasmError, 400],
  [UnknownFunctionError, 400],
  [NotFoundError, 404],
  [NotPutHereError, 404],
  [RemovedError, 410],
  [InvalidNameError, 400],
  [JobNotFoundError, 404],
  [TooManyShardsError, 400],
  [ReplicasError, 400],
  [InvalidRangeError, 400],
  [FunctionRegistrationError, 400],
  [JobFailedError, 422],
  [CancelRefusedError, 403],
  [StorageFullError, 507]
]

/** The HTTP status for `err`: an ApiError's own, a client error's, else 500. */
export function statusOf (err: Error): number {
  if (err instanceof ApiError) return err.status
  for (const [type, status] of CLIENT_ERRORS) if (err instanceof type) return status
  return 500
}
