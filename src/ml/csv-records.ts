/**
 * ml/csv-records: a task's CSV records as typed arrays, parsed once: the feature columns of
 * each record as float64 (row-major), its label as a number or a text, and which records
 * parsed. A cell parses when its trimmed text is non-empty and `Number(text)` is finite;
 * ordinary decimals take a fast path over the bytes that gives exactly `Number`'s double
 * (Clinger's: at most 15 significant digits and a power of ten up to 10^22, one correctly
 * rounded operation), anything else goes through `Number` itself. Pure; it never keeps a
 * reference to its input.
 */

import { DatasetError, TaskAbortedError } from './errors.ts'
import { RECORDS_PER_ABORT_CHECK } from './constants.ts'
import { headerColumns } from './spec.ts'

/** Where a record's columns are, by their index in the header. */
export interface RecordColumns {
  /** the header index of each feature, in model order */
  features: Int32Array
  /** the header index of the label, or -1 when records have no label to read */
  label: number
}

/** How a record's label is read. */
export type LabelMode = 'number' | 'text' | 'none'

/** The records of one task. */
export interface ParsedRecords {
  /** records seen: lines after the header, blank ones included */
  lines: number
  /** records that parsed (their features, and their label unless the mode is 'none') */
  count: number
  /** per record seen: 1 when it parsed */
  parsed: Uint8Array
  /** the features of the parsed records, `count` rows of `features.length` */
  x: Float64Array
  /** the labels of the parsed records, mode 'number' */
  y: Float64Array
  /** the labels of the parsed records, mode 'text' (trimmed) */
  labels: string[]
}

/**
 * The header indices of `features` and `label` (the first column of each name).
 * @throws DatasetError naming a column the header lacks
 */
export function columnsOf (header: string | null, features: readonly string[], label: string | null): RecordColumns {
  if (header === null) throw new DatasetError('the input is empty: it has no header line')
  const columns = headerColumns(header)
  const find = (name: string, what: string): number => {
    const at = columns.indexOf(name)
    if (at === -1) throw new DatasetError(`${what} "${name}" is not a column of the header (columns: ${columns.join(', ')})`)
    return at
  }
  return {
    features: Int32Array.from(features, name => find(name, 'feature')),
    label: label === null ? -1 : find(label, 'label')
  }
}

const NEWLINE = 0x0a
const COMMA = 0x2c
/** Roles of a column in parseRecords besides a feature's slot. */
const SKIP = -1
const LABEL = -2
const textDecoder = new TextDecoder()

/**
 * Parses the records of a task's input (whole lines; the first is the header when
 * `skipHeader`), reading the given columns. A record whose label (unless mode 'none') or any
 * feature does not parse is not parsed; its `parsed` flag is 0.
 */
export function parseRecords (input: Uint8Array, skipHeader: boolean, columns: RecordColumns, mode: LabelMode, isAborted?: () => boolean): ParsedRecords {
  const d = columns.features.length
  const needed = Math.max(columns.label, ...columns.features) + 1
  // what each column up to the last needed is: a feature's slot, LABEL, or SKIP
  const roles = new Int32Array(needed).fill(SKIP)
  columns.features.forEach((column, j) => { if (roles[column] === SKIP) roles[column] = j })
  if (columns.label >= 0 && mode !== 'none') roles[columns.label] = LABEL
  let capacity = 1024
  let x = new Float64Array(capacity * d)
  let y = new Float64Array(mode === 'number' ? capacity : 0)
  const labels: string[] = []
  let parsedFlags = new Uint8Array(capacity)
  let lines = 0
  let count = 0
  let pos = 0
  if (skipHeader) {
    const nl = input.indexOf(NEWLINE)
    pos = nl === -1 ? input.length : nl + 1
  }
  const row = new Float64Array(d)
  while (pos < input.length) {
    if ((lines % RECORDS_PER_ABORT_CHECK) === 0 && isAborted?.() === true) throw new TaskAbortedError('the task was aborted')
    let end = input.indexOf(NEWLINE, pos)
    const next = end === -1 ? input.length : end + 1
    if (end === -1) end = input.length
    // one pass over the cells the record needs, each read once
    let ok = true
    let labelNumber = 0
    let labelText = ''
    let at = pos
    for (let cell = 0; ; cell++) {
      const role = roles[cell]
      let cellEnd: number
      if (role >= 0) {
        const value = scanNumber(input, at, end, true)
        cellEnd = scannedEnd
        if (value === undefined) ok = false
        else row[role] = value
      } else {
        cellEnd = at
        while (cellEnd < end && input[cellEnd] !== COMMA) cellEnd++
        if (role === LABEL) {
          if (mode === 'number') {
            const value = scanNumber(input, at, cellEnd, false)
            if (value === undefined) ok = false
            else labelNumber = value
          } else {
            labelText = decodeTrimmed(input, at, cellEnd)
            if (labelText === '') ok = false
          }
        }
      }
      if (!ok || cell === needed - 1) break
      if (cellEnd >= end) {
        ok = false // the record has fewer cells than the columns it needs
        break
      }
      at = cellEnd + 1
    }
    if (lines === parsedFlags.length) parsedFlags = grow(parsedFlags, parsedFlags.length * 2)
    parsedFlags[lines++] = ok ? 1 : 0
    if (ok) {
      if (count === capacity) {
        capacity *= 2
        x = grow(x, capacity * d)
        if (mode === 'number') y = grow(y, capacity)
      }
      x.set(row, count * d)
      if (mode === 'number') y[count] = labelNumber
      else if (mode === 'text') labels.push(labelText)
      count++
    }
    pos = next
  }
  return {
    lines,
    count,
    parsed: parsedFlags.slice(0, lines),
    x: x.slice(0, count * d),
    y: mode === 'number' ? y.slice(0, count) : new Float64Array(0),
    labels
  }
}

function grow<T extends Float64Array | Uint8Array> (array: T, length: number): T {
  const bigger = new (array.constructor as new (n: number) => T)(length)
  bigger.set(array)
  return bigger
}

/** Exact powers of ten as doubles: 10^0 .. 10^22. */
const POWERS_OF_TEN = Float64Array.from({ length: 23 }, (_, i) => Number(`1e${i}`))

function isSpace (b: number): boolean {
  return b === 0x20 || (b >= 0x09 && b <= 0x0d)
}

/**
 * The number in bytes [start, end): `Number(text.trim())` when the trimmed text is non-empty
 * and the result finite, else undefined.
 */
export function parseNumber (bytes: Uint8Array, start: number, end: number): number | undefined {
  return scanNumber(bytes, start, end, false)
}

/** Where the cell scanNumber read ended (its comma, or the limit). */
let scannedEnd = 0

/**
 * The number of the cell starting at `start`: up to the first comma before `limit` when
 * `toComma` (then scannedEnd is that comma, or the limit), else up to `limit`. As parseNumber.
 */
function scanNumber (bytes: Uint8Array, start: number, limit: number, toComma: boolean): number | undefined {
  let i = start
  while (i < limit && isSpace(bytes[i])) i++
  let negative = false
  if (i < limit && (bytes[i] === 0x2d || bytes[i] === 0x2b)) {
    negative = bytes[i] === 0x2d
    i++
  }
  let mantissa = 0
  let significant = 0
  let digits = 0
  let exponent = 0
  let b = bytes[i]
  while (i < limit && b >= 0x30 && b <= 0x39) {
    digits++
    if (mantissa !== 0 || b !== 0x30) {
      mantissa = mantissa * 10 + (b - 0x30)
      significant++
    }
    b = bytes[++i]
  }
  if (i < limit && b === 0x2e) {
    b = bytes[++i]
    while (i < limit && b >= 0x30 && b <= 0x39) {
      digits++
      if (mantissa !== 0 || b !== 0x30) {
        mantissa = mantissa * 10 + (b - 0x30)
        significant++
      }
      exponent--
      b = bytes[++i]
    }
  }
  let exponentOk = true
  if (digits > 0 && i < limit && (b === 0x65 || b === 0x45)) {
    b = bytes[++i]
    let expNegative = false
    if (i < limit && (b === 0x2d || b === 0x2b)) {
      expNegative = b === 0x2d
      b = bytes[++i]
    }
    let e = 0
    let expDigits = 0
    while (i < limit && b >= 0x30 && b <= 0x39 && expDigits < 5) {
      e = e * 10 + (b - 0x30)
      expDigits++
      b = bytes[++i]
    }
    exponentOk = expDigits > 0
    exponent += expNegative ? -e : e
  }
  // the cell must end here, but for white space
  let end = i
  while (end < limit && isSpace(bytes[end])) end++
  const cellEnds = end === limit || (toComma && bytes[end] === COMMA)
  if (!cellEnds) {
    if (toComma) {
      while (end < limit && bytes[end] !== COMMA) end++
    } else {
      end = limit
    }
  }
  scannedEnd = end
  if (!cellEnds || !exponentOk || digits === 0 || significant > 15 || exponent > 22 || exponent < -22) return slowNumber(bytes, start, end)
  if (mantissa === 0) return negative ? -0 : 0
  const value = exponent >= 0 ? mantissa * POWERS_OF_TEN[exponent] : mantissa / POWERS_OF_TEN[-exponent]
  return negative ? -value : value
}

/** Number() of the bytes, for everything the fast path does not take. */
function slowNumber (bytes: Uint8Array, start: number, end: number): number | undefined {
  const text = textDecoder.decode(bytes.subarray(start, end)).trim()
  if (text === '') return undefined
  const value = Number(text)
  return Number.isFinite(value) ? value : undefined
}

/** The UTF-8 text of bytes [start, end), trimmed. */
function decodeTrimmed (bytes: Uint8Array, start: number, end: number): string {
  let ascii = true
  let text = ''
  for (let i = start; i < end; i++) {
    const b = bytes[i]
    if (b >= 0x80) {
      ascii = false
      break
    }
    text += String.fromCharCode(b)
  }
  return (ascii ? text : textDecoder.decode(bytes.subarray(start, end))).trim()
}
