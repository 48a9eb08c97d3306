/**
 * Errors of the RPC API, on both sides of the loopback HTTP connection.
 */

/** A request the API refused or a command that failed in the daemon. */
export class ApiError extends Error {
  override name = 'ApiError'
  readonly status: number
  readonly code: string
  constructor (message: string, status = 500, code = 'Error') {
    super(message)
    this.status = status
    this.code = code
  }
}

/** No daemon answers for this repo. */
export class DaemonNotRunningError extends Error {
  override name = 'DaemonNotRunningError'
}

/** Error names that are the caller's mistake (HTTP 400/404), not a daemon fault. */
export const CLIENT_ERROR_STATUS: Record<string, number> = {
  InvalidArgumentError: 400,
  InvalidCidError: 400,
  ChunkSizeError: 400,
  InvalidParamsError: 400,
  InvalidJobError: 400,
  InvalidWasmError: 400,
  UnknownFunctionError: 400,
  NotFoundError: 404,
  JobNotFoundError: 404,
  TooManyShardsError: 400,
  ReplicasError: 400,
  InvalidRangeError: 400,
  FunctionRegistrationError: 400,
  JobFailedError: 422,
  StorageFullError: 507
}
