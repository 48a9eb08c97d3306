/**
 * functions/constants: every limit the task functions enforce. Only constants live here.
 */

/** Longest single record (line) alignRecords will extend a task across; guards against newline-free files. */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024

/** Longest header line firstLine will read. */
export const MAX_HEADER_BYTES = 64 * 1024

/** Function names: lowercase, start with a letter or digit, at most 64 characters. */
export const FUNCTION_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/

/** Maximum distinct groups csv-stats keeps per task, so a high-cardinality column cannot exhaust memory. */
export const MAX_CSV_GROUPS = 1_000_000
