/**
 * api/errors: the errors of the RPC API, on both sides of the loopback HTTP
 * connection. Never imports anything, so the CLI's short commands load only
 * what the client needs.
 */

/** A request the API refused or a command that failed in the daemon; `code` is the error's name as the daemon sent it. */
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

/** A command's arguments or body are missing or malformed. */
export class InvalidArgumentError extends Error {
  override name = 'InvalidArgumentError'
}

/** The API's address cannot be listened on (a port in use); `address` is HOST:PORT. */
export class ApiListenError extends Error {
  override name = 'ApiListenError'
  readonly address: string
  /** `what`: which listener (the API, or the read-only one). */
  constructor (address: string, reason: string, what = 'API address') {
    super(`cannot listen on ${what} ${address}: ${reason}`)
    this.address = address
  }
}
