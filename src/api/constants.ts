/**
 * api/constants: the fixed parts of the RPC API's HTTP surface, shared by its
 * server and its client. Constants only.
 */

/** The path prefix of every command: `POST /api/v0/<command>`, as Kubo's RPC API. */
export const API_PREFIX = '/api/v0/'

/** Largest JSON request body accepted, so a caller cannot make the daemon buffer without bound (uploads stream and are not bounded by this). */
export const MAX_JSON_BODY_BYTES = 1024 * 1024
