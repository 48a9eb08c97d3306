/**
 * A block fetch hedges: peers that accept a request and never answer (a
 * loaded device) delay the next request by FETCH_HEDGE_MS, not by a request
 * timeout each, so the holder is still reached well within the deadline.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { equals } from 'uint8arrays/equals'
import { SHARD_PROTOCOL, sortByDistance, blockKadId } from '../../src/data/index.ts'
import { cidOf } from '../../src/data/blocks.ts'
import { connectAll, random, startPeer, stopAll, type TestPeer } from './helpers.ts'

describe('block fetch', () => {
  const peers: TestPeer[] = []
  afterEach(async () => { await stopAll(peers) })

  it('reaches the holder at once although closer peers it asks first never answer', async () => {
    // each peer is registered for cleanup as soon as it runs
    const start = async (): Promise<TestPeer> => { const p = await startPeer({ repairIntervalMs: 0 }); peers.push(p); return p }
    const holder = await start()
    const reader = await start()
    const silent = [await start(), await start()]
    // the silent peers take shard requests and never answer
    for (const s of silent) {
      await s.node.unhandle(SHARD_PROTOCOL)
      await s.node.handle(SHARD_PROTOCOL, () => {})
    }
    // a block for which both silent peers are closer than the holder: the reader asks them first
    let content = random(4096)
    const order = (): string[] => sortByDistance(blockKadId(cidOf(content)), [holder, ...silent].map(p => p.node.peerId)).map(String)
    // each draw qualifies with probability 1/3: 200 draws all failing is ~1e-35
    for (let i = 0; i < 200 && order()[2] !== holder.node.peerId.toString(); i++) content = random(4096)
    expect(order()[2]).toBe(holder.node.peerId.toString())
    const cid = await holder.data.put(content, { replicas: 1 })
    const manifest = await holder.data.manifest(cid)
    expect(manifest.shards.map(s => s.cid.toString())).toEqual([cidOf(content).toString()])

    await connectAll(peers)
    const started = performance.now()
    const bytes = await reader.data.getShard(manifest.shards[0].cid, { signal: AbortSignal.timeout(25_000) })
    const ms = performance.now() - started
    expect(equals(bytes, content)).toBe(true)
    // one after another, the two silent peers cost a 10 s request timeout each first
    expect(ms).toBeLessThan(5_000)
  })
})
