/**
 * Errors of the job layer, named so callers (API, CLI) can branch on them.
 */
export class InvalidJobError extends Error {
  override name = 'InvalidJobError'
}
export class JobNotFoundError extends Error {
  override name = 'JobNotFoundError'
}
export class JobFailedError extends Error {
  override name = 'JobFailedError'
}
export class InvalidFactError extends Error {
  override name = 'InvalidFactError'
}
/** `submit` was stopped by its signal; the message says which step it was in. */
export class SubmitAbortedError extends Error {
  override name = 'SubmitAbortedError'
}
