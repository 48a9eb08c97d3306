/**
 * The gossipsub stream watchdog against a double of gossipsub's internals:
 * a peer counts as missing once, and only after the grace; repairs of one
 * check run together, and a slow check is never joined by a second one.
 */
import { describe, it, expect } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { Connection, PeerId } from '@libp2p/interface'
import { GossipStreamWatchdog } from '../../src/node/index.ts'

async function peerId (): Promise<PeerId> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
}

function connection (remotePeer: PeerId, ageMs: number): Connection {
  return { remotePeer, status: 'open', timeline: { open: Date.now() - ageMs } } as unknown as Connection
}

/** gossipsub's peers and outbound streams; stream opens resolve when `release` is called. */
function gossipsub (peers: PeerId[]): { peers: Map<string, PeerId>, streamsOutbound: Map<string, unknown>, opening: string[], release: () => void, createOutboundStream: (p: PeerId) => Promise<void> } {
  const waiting: Array<() => void> = []
  const g = {
    peers: new Map(peers.map(p => [p.toString(), p])),
    streamsOutbound: new Map<string, unknown>(),
    opening: [] as string[],
    release: () => { for (const fn of waiting.splice(0)) fn() },
    createOutboundStream: async (p: PeerId) => {
      g.opening.push(p.toString())
      await new Promise<void>(resolve => waiting.push(resolve))
      g.streamsOutbound.set(p.toString(), {})
    }
  }
  return g
}

describe('gossip stream watchdog', () => {
  it('counts a peer missing its outbound stream once, and only past the grace', async () => {
    const [old, young, served] = await Promise.all([peerId(), peerId(), peerId()])
    const g = gossipsub([old, young, served])
    g.streamsOutbound.set(served.toString(), {})
    const connections = [connection(old, 60_000), connection(old, 10), connection(young, 10), connection(served, 60_000)]
    const watchdog = new GossipStreamWatchdog({ services: { pubsub: g }, getConnections: () => connections } as never)
    expect(watchdog.missing()).toBe(1)

    const check = watchdog.check()
    const second = watchdog.check()
    await second
    await Promise.resolve()
    // one stream open for the old peer, on one of its connections, not for the young one
    expect(g.opening).toEqual([old.toString()])
    g.release()
    await check
    expect(watchdog.missing()).toBe(0)
    expect(watchdog.repaired).toBe(1)
  })

  it('repairs many peers in one check, GOSSIP_STREAM_REPAIR_CONCURRENCY (8) at a time', async () => {
    const peers = await Promise.all(Array.from({ length: 20 }, async () => await peerId()))
    const g = gossipsub(peers)
    const watchdog = new GossipStreamWatchdog({ services: { pubsub: g }, getConnections: () => peers.map(p => connection(p, 60_000)) } as never)
    expect(watchdog.missing()).toBe(20)
    const check = watchdog.check()
    await new Promise(resolve => setTimeout(resolve, 1))
    expect(g.opening).toHaveLength(8)
    // releases every group of opens as it starts until the check ends
    let done = false
    void check.then(() => { done = true })
    while (!done) {
      await new Promise(resolve => setTimeout(resolve, 1))
      g.release()
    }
    expect(new Set(g.opening).size).toBe(20)
    expect(watchdog.missing()).toBe(0)
    expect(watchdog.repaired).toBe(20)
  })
})
