/**
 * Random walks back off while they find nobody new: in a swarm smaller than
 * the walker's target every walk is a lookup that names only peers it is
 * connected to already. A lost connection brings the base interval back, and
 * a walk that names a new peer keeps it (and dials that peer).
 */
import { describe, it, expect, afterEach } from 'vitest'
import { PeerWalker, createPeer, type EdgePeer } from '../../src/node/index.ts'
import { waitFor } from '../helpers.ts'

const LOOPBACK = ['/ip4/127.0.0.1/tcp/0']
const BASE_MS = 100
const MAX_MS = 1_600

const routingTableSize = (p: EdgePeer): number => (p.services.dht as unknown as { routingTable: { size: number } }).routingTable.size

describe('peer walker', () => {
  const peers: EdgePeer[] = []
  const walkers: PeerWalker[] = []
  afterEach(async () => {
    for (const w of walkers.splice(0)) w.stop()
    await Promise.allSettled(peers.splice(0).map(async p => { await p.stop() }))
  })
  const peer = async (): Promise<EdgePeer> => {
    const p = await createPeer({ listen: LOOPBACK })
    peers.push(p)
    return p
  }

  it('walks less and less often while walks find nobody new, and at the base interval again after a lost connection', async () => {
    const swarm = await Promise.all(Array.from({ length: 4 }, async () => await peer()))
    await Promise.all(swarm.flatMap((a, i) => swarm.slice(i + 1).map(async b => { await a.dial(b.getMultiaddrs()[0], { signal: AbortSignal.timeout(5_000) }) })))
    expect(await waitFor(() => swarm.every(p => routingTableSize(p) >= 3), 10_000)).toBe(true)
    const [a, b] = swarm
    const walker = new PeerWalker(a, { targetPeers: 20, walkIntervalMs: BASE_MS, maxWalkIntervalMs: MAX_MS })
    walkers.push(walker)
    walker.start()
    // every peer a walk names is connected already: the wait doubles up to its cap
    expect(await waitFor(() => walker.walkIntervalNowMs === MAX_MS, 8_000)).toBe(true)
    const walks = walker.walks
    // at the base interval there would be ~16 walks in the next 1.6 s; at the cap, at most one or two
    await new Promise(resolve => setTimeout(resolve, MAX_MS))
    expect(walker.walks - walks).toBeLessThanOrEqual(2)

    // a newcomer that only b knows, and a lost connection: walks come at the base interval again,
    // one names the newcomer (b's routing table holds it) and a dials it
    const newcomer = await peer()
    await newcomer.dial(b.getMultiaddrs()[0], { signal: AbortSignal.timeout(5_000) })
    expect(await waitFor(() => routingTableSize(b) >= 4, 10_000)).toBe(true)
    await a.hangUp(swarm[2].peerId)
    expect(walker.walkIntervalNowMs).toBe(BASE_MS)
    expect(await waitFor(() => a.getConnections(newcomer.peerId).length > 0, 10_000)).toBe(true)
  })
})
