/**
 * Releasing a root on real peers over TCP on 127.0.0.1: `rm` makes every
 * holder drop the root's blocks that no other live root needs and `get` say
 * it was removed; repair brings nothing released back, and a peer that was
 * away during the rm catches up and drops its copies too.
 */
import { MemoryBlockstore } from 'blockstore-core/memory'
import { MemoryDatastore } from 'datastore-core'
import type { CID } from 'multiformats/cid'
import { concat } from 'uint8arrays/concat'
import { equals } from 'uint8arrays/equals'
import { afterEach, describe, expect, it } from 'vitest'
import { DataService, RemovedError, NotPutHereError } from '../../src/data/index.ts'
import { waitFor } from '../helpers.ts'
import { addrOf, collect, componentsOf, connectAll, random, sleep, startNode, startSwarm, stopAll, type TestPeer } from './helpers.ts'

const CHUNK = 16 * 1024

async function holdersOf (cid: CID, among: TestPeer[]): Promise<number> {
  let n = 0
  for (const p of among) if (await p.data.hasLocal(cid)) n++
  return n
}

async function blocksOf (peer: TestPeer, root: CID): Promise<CID[]> {
  return [root, ...(await peer.data.manifest(root)).shards.map(s => s.cid)]
}

describe('release', () => {
  const peers: TestPeer[] = []
  afterEach(async () => { await stopAll(peers) })

  it('rm: every holder drops what no other live root needs, get says removed, a second root keeps its shards', async () => {
    await startSwarm(5, () => ({ repairIntervalMs: 0, gcIntervalMs: 0 }), peers)
    const shared = random(10 * CHUNK)
    const a = concat([shared, random(10 * CHUNK)])
    const b = concat([shared, random(5 * CHUNK)])
    const cidA = await peers[0].data.put(a, { chunkSize: CHUNK, name: 'a.bin' })
    // the second root is another peer's: a release by the first must not touch it
    const cidB = await peers[1].data.put(b, { chunkSize: CHUNK })
    const blocksA = await blocksOf(peers[0], cidA)
    const sharedShards = blocksA.slice(1, 11)
    const onlyA = [cidA, ...blocksA.slice(11)]
    for (const block of blocksA) expect(await holdersOf(block, peers)).toBeGreaterThanOrEqual(3)

    // only the putter may release it
    await expect(peers[1].data.rm(cidA)).rejects.toBeInstanceOf(NotPutHereError)
    expect(await peers[0].data.rm(cidA)).toEqual({ cid: cidA.toString(), puts: 1 })

    // within a bound every holder dropped the blocks only A listed, the putter too
    expect(await waitFor(async () => {
      for (const block of onlyA) if (await holdersOf(block, peers) > 0) return false
      return true
    }, 15_000, 200)).toBe(true)
    for (const shard of sharedShards) expect(await holdersOf(shard, peers)).toBeGreaterThanOrEqual(3)
    for (const p of peers) {
      await expect(collect(p.data.get(cidA))).rejects.toBeInstanceOf(RemovedError)
      expect(equals(await collect(p.data.get(cidB)), b)).toBe(true)
    }
    expect(await peers[0].data.ls()).toEqual([])
    // a second rm has nothing of this peer's to release
    await expect(peers[0].data.rm(cidA)).rejects.toBeInstanceOf(NotPutHereError)
  })

  it('repair brings nothing released back, and a peer away during the rm catches up and drops its copies', async () => {
    await startSwarm(4, () => ({ repairIntervalMs: 400, gcIntervalMs: 0 }), peers)
    // the peer that goes away keeps its stores and key, as a device that is switched off
    const blockstore = new MemoryBlockstore()
    const datastore = new MemoryDatastore()
    const away = await startNode([addrOf(peers[0])])
    const awayData = new DataService(componentsOf(away, { blockstore, datastore }), { repairIntervalMs: 400, gcIntervalMs: 0 })
    await awayData.start()
    const awayPeer = { node: away.node, data: awayData }
    peers.push(awayPeer)
    await connectAll(peers)
    const content = random(40 * CHUNK)
    const cid = await peers[0].data.put(content, { chunkSize: CHUNK })
    const blocks = await blocksOf(peers[0], cid)
    const heldAway: CID[] = []
    for (const block of blocks) if (await awayData.hasLocal(block)) heldAway.push(block)
    expect(heldAway.length).toBeGreaterThan(0)

    await awayData.stop()
    await away.node.stop()
    peers.pop()
    await peers[0].data.rm(cid)
    const live = peers.slice()
    expect(await waitFor(async () => {
      for (const block of blocks) if (await holdersOf(block, live) > 0) return false
      return true
    }, 15_000, 200)).toBe(true)

    // back, with the same key and stores: it still holds its copies and a root record that says live
    const back = await startNode([addrOf(peers[0])], away.privateKey)
    const backData = new DataService(componentsOf(back, { blockstore, datastore }), { repairIntervalMs: 400, gcIntervalMs: 0 })
    await backData.start()
    peers.push({ node: back.node, data: backData })
    for (const block of heldAway) expect(await backData.hasLocal(block)).toBe(true)
    // it learns the release on connect and drops its copies; meanwhile repair (every 400 ms on
    // every peer) copies nothing back onto the others
    const until = Date.now() + 15_000
    let dropped = false
    while (Date.now() < until) {
      for (const block of blocks) expect(await holdersOf(block, live)).toBe(0)
      dropped = (await holdersOf(cid, [peers.at(-1) as TestPeer])) === 0 && (await Promise.all(heldAway.map(async b => backData.hasLocal(b)))).every(h => !h)
      if (dropped) break
      await sleep(200)
    }
    expect(dropped).toBe(true)
    await sleep(1500)
    for (const block of blocks) expect(await holdersOf(block, peers)).toBe(0)
    await expect(collect(backData.get(cid))).rejects.toBeInstanceOf(RemovedError)
  })
})
