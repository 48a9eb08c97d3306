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
