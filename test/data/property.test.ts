/**
 * Property: for random content and chunk sizes, get(put(x)) = x — on one
 * peer (all local) and across two peers (every block fetched remotely).
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { equals } from 'uint8arrays/equals'
import { collect, startSwarm, stopAll, type TestPeer } from './helpers.ts'

describe('get(put(x)) = x', () => {
  const peers: TestPeer[] = []
  beforeAll(async () => { await startSwarm(2, () => ({ repairIntervalMs: 0 }), peers) })
  afterAll(async () => { await stopAll(peers) })

  it('round-trips random content and chunk sizes across 2 peers', async () => {
    await fc.assert(fc.asyncProperty(
      fc.uint8Array({ minLength: 0, maxLength: 40_000 }),
      fc.integer({ min: 1024, max: 16 * 1024 }),
      fc.integer({ min: 0, max: 1 }),
      async (content, chunkSize, putter) => {
        const cid = await peers[putter].data.put(content, { chunkSize, replicas: 1 })
        for (const p of peers) expect(equals(await collect(p.data.get(cid)), content)).toBe(true)
        const stat = await peers[1 - putter].data.stat(cid)
        expect(stat.size).toBe(content.byteLength)
        expect(stat.shards.reduce((n, s) => n + s.size, 0)).toBe(content.byteLength)
      }), { numRuns: 25 })
  })
})
