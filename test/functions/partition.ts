/**
 * test/functions/partition: runs a task function the way the job layer does (cut a file into
 * byte ranges, align each to records, run, reduce), so tests can compare partitionings.
 */

import { alignRecords, firstLine } from '../../src/functions/index.ts'
import type { Params, TaskFunction } from '../../src/functions/index.ts'

/** Cuts `bytes` at the given sorted offsets into ranges. */
export function cutAt (bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map(c => Math.max(0, Math.min(bytes.length, c))))].sort((a, b) => a - b)
  const ranges: Uint8Array[] = []
  let start = 0
  for (const p of points) {
    if (p <= start) continue
    ranges.push(bytes.subarray(start, p))
    start = p
  }
  ranges.push(bytes.subarray(start))
  return ranges
}

/** Whether a line starts at range `i` of a file: it is the first, or the byte before it is '\n'. */
export function startsLine (ranges: Uint8Array[], i: number): boolean {
  for (let j = i - 1; j >= 0; j--) {
    const r = ranges[j]
    if (r.length > 0) return r[r.length - 1] === 0x0a
  }
  return true
}

/** The aligned task inputs for the ranges of one file. */
export async function alignAll (ranges: Uint8Array[]): Promise<Uint8Array[]> {
  return await Promise.all(ranges.map(async (range, i) => {
    let j = i + 1
    return await alignRecords(range, startsLine(ranges, i), async () => j < ranges.length ? ranges[j++] : null)
  }))
}

/** Runs `fn` over files, each cut into the given ranges, and reduces the task results; `blocks` as the executor passes them. */
export async function runPartitioned (fn: TaskFunction, files: Uint8Array[][], params: Params = {}, blocks?: Record<string, Uint8Array>): Promise<string> {
  const results: Uint8Array[] = []
  for (const ranges of files) {
    let j = 1
    const header = fn.needsHeader ? await firstLine(ranges[0] ?? new Uint8Array(0), async () => j < ranges.length ? ranges[j++] : null) : null
    const inputs = await alignAll(ranges)
    for (const [taskIndex, input] of inputs.entries()) {
      results.push(await fn.run(input, params, { taskIndex, taskCount: inputs.length, header, blocks }))
    }
  }
  return new TextDecoder().decode(await fn.reduce(results, params))
}

/** Runs `fn` over whole files, one task each. */
export async function runWhole (fn: TaskFunction, files: Uint8Array[], params: Params = {}): Promise<string> {
  return await runPartitioned(fn, files.map(f => [f]), params)
}

export const encode = (s: string): Uint8Array => new TextEncoder().encode(s)
export const decode = (b: Uint8Array): string => new TextDecoder().decode(b)
