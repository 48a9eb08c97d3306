/**
 * functions/word-count: the `word-count` built-in. Counts Unicode
 * letter/digit runs, case-folded with toLowerCase(). Pure; never touches network or disk.
 */

import { InvalidTaskResultError } from './errors.ts'
import { encodeSortedObject } from './sorted-json.ts'
import type { TaskFunction } from './types.ts'

/** A token: a maximal run of Unicode letters and numbers. */
const TOKEN = /[\p{L}\p{N}]+/gu

export const wordCount: TaskFunction = {
  name: 'word-count',
  description: 'Counts words: tokens are maximal runs of Unicode letters/digits in the lowercased text; outputs a JSON object token -> count with keys sorted.',
  lineOriented: true,
  needsHeader: false,

  async run (input) {
    const counts = new Map<string, number>()
    const text = new TextDecoder().decode(input).toLowerCase()
    for (const [token] of text.matchAll(TOKEN)) {
      counts.set(token, (counts.get(token) ?? 0) + 1)
    }
    // pairs, not an object, so tokens like "__proto__" survive the round trip
    return new TextEncoder().encode(JSON.stringify([...counts]))
  },

  async reduce (results) {
    const total = new Map<string, number>()
    for (const result of results) {
      for (const [token, count] of parsePairs(result)) {
        total.set(token, (total.get(token) ?? 0) + count)
      }
    }
    return encodeSortedObject(total, String)
  }
}

function parsePairs (bytes: Uint8Array): Array<[string, number]> {
  let value: unknown
  try {
    value = JSON.parse(new TextDecoder().decode(bytes))
  } catch (err) {
    throw new InvalidTaskResultError(`word-count: task result is not JSON: ${(err as Error).message}`)
  }
  if (!Array.isArray(value) || !value.every(isPair)) {
    throw new InvalidTaskResultError('word-count: task result is not a list of [token, count] pairs')
  }
  return value
}

function isPair (v: unknown): v is [string, number] {
  return Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && Number.isSafeInteger(v[1]) && v[1] > 0
}
