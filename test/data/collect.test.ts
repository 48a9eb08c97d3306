/**
 * Garbage, listings and stat on real peers over TCP on 127.0.0.1: orphans of
 * an interrupted put go once the grace has passed, not before; pins keep
 * what the layer above holds; `ls` and `ls --all`; `stat` answers with the
 * real holders.
 */
import type { CID } from 'multiformats/cid'
import { equals } from 'uint8arrays/equals'
import { afterEach, describe, expect, it } from 'vitest'
import type { Pins } from '../../src/data/index.ts'
import { waitFor } from '../helpers.ts'
import { collect, random, sleep, startSwarm, stopAll, type TestPeer } from './helpers.ts'

const CHUNK = 16 * 1024

async function blocksOf (peer: TestPeer, root: CID): Promise<CID[]> {
  return [root, ...(await peer.data.manifest(root)).shards.map(s => s.cid)]
}

describe('collect, list and stat', () => {
  const peers: TestPeer[] = []
  afterEach(async () => { await stopAll(peers) })

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
