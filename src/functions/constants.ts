/**
 * functions/constants: the limits the task functions and record alignment
 * enforce, each with its rule. Constants only.
 */

/** Longest single record (line) alignRecords will extend a task across: a file without newlines cannot make a task read it whole. */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024

/** Longest header line (a CSV file's first line) firstLine will read, for the same reason. */
export const MAX_HEADER_LINE_BYTES = 64 * 1024

/** Function names: lowercase letters, digits, `.`, `_` and `-`, starting with a letter or digit, at most 64 characters. */
export const FUNCTION_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/

/** Most distinct groups csv-stats keeps per task, so a high-cardinality column cannot exhaust memory. */
export const MAX_CSV_GROUPS = 1_000_000
