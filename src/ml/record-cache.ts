/**
 * ml/record-cache: parsed task inputs kept across the rounds of a training, so a peer parses
 * a shard once, not once per round, and its standardized features once per standardization.
 * An entry is found by its input's bytes (compared whole, never by a hash alone) and how they
 * were read; the cache is bounded by MAX_PARSED_CACHE_BYTES, least recently used out first.
 * Per thread; it never changes what a parse returns.
 */

import { MAX_PARSED_CACHE_BYTES } from './constants.ts'
import { parseRecords, type LabelMode, type ParsedRecords, type RecordColumns } from './csv-records.ts'
import { sameFloats } from './float-bytes.ts'
import type { Standardization } from './model-block.ts'
import { standardize } from './standardization.ts'

interface Entry {
  input: Uint8Array
  records: ParsedRecords
  standardized: { by: Standardization, z: Float64Array } | null
  bytes: number
}

/** Entries by a key of the input's length, a sample of its bytes and how it is read. */
const entries = new Map<string, Entry[]>()
let heldBytes = 0

/** The records of `input` as parseRecords gives them, parsed at most once while cached. */
export function cachedRecords (input: Uint8Array, skipHeader: boolean, columns: RecordColumns, mode: LabelMode, isAborted?: () => boolean): ParsedRecords {
  const key = keyOf(input, skipHeader, columns, mode)
  const found = entries.get(key)?.find(entry => sameBytes(entry.input, input))
  if (found !== undefined) {
    touch(key, found)
    return found.records
  }
  const records = parseRecords(input, skipHeader, columns, mode, isAborted)
  // a copy: the caller may reuse its buffer for other bytes
  const entry: Entry = { input: input.slice(), records, standardized: null, bytes: input.length + sizeOf(records) }
  if (entry.bytes <= MAX_PARSED_CACHE_BYTES / 4) {
    entries.set(key, [...(entries.get(key) ?? []), entry])
    heldBytes += entry.bytes
    evict()
  }
  return records
}

/** The standardized features of cached records (standardize(records.x, …)), computed once per standardization. */
export function cachedStandardized (records: ParsedRecords, d: number, s: Standardization | null): Float64Array {
  if (s === null) return records.x
  for (const list of entries.values()) {
    const entry = list.find(e => e.records === records)
    if (entry === undefined) continue
    const held = entry.standardized
    if (held !== null && sameFloats(held.by.mean, s.mean) && sameFloats(held.by.std, s.std)) return held.z
    const z = standardize(records.x, d, s)
    if (held !== null) heldBytes -= held.z.byteLength
    entry.standardized = { by: { mean: s.mean.slice(), std: s.std.slice() }, z }
    heldBytes += z.byteLength
    evict()
    return z
  }
  return standardize(records.x, d, s)
}

/** Forgets every entry. */
export function clearRecordCache (): void {
  entries.clear()
  heldBytes = 0
}

function keyOf (input: Uint8Array, skipHeader: boolean, columns: RecordColumns, mode: LabelMode): string {
  // a sample of 32 bytes spread over the input tells most inputs apart before a full comparison
  let sample = 0
  const step = Math.max(1, Math.floor(input.length / 32))
  for (let i = 0; i < input.length; i += step) sample = (Math.imul(sample, 31) + input[i]) | 0
  return `${input.length}:${sample}:${skipHeader ? 1 : 0}:${mode}:${columns.label}:${columns.features.join(',')}`
}

function sameBytes (a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let i = 0
  if (a.byteOffset % 4 === 0 && b.byteOffset % 4 === 0) {
    // four bytes at a time where both views are aligned
    const words = a.length >>> 2
    const wa = new Uint32Array(a.buffer, a.byteOffset, words)
    const wb = new Uint32Array(b.buffer, b.byteOffset, words)
    for (let w = 0; w < words; w++) {
      if (wa[w] !== wb[w]) return false
    }
    i = words * 4
  }
  for (; i < a.length; i++) {
    if (a[i] !== b[i]) return false
  }
  return true
}

function sizeOf (records: ParsedRecords): number {
  return records.x.byteLength + records.y.byteLength + records.parsed.byteLength + records.labels.reduce((n, l) => n + 2 * l.length + 16, 0)
}

function touch (key: string, entry: Entry): void {
  const list = entries.get(key) ?? []
  entries.delete(key)
  entries.set(key, [...list.filter(e => e !== entry), entry])
}

function entryBytes (entry: Entry): number {
  return entry.bytes + (entry.standardized?.z.byteLength ?? 0)
}

function evict (): void {
  for (const [key, list] of entries) {
    if (heldBytes <= MAX_PARSED_CACHE_BYTES) return
    entries.delete(key)
    for (const entry of list) heldBytes -= entryBytes(entry)
  }
}
