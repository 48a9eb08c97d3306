/**
 * status/errors: the named errors of the status gossip. Never imports anything.
 */

/** A status message that is oversized, malformed, breaks the schema, or is badly signed. */
export class InvalidStatusError extends Error {
  static readonly code = 'ERR_INVALID_STATUS'
  override name = 'InvalidStatusError'
}
