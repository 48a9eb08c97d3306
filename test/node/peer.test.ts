import { describe, it, expect } from 'vitest'
import { generateSwarmKey, type EdgeNode } from '../../src/index.ts'
import { useCleanup, addrOf, waitFor } from '../helpers.ts'

describe('edge peers over TCP on 127.0.0.1', () => {
  const t = useCleanup()

  it('a peer that bootstrapped only to A finds B through the DHT', async () => {
    const a = await t.node()
    const b = await t.node({ bootstrap: [addrOf(a)] })
    await waitFor(() => a.peers().length >= 1)
    const c = await t.node({ bootstrap: [addrOf(a)] })
    await waitFor(() => c.peers().some(p => p.id === a.peerId.toString()))

    // a DHT lookup from C resolves B's addresses although C was never told of B
    const found = await c.libp2p.peerRouting.findPeer(b.peerId, { signal: AbortSignal.timeout(10_000) })
    expect(found.id.toString()).toBe(b.peerId.toString())
    expect(found.multiaddrs.map(String)).toContain(addrOf(b).replace(/\/p2p\/.*/, ''))
    // and discovery connects them without anyone dialling B by hand
    expect(await waitFor(() => c.peers().some(p => p.id === b.peerId.toString()), 15_000)).toBe(true)
  })

  it('with a swarm key, only peers holding the same key can connect', async () => {
    const key = generateSwarmKey()
    const a = await t.node({ swarmKey: key })
    const b = await t.node({ swarmKey: key })
    await b.libp2p.dial(a.multiaddrs[0], { signal: AbortSignal.timeout(5000) })
    expect(b.peers().map(p => p.id)).toContain(a.peerId.toString())

    const outsider = await t.node()
    await expect(outsider.libp2p.dial(a.multiaddrs[0], { signal: AbortSignal.timeout(5000) })).rejects.toThrow()
    const otherKey = await t.node({ swarmKey: generateSwarmKey() })
    await expect(otherKey.libp2p.dial(a.multiaddrs[0], { signal: AbortSignal.timeout(5000) })).rejects.toThrow()
    // the reverse direction is gated too: A cannot reach into a peer without the key
    await expect(a.libp2p.dial(outsider.multiaddrs[0], { signal: AbortSignal.timeout(5000) })).rejects.toThrow()
    expect(a.peers().map(p => p.id)).toEqual([b.peerId.toString()])
  })

  it('with gossipLazyPeers 0 a peer sends no IHAVE gossip; by default it does', async () => {
    // gossipsub's emission step, the one its heartbeat runs: to which of the given
    // non-mesh peers it queues an IHAVE list of the given message ids
    interface GossipInternals {
      doEmitGossip: (topic: string, peers: Set<string>, ids: Uint8Array[]) => void
      gossip: Map<string, unknown>
    }
    const quiet = await t.node({ gossipLazyPeers: 0 })
    const chatty = await t.node()
    const other = await t.node()
    const ids = [new Uint8Array(32).fill(7)]
    for (const n of [quiet, chatty]) {
      const gs = n.libp2p.services.pubsub as unknown as GossipInternals
      gs.doEmitGossip('t', new Set([other.peerId.toString()]), ids.slice())
    }
    expect((chatty.libp2p.services.pubsub as unknown as GossipInternals).gossip.has(other.peerId.toString())).toBe(true)
    expect((quiet.libp2p.services.pubsub as unknown as GossipInternals).gossip.size).toBe(0)
    await expect(t.node({ gossipLazyPeers: -1 })).rejects.toThrow(/gossipLazyPeers/)
    await expect(t.node({ gossipLazyPeers: 1.5 })).rejects.toThrow(/gossipLazyPeers/)
  })

  it('a longer connection set-up limit still connects; a bad one is refused', async () => {
    const a = await t.node({ handshakeTimeoutMs: 60_000 })
    const b = await t.node({ handshakeTimeoutMs: 60_000 })
    await b.libp2p.dial(a.multiaddrs[0], { signal: AbortSignal.timeout(5000) })
    expect(b.peers().map(p => p.id)).toContain(a.peerId.toString())
    await expect(t.node({ handshakeTimeoutMs: 0 })).rejects.toThrow(/handshakeTimeoutMs/)
    await expect(t.node({ handshakeTimeoutMs: 2.5 })).rejects.toThrow(/handshakeTimeoutMs/)
  })

  it('with gossipMeshDegree 1 a fully connected swarm keeps meshes of 1-2 peers and every message still reaches every peer', async () => {
    const topic = 'edgeswarm-test/mesh'
    interface MeshInternals { mesh: Map<string, Set<string>> }
    const meshOf = (n: EdgeNode): number => (n.libp2p.services.pubsub as unknown as MeshInternals).mesh.get(topic)?.size ?? 0
    const start = async (options: { gossipMeshDegree?: number }): Promise<EdgeNode[]> => {
      const nodes = await Promise.all(Array.from({ length: 6 }, async () => await t.node(options)))
      await Promise.all(nodes.flatMap((a, i) => nodes.slice(i + 1).map(async b => { await a.libp2p.dial(b.multiaddrs[0]) })))
      for (const n of nodes) n.libp2p.services.pubsub.subscribe(topic)
      // meshes form at gossipsub's heartbeats (1 s)
      expect(await waitFor(() => nodes.every(n => n.libp2p.services.pubsub.getSubscribers(topic).length === 5 && meshOf(n) >= 1), 10_000)).toBe(true)
      return nodes
    }
    const lean = await start({ gossipMeshDegree: 1 })
    const full = await start({})
    // a GRAFT from an outbound peer is accepted above the high mark until the next heartbeat
    // prunes back, so the meshes are checked once heartbeats have settled them, not at one instant
    // (20 s: on a loaded machine heartbeats come late)
    expect(await waitFor(() => lean.map(meshOf).every(m => m >= 1 && m <= 2), 20_000)).toBe(true)
    // gossipsub's own degree meshes a 6-peer swarm with (nearly) everyone
    expect(await waitFor(() => full.map(meshOf).every(m => m >= 4), 20_000)).toBe(true)

    let received = 0
    for (const n of lean.slice(1)) {
      n.libp2p.services.pubsub.addEventListener('message', (evt) => { if (evt.detail.topic === topic) received++ })
    }
    for (let i = 0; i < 10; i++) await lean[0].libp2p.services.pubsub.publish(topic, new TextEncoder().encode(`fact ${i}`))
    expect(await waitFor(() => received === 50, 5_000)).toBe(true)

    await expect(t.node({ gossipMeshDegree: 0 })).rejects.toThrow(/gossipMeshDegree/)
    await expect(t.node({ gossipMeshDegree: 1.5 })).rejects.toThrow(/gossipMeshDegree/)
    await expect(t.node({ gossipMeshDegree: 1000 })).rejects.toThrow(/gossipMeshDegree/)
  }, 60_000)
})
