/**
 * jobs/errors: the job layer's errors, one class each, so callers (API, CLI)
 * branch on them with instanceof. Never carries state beyond its message.
 */

/** A job spec, document or option is invalid; the message names the field. */
export class InvalidJobError extends Error {
  override name = 'InvalidJobError'
}
/** No peer asked knows the job (or this peer does not, for `get`). */
export class JobNotFoundError extends Error {
  override name = 'JobNotFoundError'
}
/** A task failed too often, or the final result did not match its hash; the message says which. */
export class JobFailedError extends Error {
  override name = 'JobFailedError'
}
/** A fact is oversized, malformed, badly signed, stamped in the future or contradicts its job. */
export class InvalidFactError extends Error {
  override name = 'InvalidFactError'
}
/** `submit` was stopped by its signal; the message says which step it was in. */
export class SubmitAbortedError extends Error {
  override name = 'SubmitAbortedError'
}
/** The job was canceled by its submitter; the message says by whom and when. A failure too: the job has no result. */
export class JobCanceledError extends JobFailedError {
  override name = 'JobCanceledError'
}
/** A cancel this peer may not make: it did not submit the job, or the job has ended already. */
export class CancelRefusedError extends Error {
  override name = 'CancelRefusedError'
}
