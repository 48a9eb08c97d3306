/**
 * Placement, retrieval from every peer, and survival of lost holders with
 * repair, on 6 real peers over TCP on 127.0.0.1.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { equals } from 'uint8arrays/equals'
import { closestPeers, type DataService } from '../../src/data/index.ts'
import { collect, ids, random, sleep, startSwarm, stopAll, type TestPeer } from './helpers.ts'

const REPLICAS = 3
const REPAIR_MS = 1500

describe('data swarm (6 peers)', () => {
  const peers: TestPeer[] = []
  afterEach(async () => { await stopAll(peers) })

  async function holdersOf (cid: Parameters<DataService['hasLocal']>[0], among: TestPeer[]): Promise<string[]> {
    const out: string[] = []
    for (const p of among) if (await p.data.hasLocal(cid)) out.push(p.node.peerId.toString())
    return out.sort()
  }

  it('places every block on the 3 closest peers plus the putter, and every peer gets the file back', async () => {
    await startSwarm(6, () => ({ repairIntervalMs: 0 }), peers)
    const content = random(5 * 1024 * 1024)
    const putter = peers[1]
    const events: string[] = []
    let done: { underReplicated: boolean, minHolders: number } | undefined
    const cid = await putter.data.put(content, {
      replicas: REPLICAS,
      onProgress: ev => { events.push(ev.type); if (ev.type === 'done') done = ev }
    })
    expect(done?.underReplicated).toBe(false)
    expect(done?.minHolders).toBe(REPLICAS)
    expect(events.filter(e => e === 'shard')).toHaveLength(20)
    // any peer names the same content with the same CID, without storing or sending it
    expect((await peers[4].data.cidFor(content)).toString()).toBe(cid.toString())

    const manifest = await putter.data.manifest(cid)
    const all = peers.map(p => p.node.peerId)
    for (const block of [cid, ...manifest.shards.map(s => s.cid)]) {
      const expected = ids([...closestPeers(block, all, REPLICAS), putter.node.peerId].filter((p, i, a) => a.findIndex(q => q.equals(p)) === i))
      expect(await holdersOf(block, peers)).toEqual(expected)
    }
    for (const p of peers) {
      expect(equals(await collect(p.data.get(cid)), content)).toBe(true)
    }
    // one announcement per block: the putter's; the holders it pushed copies to do not announce them
    const shard = manifest.shards[7].cid
    const providersOf = async (): Promise<Set<string>> => {
      await Promise.all(peers.map(async p => p.data.whenProvided()))
      const found = new Set<string>()
      for await (const ev of peers[5].node.services.dht.findProviders(shard, { signal: AbortSignal.timeout(10_000) })) {
        if (ev.name === 'PROVIDER') for (const info of ev.providers) found.add(info.id.toString())
      }
      return found
    }
    const holders = (await holdersOf(shard, peers)).filter(h => h !== peers[5].node.peerId.toString())
    const putterId = putter.node.peerId.toString()
    expect(holders).toContain(putterId)
    const providers = await providersOf()
    expect([...providers].filter(p => holders.includes(p))).toEqual([putterId])
    // and a repair pass does not announce them again (the hourly reprovide does)
    await Promise.all(peers.map(async p => p.data.repairOnce()))
    expect([...await providersOf()].filter(p => holders.includes(p))).toEqual([putterId])
    // a byte range across a shard boundary
    const part = await collect(peers[4].data.get(cid, { offset: 256 * 1024 - 10, length: 300_000 }))
    expect(equals(part, content.subarray(256 * 1024 - 10, 256 * 1024 - 10 + 300_000))).toBe(true)
  })

  it('survives 2 lost holders of every block and repairs back to 3 live holders', async () => {
    await startSwarm(6, () => ({ repairIntervalMs: REPAIR_MS }), peers)
    const content = random(3 * 1024 * 1024)
    const putter = peers[0]
    const cid = await putter.data.put(content, { replicas: REPLICAS })
    const manifest = await putter.data.manifest(cid)
    const blocks = [cid, ...manifest.shards.map(s => s.cid)]
    // kill the putter and the peer holding most blocks: every block loses 2 of its holders at most
    const counts = await Promise.all(peers.slice(1).map(async p => {
      let n = 0
      for (const b of blocks) if (await p.data.hasLocal(b)) n++
      return n
    }))
    const victim = peers[1 + counts.indexOf(Math.max(...counts))]
    const heldBefore = await Promise.all(blocks.map(async b => await holdersOf(b, peers)))
    const killed = [putter, victim]
    const alive = peers.filter(p => !killed.includes(p))
    await Promise.all(killed.map(async p => { await p.data.stop(); await p.node.stop() }))
    const killedAt = Date.now()

    expect(equals(await collect(alive[0].data.get(cid)), content)).toBe(true)

    const live = alive.map(p => p.node.peerId)
    const restored = async (): Promise<boolean> => {
      for (const b of blocks) {
        let n = 0
        for (const p of alive) if (await p.data.hasLocal(b)) n++
        if (n < REPLICAS) return false
      }
      return true
    }
    while (!(await restored())) {
      if (Date.now() - killedAt > 2 * REPAIR_MS + 4000) break
      await sleep(100)
    }
    const elapsed = Date.now() - killedAt
    expect(await restored()).toBe(true)
    // the repair puts copies on the closest live peers
    for (const b of blocks) {
      const closest = ids(closestPeers(b, live, REPLICAS))
      const holders: string[] = []
      for (const p of alive) if (await p.data.hasLocal(b)) holders.push(p.node.peerId.toString())
      for (const c of closest) expect(holders).toContain(c)
    }
    // the putter is gone: the peers repair copied blocks to announce them (the put's holders did not)
    // (a repair pass still running may place a copy after the announcements drained: asked again then)
    let announcedCopies = 0
    const until = Date.now() + 2 * REPAIR_MS + 4000
    for (const [i, b] of blocks.entries()) {
      let copies: string[]
      let found: Set<string>
      do {
        await Promise.all(alive.map(async p => p.data.whenProvided()))
        copies = (await holdersOf(b, alive)).filter(h => !heldBefore[i].includes(h) && h !== alive[0].node.peerId.toString())
        found = new Set<string>()
        for await (const ev of alive[0].node.services.dht.findProviders(b, { signal: AbortSignal.timeout(10_000) })) {
          if (ev.name === 'PROVIDER') for (const info of ev.providers) found.add(info.id.toString())
        }
      } while (copies.some(c => !found.has(c)) && Date.now() < until)
      for (const c of copies) expect(found).toContain(c)
      announcedCopies += copies.length
    }
    expect(announcedCopies).toBeGreaterThan(0)
    expect(elapsed).toBeLessThan(2 * REPAIR_MS + 4000)
  })
})
