/**
 * Job documents from the network: tasks must be exactly one per shard of each
 * input, in order (executors find a task's neighbouring shards by position).
 */
import { describe, it, expect } from 'vitest'
import { buildDocument, decodeDocument, documentId, encodeDocument, shardEndsLine, shardStartsLine, shardCid, taskCount, taskShards, validateSpec, InvalidJobError, type JobDocument } from '../../src/jobs/index.ts'
import { MAX_SHARDS_PER_TASK } from '../../src/jobs/constants.ts'
import { cidOf } from '../../src/data/index.ts'

const shard = (n: number): { cid: { toString: () => string } } => ({ cid: cidOf(Uint8Array.of(n)) })

function doc (): JobDocument {
  const a = cidOf(Uint8Array.of(100)).toString()
  const b = cidOf(Uint8Array.of(101)).toString()
  return buildDocument(validateSpec({ fn: 'square', inputs: [a, b] }), [{ shards: [shard(1), shard(2), shard(3)] }, { shards: [shard(4)] }], 'me', 1)
}

describe('job document', () => {
  it('round-trips, one task per shard in input and shard order', () => {
    const d = decodeDocument(encodeDocument(doc()))
    expect(d.tasks.map(t => [t.i, t.s])).toEqual([[0, 0], [0, 1], [0, 2], [1, 0]])
    expect(d.tasks.map(t => t.cid)).toEqual([1, 2, 3, 4].map(n => shard(n).cid.toString()))
  })

  it('groups consecutive shards of one input into a task, never across inputs; one shard a task writes no field', async () => {
    const a = cidOf(Uint8Array.of(100)).toString()
    const b = cidOf(Uint8Array.of(101)).toString()
    const layouts = [{ shards: [1, 2, 3, 4, 5].map(shard) }, { shards: [6, 7].map(shard) }]
    const grouped = decodeDocument(encodeDocument(buildDocument(validateSpec({ fn: 'square', inputs: [a, b], shardsPerTask: 2 }), layouts, 'me', 1)))
    expect(grouped.shardsPerTask).toBe(2)
    expect(taskCount(grouped)).toBe(4)
    expect([0, 1, 2, 3].map(t => taskShards(grouped, t))).toEqual([{ first: 0, count: 2 }, { first: 2, count: 2 }, { first: 4, count: 1 }, { first: 5, count: 2 }])
    expect(() => taskShards(grouped, 4)).toThrow(RangeError)
    const one = buildDocument(validateSpec({ fn: 'square', inputs: [a, b], shardsPerTask: 1 }), layouts, 'me', 1)
    const plain = buildDocument(validateSpec({ fn: 'square', inputs: [a, b] }), layouts, 'me', 1)
    expect('shardsPerTask' in one).toBe(false)
    expect((await documentId(encodeDocument(one))).equals(await documentId(encodeDocument(plain)))).toBe(true)
    expect(taskCount(one)).toBe(7)
  })

  it('refuses a spec or document whose shards per task are out of bounds, naming the field', () => {
    const a = cidOf(Uint8Array.of(100)).toString()
    for (const bad of [0, MAX_SHARDS_PER_TASK + 1, 1.5]) {
      expect(() => validateSpec({ fn: 'square', inputs: [a], shardsPerTask: bad })).toThrow(/shardsPerTask/)
    }
    for (const bad of [1, MAX_SHARDS_PER_TASK + 1]) {
      const d = { ...doc(), shardsPerTask: bad }
      expect(() => decodeDocument(encodeDocument(d))).toThrow(/invalid job document: shardsPerTask/)
    }
  })

  it('rejects tasks out of order, missing, repeated or beyond the inputs', () => {
    const variants: Array<(d: JobDocument) => void> = [
      d => { d.tasks.reverse() },
      d => { d.tasks.splice(1, 1); d.inputShards[0] = 2 },
      d => { d.tasks[1] = { ...d.tasks[0] } },
      d => { d.tasks.push({ i: 2, s: 0, cid: d.tasks[0].cid }) },
      d => { d.inputShards = [3] }
    ]
    for (const change of variants) {
      const d = doc()
      change(d)
      expect(() => decodeDocument(encodeDocument(d))).toThrow(InvalidJobError)
    }
  })

  it('rejects a malformed task with the path and reason, and parses each task\'s CID once', () => {
    const bad: Array<[(d: JobDocument) => void, string]> = [
      [d => { d.tasks[1] = { ...d.tasks[1], cid: 'not-a-cid' } }, 'tasks.1.cid: not a valid CID'],
      [d => { d.tasks[2] = { ...d.tasks[2], cid: '' } }, 'tasks.2.cid: not a valid CID'],
      [d => { d.tasks[0] = { ...d.tasks[0], i: -1 } }, 'tasks.0.i: not a whole number >= 0'],
      [d => { d.tasks[0] = { ...d.tasks[0], s: 0.5 } }, 'tasks.0.s: not a whole number >= 0'],
      [d => { (d.tasks as unknown[])[3] = 'task' }, 'tasks.3: not an object'],
      [d => { (d.tasks as unknown[])[3] = null }, 'tasks.3: not an object'],
      [d => { d.tasks[1] = { ...d.tasks[1], extra: 1 } as unknown as JobDocument['tasks'][number] }, 'tasks.1: must have exactly i, s and cid'],
      [d => { d.tasks[1] = { i: 0, s: 1 } as unknown as JobDocument['tasks'][number] }, 'tasks.1: must have exactly i, s and cid']
    ]
    for (const [change, message] of bad) {
      const d = doc()
      change(d)
      expect(() => decodeDocument(encodeDocument(d))).toThrow(`invalid job document: ${message}`)
    }
    const d = decodeDocument(encodeDocument(doc()))
    expect(d.tasks.map((_, i) => shardCid(d, i).toString())).toEqual(d.tasks.map(t => t.cid))
    expect(shardCid(d, 2)).toBe(shardCid(d, 2))
    expect(() => shardCid(d, 4)).toThrow(RangeError)
    // a document built here (not decoded) has its CIDs parsed on first use
    const built = doc()
    expect(shardCid(built, 3).toString()).toBe(built.tasks[3].cid)
  })

  it('says where lines start and end when the manifests did, and refuses line ends that do not fit the inputs', () => {
    const a = cidOf(Uint8Array.of(100)).toString()
    const b = cidOf(Uint8Array.of(101)).toString()
    const withNl = (n: number, nl: boolean): { cid: { toString: () => string }, nl: boolean } => ({ ...shard(n), nl })
    const built = buildDocument(validateSpec({ fn: 'square', inputs: [a, b] }), [{ shards: [withNl(1, true), withNl(2, false), withNl(3, true)] }, { shards: [shard(4)] }], 'me', 1)
    const d = decodeDocument(encodeDocument(built))
    expect(d.lineEnds).toEqual(['101', null])
    expect([0, 1, 2].map(s => shardStartsLine(d, 0, s))).toEqual([true, true, false])
    expect([0, 1, 2].map(s => shardEndsLine(d, 0, s))).toEqual([true, false, true])
    // an input whose manifest did not say: only the file's start is known to start a line
    expect([shardStartsLine(d, 1, 0), shardEndsLine(d, 1, 0)]).toEqual([true, undefined])
    // a document made before lineEnds existed still decodes, with nothing known
    const old: Partial<JobDocument> = { ...doc() }
    delete old.lineEnds
    const o = decodeDocument(encodeDocument(old as JobDocument))
    expect([shardStartsLine(o, 0, 1), shardEndsLine(o, 0, 1)]).toEqual([undefined, undefined])
    const bad: Array<(d: JobDocument) => void> = [
      d => { d.lineEnds = ['10', null] },
      d => { d.lineEnds = ['101'] },
      d => { d.lineEnds = ['1x1', null] },
      d => { d.lineEnds = [1 as unknown as string, null] }
    ]
    for (const change of bad) {
      const x = { ...built }
      change(x)
      expect(() => decodeDocument(encodeDocument(x))).toThrow(InvalidJobError)
    }
  })
})
