/**
 * Job documents from the network: tasks must be exactly one per shard of each
 * input, in order (executors find a task's neighbouring shards by position).
 */
import { describe, it, expect } from 'vitest'
import { buildDocument, decodeDocument, encodeDocument, validateSpec, InvalidJobError, type JobDocument } from '../../src/jobs/index.ts'
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
})
