/**
 * Many devices behind one IP: 50 real peers on 127.0.0.1. Without the
 * gossipsub colocation fix and a raised per-host dial rate, gossip stops
 * arriving and bootstrap dials are reset.
 */
import { describe, it, expect } from 'vitest'
import { useCleanup, addrOf, waitFor } from '../helpers.ts'
import type { EdgeNode } from '../../src/index.ts'

const PEERS = 50
const TOPIC = 'edgeswarm/test/scale'

describe('50 peers on one IP', () => {
  const t = useCleanup()

  it('all connect, and a gossip message reaches every peer', async () => {
    const seeds = [await t.node()]
    seeds.push(await t.node({ bootstrap: [addrOf(seeds[0])] }))
    const nodes: EdgeNode[] = [...seeds]
    // start the rest in parallel batches: bursts of inbound dials from one host
    for (let i = nodes.length; i < PEERS; i += 12) {
      const batch = await Promise.all(Array.from({ length: Math.min(12, PEERS - i) }, (_, j) =>
        t.node({ bootstrap: [addrOf(seeds[(i + j) % seeds.length])] })))
      nodes.push(...batch)
    }
    expect(nodes).toHaveLength(PEERS)
    // nobody was left alone by refused dials
    // (a bound for a loaded 2-core machine: 50 peers start in one process, beside other test files)
    const connected = await waitFor(() => nodes.every(n => n.peers().length >= 2), 90_000, 200)
    expect(connected, `peers with fewer than 2 connections: ${nodes.filter(n => n.peers().length < 2).map(n => `${n.peerId.toString().slice(-6)} (${n.peers().length})`).join(', ')}`).toBe(true)

    const received = new Set<string>()
    for (const n of nodes) {
      n.libp2p.services.pubsub.subscribe(TOPIC)
      n.libp2p.services.pubsub.addEventListener('message', (evt) => {
        if (evt.detail.topic === TOPIC) received.add(n.peerId.toString())
      })
    }
    // let meshes form over a few heartbeats
    expect(await waitFor(() => nodes.every(n => n.libp2p.services.pubsub.getSubscribers(TOPIC).length > 0), 20_000, 200)).toBe(true)
    // every peer can send to all its gossip peers (failed stream opens repaired by the watchdog)
    expect(await waitFor(() => nodes.every(n => n.watchdog.missing() === 0), 30_000, 200)).toBe(true)
    // and every peer is in a mesh for the topic (meshes form at heartbeats)
    expect(await waitFor(() => nodes.every(n => (n.libp2p.services.pubsub as unknown as { getMeshPeers: (topic: string) => string[] }).getMeshPeers(TOPIC).length > 0), 30_000, 200)).toBe(true)
    const publisher = nodes[PEERS - 1]
    const start = Date.now()
    await publisher.libp2p.services.pubsub.publish(TOPIC, new TextEncoder().encode('hello swarm'))
    const others = nodes.filter(n => n !== publisher).map(n => n.peerId.toString())
    const all = await waitFor(() => others.every(id => received.has(id)), 15_000)
    expect(received.size, `received by ${received.size} of ${others.length}`).toBe(others.length)
    expect(all).toBe(true)
    expect(Date.now() - start).toBeLessThan(15_000)
  }, 240_000)
})
