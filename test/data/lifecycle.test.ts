/**
 * Delete and collect on real peers over TCP on 127.0.0.1: `rm` makes every
 * holder drop a root's blocks that no other live root needs and `get` say it
 * was removed; repair brings nothing released back, and a peer that was away
 * during the rm catches up and drops its copies too; orphans of an
 * interrupted put go once the grace has passed, not before; pins keep what
 * the layer above holds; `ls` and `ls --all`; `stat` answers with the real
 * holders.
 */
import { MemoryBlockstore } from 'blockstore-core/memory'
import { MemoryDatastore } from 'datastore-core'
import type { CID } from 'multiformats/cid'
import { concat } from 'uint8arrays/concat'
import { equals } from 'uint8arrays/equals'
import { afterEach, describe, expect, it } from 'vitest'
import { DataService, RemovedError, NotPutHereError, type Pins } from '../../src/data/index.ts'
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

describe('delete and collect', () => {
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

  it('collects the orphans of an interrupted put once the grace has passed, never a live file', async () => {
    const graceMs = 2000
    await startSwarm(3, () => ({ repairIntervalMs: 0, gcIntervalMs: 0, gcGraceMs: graceMs }), peers)
    const kept = random(8 * CHUNK)
    const keptCid = await peers[0].data.put(kept, { chunkSize: CHUNK })
    const stopped = new AbortController()
    const orphans: string[] = []
    await expect(peers[0].data.put(random(64 * CHUNK), {
      chunkSize: CHUNK,
      signal: stopped.signal,
      onProgress: ev => { if (ev.type === 'shard') { orphans.push(ev.cid); if (orphans.length === 5) stopped.abort() } }
    })).rejects.toThrow()
    const held = async (): Promise<number> => {
      let n = 0
      for (const p of peers) for (const s of orphans) if (await p.data.hasLocal(s)) n++
      return n
    }
    expect(await held()).toBeGreaterThan(0)
    // within the grace: kept (a put may still be running)
    for (const p of peers) expect((await p.data.gc()).byReason.orphan.blocks).toBe(0)
    expect(await held()).toBeGreaterThan(0)
    const listed = await peers[1].data.lsAll()
    expect(listed.held.some(g => g.reason === 'grace')).toBe(true)
    await sleep(graceMs + 200)
    let collected = 0
    for (const p of peers) collected += (await p.data.gc()).byReason.orphan.blocks
    expect(collected).toBeGreaterThan(0)
    expect(await held()).toBe(0)
    for (const p of peers) expect(equals(await collect(p.data.get(keptCid)), kept)).toBe(true)
  })

  it('pins keep the blocks the layer above holds; without pins, blocks outside puts are never collected', async () => {
    const graceMs = 300
    const pinned = new Set<string>()
    const pins: Pins = { isPinned: cid => pinned.has(cid.toString()) }
    await startSwarm(2, () => ({ repairIntervalMs: 0, gcIntervalMs: 0, gcGraceMs: graceMs }), peers, i => i === 0 ? { pins } : {})
    const [withPins, without] = peers
    const keep = await withPins.data.keepBlock(random(1000))
    const drop = await withPins.data.keepBlock(random(1000))
    const untracked = await without.data.keepBlock(random(1000))
    pinned.add(keep.toString())
    expect((await withPins.data.gc()).blocks).toBe(0)
    await sleep(graceMs + 100)
    const report = await withPins.data.gc()
    expect(report.byReason.unpinned).toEqual({ blocks: 1, bytes: 1000 })
    expect(await withPins.data.hasLocal(keep)).toBe(true)
    expect(await withPins.data.hasLocal(drop)).toBe(false)
    expect((await without.data.gc()).blocks).toBe(0)
    expect(await without.data.hasLocal(untracked)).toBe(true)
    expect((await without.data.lsAll()).held).toEqual([{ reason: 'untracked', root: null, putter: null, forOthers: false, blocks: 1, bytes: 1000 }])
  })

  it('ls lists the files this peer put, by name; ls --all says what it holds for whom and why', async () => {
    await startSwarm(3, () => ({ repairIntervalMs: 0, gcIntervalMs: 0 }), peers)
    const [putter, holder] = peers
    const named = await putter.data.put(random(3 * CHUNK), { chunkSize: CHUNK, name: 'readings.csv' })
    const unnamed = await putter.data.put(random(CHUNK), { chunkSize: CHUNK })
    // a block of the layers above (a job document, a result): not one of the user's files
    await putter.data.put(random(100), { listed: false })
    const listing = await putter.data.ls()
    expect(listing.map(r => ({ cid: r.cid, name: r.name, shards: r.shards, size: r.size }))).toEqual([
      { cid: named.toString(), name: 'readings.csv', shards: 3, size: 3 * CHUNK },
      { cid: unnamed.toString(), name: null, shards: 1, size: CHUNK }
    ])
    // every block held for others belongs to a live root once the root records have arrived
    expect(await waitFor(async () => (await holder.data.lsAll()).held.every(g => g.reason === 'root' && g.forOthers), 10_000, 100)).toBe(true)
    const all = await holder.data.lsAll()
    expect(all.roots).toEqual([])
    const putterId = putter.node.peerId.toString()
    const ofNamed = all.held.find(g => g.root === named.toString())
    expect(ofNamed).toMatchObject({ reason: 'root', putter: putterId, forOthers: true })
    expect(ofNamed?.blocks).toBe(await holdersOfRoot(holder, named))
    const own = await putter.data.lsAll()
    expect(own.held.find(g => g.root === named.toString())).toMatchObject({ reason: 'root', forOthers: false, blocks: 4, bytes: expect.any(Number) })
  })

  it('stat names exactly the peers that hold each block, asked in batches', async () => {
    await startSwarm(5, () => ({ repairIntervalMs: 0, gcIntervalMs: 0 }), peers)
    const cid = await peers[0].data.put(random(150 * 4096), { chunkSize: 4096 })
    const progress: number[] = []
    const stat = await peers[3].data.stat(cid, { onProgress: p => { progress.push(p.checked / p.total) } })
    expect(stat.shards).toHaveLength(150)
    expect(progress.at(-1)).toBe(1)
    const truth = async (block: CID | string): Promise<string[]> => {
      const out: string[] = []
      for (const p of peers) if (await p.data.hasLocal(block)) out.push(p.node.peerId.toString())
      return out.sort()
    }
    expect([...stat.rootHolders].sort()).toEqual(await truth(cid))
    for (const s of stat.shards) expect([...s.holders].sort()).toEqual(await truth(s.cid))
    expect(stat.underReplicated).toBe(false)
  })
})

async function holdersOfRoot (peer: TestPeer, root: CID): Promise<number> {
  let n = 0
  for (const block of await blocksOf(peer, root)) if (await peer.data.hasLocal(block)) n++
  return n
}
