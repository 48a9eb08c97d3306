/**
 * functions/records: aligns byte ranges of a file to whole '\n'-terminated records, so a
 * task's result never depends on where the file was cut. Pure byte logic; it must never do
 * I/O itself (the caller says whether a line starts at the range, and supplies the following
 * ranges through `next`).
 *
 * Ownership rule: the task for byte range [s, e) owns every line whose first byte p satisfies
 * s <= p < e. A line starts at s when s is 0 or the byte before s is '\n'. Applied to every
 * range of a file, each line is owned by exactly one task, so concatenating the aligned
 * outputs of all ranges in order gives back the file. A task reads past e only to finish its
 * last line, so a range that ends with '\n' and whose start is known to begin a line (the
 * file manifest says whether each shard ends with '\n') needs no other range at all.
 */

import { concat as concatBytes } from 'uint8arrays/concat'
import { MAX_HEADER_LINE_BYTES, MAX_RECORD_BYTES } from './constants.ts'
import { RecordTooLargeError } from './errors.ts'

const NEWLINE = 0x0a

/** Yields the bytes of the ranges after the current one, in order; null at end of file. */
export type NextRange = () => Promise<Uint8Array | null>

/**
 * Returns the whole records the task for `chunk` owns.
 *
 * Unless `startsLine` (the range is the file's first, or the byte before it is '\n'), drops
 * the bytes through the first '\n' (the rest of a line owned by the previous task); a chunk
 * with no '\n' at all then owns nothing. If what is left does not end with '\n', appends the
 * bytes of the following ranges up to and including their first '\n' (the rest of the last
 * line), or up to end of file.
 *
 * @throws RecordTooLargeError if the extension exceeds `maxRecordBytes`
 */
export async function alignRecords (chunk: Uint8Array, startsLine: boolean, next: NextRange, maxRecordBytes: number = MAX_RECORD_BYTES): Promise<Uint8Array> {
  let start = 0
  if (!startsLine) {
    const nl = chunk.indexOf(NEWLINE)
    if (nl === -1) return new Uint8Array(0)
    start = nl + 1
  }
  const owned = chunk.subarray(start)
  if (owned.length === 0 || owned[owned.length - 1] === NEWLINE) return owned
  const tail = await readThroughNewline(next, maxRecordBytes)
  return concat([owned, ...tail])
}

/**
 * Returns the first line of a file (without its '\n'; a trailing '\r' is kept) decoded as
 * UTF-8, or null for an empty file. `chunk` is the file's first range, `next` the ranges after it.
 *
 * @throws RecordTooLargeError if the line is longer than `maxBytes`
 */
export async function firstLine (chunk: Uint8Array, next: NextRange, maxBytes: number = MAX_HEADER_LINE_BYTES): Promise<string | null> {
  const nl = chunk.indexOf(NEWLINE)
  let bytes: Uint8Array
  if (nl !== -1) {
    bytes = chunk.subarray(0, nl)
  } else {
    const tail = await readThroughNewline(next, maxBytes)
    bytes = concat([chunk, ...tail])
    if (bytes.length === 0) return null
    if (bytes[bytes.length - 1] === NEWLINE) bytes = bytes.subarray(0, bytes.length - 1)
  }
  if (bytes.length > maxBytes) throw new RecordTooLargeError(`header line is longer than ${maxBytes} bytes`)
  return new TextDecoder().decode(bytes)
}

/**
 * Decodes record-aligned task input into its lines (without '\n'). A final empty line after
 * a trailing '\n' is not a record and is not returned.
 */
export function decodeLines (input: Uint8Array): string[] {
  if (input.length === 0) return []
  const lines = new TextDecoder().decode(input).split('\n')
  if (lines[lines.length - 1] === '') lines.pop()
  return lines
}

async function readThroughNewline (next: NextRange, maxBytes: number): Promise<Uint8Array[]> {
  const parts: Uint8Array[] = []
  let total = 0
  for (;;) {
    const bytes = await next()
    if (bytes === null) return parts
    const nl = bytes.indexOf(NEWLINE)
    const part = nl === -1 ? bytes : bytes.subarray(0, nl + 1)
    total += part.length
    if (total > maxBytes) throw new RecordTooLargeError(`a record is longer than ${maxBytes} bytes (no '\\n' found)`)
    parts.push(part)
    if (nl !== -1) return parts
  }
}

function concat (parts: Uint8Array[]): Uint8Array {
  return parts.length === 1 ? parts[0] : concatBytes(parts)
}
