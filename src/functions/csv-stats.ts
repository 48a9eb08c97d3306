/**
 * functions/csv-stats: the `csv-stats` built-in (e.g. temperature per device). Groups CSV rows
 * by one column and summarises a numeric column. Sums are exact (see exact-sum.ts), so the
 * result never depends on how the file was partitioned. Pure; never touches network or disk.
 */

import { MAX_CSV_GROUPS } from './constants.ts'
import { InvalidParamsError, InvalidTaskInputError, InvalidTaskResultError } from './errors.ts'
import { ExactSum } from './exact-sum.ts'
import { decodeLines } from './records.ts'
import { encodeSortedObject } from './sorted-json.ts'
import type { Params, TaskFunction } from './types.ts'

/** The group every row falls into when `by` is not given. */
const ALL_ROWS_GROUP = 'all'

const KNOWN_PARAMS = new Set(['by', 'column'])

interface GroupStats {
  count: number
  sum: ExactSum
  min: number
  max: number
}

/** One group of a task result: [group, count, exact sum in units of 2^-1074 (decimal), min, max]. */
type GroupRecord = [string, number, string, number, number]

export const csvStats: TaskFunction = {
  name: 'csv-stats',
  description: 'Per-group statistics of a CSV column: params column=<numeric column> (required) and by=<group column> (optional; without it all rows form the group "all"). The first line is the header (comma-separated, no quoting). Outputs a JSON object group -> {count, sum, mean, min, max} over rows whose column is a finite number, keys sorted; sums are exact, so results do not depend on partitioning.',
  lineOriented: true,
  needsHeader: true,

  validateParams (params) {
    for (const key of Object.keys(params)) {
      if (!KNOWN_PARAMS.has(key)) throw new InvalidParamsError(`csv-stats: unknown parameter "${key}" (expected column=<name> and optionally by=<name>)`)
    }
    if (params.column === undefined || params.column.trim() === '') throw new InvalidParamsError('csv-stats: parameter "column" (the numeric column to summarise) is required')
    if (params.by !== undefined && params.by.trim() === '') throw new InvalidParamsError('csv-stats: parameter "by" must name a column when given')
  },

  async run (input, params, ctx) {
    csvStats.validateParams?.(params)
    if (ctx.header === null) return encodeRecords(new Map())
    const { valueIndex, groupIndex } = resolveColumns(ctx.header, params)
    const lines = decodeLines(input)
    const groups = new Map<string, GroupStats>()
    for (let i = ctx.taskIndex === 0 ? 1 : 0; i < lines.length; i++) {
      if ((i & 0xfff) === 0) ctx.signal?.throwIfAborted()
      const cells = lines[i].split(',')
      const valueCell = cells[valueIndex]?.trim()
      if (valueCell === undefined || valueCell === '') continue
      const value = Number(valueCell)
      if (!Number.isFinite(value)) continue
      const group = groupIndex === null ? ALL_ROWS_GROUP : cells[groupIndex]?.trim()
      if (group === undefined) continue
      addToGroup(groups, group, value)
    }
    return encodeRecords(groups)
  },

  async reduce (results) {
    const groups = new Map<string, GroupStats>()
    for (const result of results) {
      for (const [group, count, units, min, max] of parseRecords(result)) {
        const stats = getGroup(groups, group)
        stats.count += count
        stats.sum.addUnits(BigInt(units))
        stats.min = Math.min(stats.min, min)
        stats.max = Math.max(stats.max, max)
      }
    }
    return encodeSortedObject(groups, ({ count, sum, min, max }) => {
      const total = sum.toNumber()
      return JSON.stringify({ count, sum: total, mean: total / count, min, max })
    })
  }
}

function resolveColumns (header: string, params: Params): { valueIndex: number, groupIndex: number | null } {
  const names = header.split(',').map(cell => cell.trim())
  const find = (param: 'by' | 'column', name: string): number => {
    const index = names.indexOf(name.trim())
    if (index === -1) throw new InvalidParamsError(`csv-stats: ${param}="${name}" is not a column of the header (columns: ${names.join(', ')})`)
    return index
  }
  return {
    valueIndex: find('column', params.column),
    groupIndex: params.by === undefined ? null : find('by', params.by)
  }
}

function getGroup (groups: Map<string, GroupStats>, group: string): GroupStats {
  let stats = groups.get(group)
  if (stats === undefined) {
    if (groups.size >= MAX_CSV_GROUPS) throw new InvalidTaskInputError(`csv-stats: more than ${MAX_CSV_GROUPS} distinct groups`)
    stats = { count: 0, sum: new ExactSum(), min: Infinity, max: -Infinity }
    groups.set(group, stats)
  }
  return stats
}

function addToGroup (groups: Map<string, GroupStats>, group: string, value: number): void {
  const stats = getGroup(groups, group)
  stats.count++
  stats.sum.add(value)
  stats.min = Math.min(stats.min, value)
  stats.max = Math.max(stats.max, value)
}

function encodeRecords (groups: Map<string, GroupStats>): Uint8Array {
  const records: GroupRecord[] = [...groups].map(([group, s]) => [group, s.count, s.sum.units.toString(), s.min, s.max])
  return new TextEncoder().encode(JSON.stringify(records))
}

function parseRecords (bytes: Uint8Array): GroupRecord[] {
  let value: unknown
  try {
    value = JSON.parse(new TextDecoder().decode(bytes))
  } catch (err) {
    throw new InvalidTaskResultError(`csv-stats: task result is not JSON: ${(err as Error).message}`)
  }
  if (!Array.isArray(value) || !value.every(isGroupRecord)) {
    throw new InvalidTaskResultError('csv-stats: task result is not a list of [group, count, sum, min, max] records')
  }
  return value
}

function isGroupRecord (v: unknown): v is GroupRecord {
  return Array.isArray(v) && v.length === 5 &&
    typeof v[0] === 'string' &&
    Number.isSafeInteger(v[1]) && v[1] > 0 &&
    typeof v[2] === 'string' && /^-?\d+$/.test(v[2]) &&
    Number.isFinite(v[3]) && Number.isFinite(v[4])
}
