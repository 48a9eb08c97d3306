/**
 * A holder serving corrupted bytes is detected; under-replication is reported
 * and topped up when a peer joins; a block placed off its closest peers moves
 * onto them when it is announced; a single peer with blockstore-level keeps
 * its data across a restart and serves it offline.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LevelBlockstore } from 'blockstore-level'
import { LevelDatastore } from 'datastore-level'
import { afterEach, describe, expect, it } from 'vitest'
import { equals } from 'uint8arrays/equals'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { DataService, NotFoundError, closestPeers, type ShardServer } from '../../src/data/index.ts'
import { cidOf } from '../../src/data/blocks.ts'
import { addrOf, collect, componentsOf, connectAll, random, sleep, startNode, startPeer, startSwarm, stopAll, type TestPeer } from './helpers.ts'

/** A holder that serves every block with its first byte flipped, and otherwise behaves as `server`. */
function corrupting (server: ShardServer): ShardServer {
  return {
    has: async (cid) => server.has(cid),
    hasMany: async (cids) => server.hasMany(cids),
    read: async (cid) => {
      const bytes = await server.read(cid)
      if (bytes == null || bytes.byteLength === 0) return bytes
      const bad = bytes.slice()
      bad[0] ^= 0xff
      return bad
    },
    admit: async (req, remotePeer) => server.admit(req, remotePeer),
    accept: async (req, bytes, remotePeer) => server.accept(req, bytes, remotePeer),
    onError: (err, remotePeer) => { server.onError?.(err, remotePeer) }
  }
}

describe('data faults', () => {
  const peers: TestPeer[] = []
  const dirs: string[] = []
  afterEach(async () => {
    await stopAll(peers)
    await Promise.all(dirs.splice(0).map(async d => rm(d, { recursive: true, force: true })))
  })

  it('detects a holder that serves corrupted bytes and still returns the file', async () => {
    // peer 3 corrupts everything it serves
    await startSwarm(5, () => ({ repairIntervalMs: 0 }), peers, i => i === 3 ? { shardServer: corrupting } : {})
    const content = random(2 * 1024 * 1024)
    // 128 shards: with random peer ids some reader is then (almost surely, ~1e-6 otherwise) one
    // for which the corrupt peer is the first holder it asks
    const cid = await peers[0].data.put(content, { replicas: 3, chunkSize: 16 * 1024 })
    const corrupt = peers[3].node.peerId
    const manifest = await peers[0].data.manifest(cid)
    const all = peers.map(p => p.node.peerId)
    // a reader that lacks some shard for which the corrupt peer is the first peer it asks (the closest other peer)
    const reader = peers.find((p, i) => i !== 0 && i !== 3 && manifest.shards.some(s =>
      !closestPeers(s.cid, all, 3).some(q => q.equals(p.node.peerId)) &&
      closestPeers(s.cid, all.filter(q => !q.equals(p.node.peerId)), 1)[0].equals(corrupt)))
    expect(reader).toBeDefined()
    if (reader == null) return
    const got = await collect(reader.data.get(cid))
    expect(equals(got, content)).toBe(true)
    expect([...reader.data.metrics.badPeers]).toEqual([corrupt.toString()])
    // and a second read does not ask it again
    const before = peers[3].data.metrics.bytesSent
    expect(equals(await collect(reader.data.get(cid)), content)).toBe(true)
    expect(peers[3].data.metrics.bytesSent).toBe(before)
  })

  it('reports under-replication with 2 peers and tops up when a third joins', async () => {
    await startSwarm(2, () => ({ repairIntervalMs: 500 }), peers)
    const content = random(600 * 1024)
    let done: { underReplicated: boolean, minHolders: number } | undefined
    const cid = await peers[0].data.put(content, { replicas: 3, onProgress: ev => { if (ev.type === 'done') done = ev } })
    expect(done).toMatchObject({ underReplicated: true, minHolders: 2 })
    const stat = await peers[0].data.stat(cid)
    expect(stat.underReplicated).toBe(true)
    expect(stat.shards).toHaveLength(3)
    for (const s of stat.shards) expect(s.holders).toHaveLength(2)

    const third = await startPeer({ repairIntervalMs: 500 }, [addrOf(peers[0])])
    peers.push(third)
    await connectAll(peers)
    const blocks = [cid, ...(await peers[0].data.manifest(cid)).shards.map(s => s.cid)]
    const deadline = Date.now() + 5000
    let held = 0
    while (Date.now() < deadline) {
      held = 0
      for (const b of blocks) if (await third.data.hasLocal(b)) held++
      if (held === blocks.length) break
      await sleep(100)
    }
    expect(held).toBe(blocks.length)
    const after = await peers[1].data.stat(cid)
    expect(after.underReplicated).toBe(false)
    for (const s of after.shards) expect(s.holders).toHaveLength(3)
    const stats = await third.data.localStats()
    expect(stats.shards).toBe(blocks.length)
    expect(stats.bytesForOthers).toBe(stats.bytes)
    expect(stats.bytes).toBeGreaterThan(content.byteLength)
  })

  it('moves a block its putter placed off its closest peers onto them when it announces it', async () => {
    // repair off: only the announcement's own lookup can correct the placement
    const putter = await startPeer({ repairIntervalMs: 0, reprovideIntervalMs: 500 })
    peers.push(putter)
    const others = [await startPeer({ repairIntervalMs: 0 }), await startPeer({ repairIntervalMs: 0 }), await startPeer({ repairIntervalMs: 0 }), await startPeer({ repairIntervalMs: 0 })]
    peers.push(...others)
    // a block whose 2 closest peers are both others, not the putter (each draw qualifies with
    // probability 3/5: 100 draws all failing is ~1e-40)
    const all = peers.map(p => p.node.peerId)
    let content = random(4096)
    const closest = (): string[] => closestPeers(cidOf(content), all, 2).map(String)
    for (let i = 0; i < 100 && closest().includes(putter.node.peerId.toString()); i++) content = random(4096)
    expect(closest()).not.toContain(putter.node.peerId.toString())
    // put alone: the putter's view is itself, so it holds the only copy
    const cid = await putter.data.put(content, { replicas: 2 })
    const shard = (await putter.data.manifest(cid)).shards[0].cid
    expect(shard.toString()).toBe(cidOf(content).toString())
    for (const o of others) expect(await o.data.hasLocal(shard)).toBe(false)

    await connectAll(peers)
    // the putter's next announcement (every 500 ms) looks the block up and pushes it to its 2 closest peers
    const holders = async (): Promise<string[]> => {
      const out: string[] = []
      for (const o of others) if (await o.data.hasLocal(shard)) out.push(o.node.peerId.toString())
      return out.sort()
    }
    const deadline = Date.now() + 10_000
    while (Date.now() < deadline && (await holders()).length < 2) await sleep(100)
    expect(await holders()).toEqual(closest().sort())
  })

  it('keeps data across a restart with blockstore-level and serves it offline', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'edgeswarm-data-'))
    dirs.push(dir)
    const content = random(700 * 1024 + 123)
    const privateKey = await generateKeyPair('Ed25519')
    const open = async (): Promise<TestPeer> => {
      const blockstore = new LevelBlockstore(join(dir, 'blocks'))
      await blockstore.open()
      const datastore = new LevelDatastore(join(dir, 'datastore'))
      await datastore.open()
      const started = await startNode([], privateKey)
      const node = started.node
      const data = new DataService(componentsOf(started, { blockstore, datastore }), { chunkSize: 64 * 1024 })
      await data.start()
      const peer = { node, data }
      const stop = node.stop.bind(node)
      node.stop = async () => { await stop(); await blockstore.close(); await datastore.close() }
      return peer
    }
    const first = await open()
    peers.push(first)
    const cid = await first.data.put(content)
    expect((await first.data.ls()).map(r => r.cid)).toEqual([cid.toString()])
    await stopAll(peers)

    const second = await open()
    peers.push(second)
    expect(equals(await collect(second.data.get(cid)), content)).toBe(true)
    expect(await second.data.ls()).toMatchObject([{ cid: cid.toString(), size: content.byteLength, shards: 11 }])
    expect(await second.data.localStats()).toMatchObject({ shards: 12, bytesForOthers: 0 })
  })

  it('ends an unknown CID with NotFoundError, not a hang', async () => {
    await startSwarm(2, () => ({ repairIntervalMs: 0 }), peers)
    const cid = (await import('../../src/data/index.ts')).cidOf(random(100))
    const started = Date.now()
    const err = await peers[0].data.getShard(cid).then(() => undefined, (e: unknown) => e)
    expect(err).toBeInstanceOf(NotFoundError)
    // the other peer answered that it has none: the swarm was searched
    expect((err as NotFoundError).searched).toBe(true)
    expect(Date.now() - started).toBeLessThan(15_000)
  })

  it('a miss of a peer that could not search says so (searched: false)', async () => {
    await startSwarm(1, () => ({ repairIntervalMs: 0 }), peers)
    const cid = (await import('../../src/data/index.ts')).cidOf(random(100))
    const err = await peers[0].data.getShard(cid).then(() => undefined, (e: unknown) => e)
    expect(err).toBeInstanceOf(NotFoundError)
    expect((err as NotFoundError).searched).toBe(false)
  })
})
