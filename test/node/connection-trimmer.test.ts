/**
 * A peer at its connection limit refuses every inbound connection, and
 * libp2p's pruner never closes connections that carry gossipsub streams (all
 * of edgeswarm's do): the trimmer keeps room below the limit, so newcomers can
 * join; and a peer left alone dials its bootstrap list again.
 */
import { describe, it, expect, afterEach } from 'vitest'
import { KEEP_ALIVE } from '@libp2p/interface'
import { ConnectionTrimmer, PeerWalker, createPeer, type EdgePeer } from '../../src/node/index.ts'
import { waterMarks } from '../../src/node/connection-trimmer.ts'
import { waitFor } from '../helpers.ts'

const LOOPBACK = ['/ip4/127.0.0.1/tcp/0']
const TOPIC = 'trimmer-test'
const BUSY = '/edgeswarm-test/busy/1.0.0'

describe('connection trimmer and redial when alone', () => {
  const peers: EdgePeer[] = []
  const stoppers: Array<{ stop: () => void }> = []
  afterEach(async () => {
    for (const s of stoppers.splice(0)) s.stop()
    await Promise.allSettled(peers.splice(0).map(async p => { await p.stop() }))
  })
  const peer = async (maxConnections = 100): Promise<EdgePeer> => {
    const p = await createPeer({ listen: LOOPBACK, maxConnections })
    peers.push(p)
    p.services.pubsub.subscribe(TOPIC)
    return p
  }
  /**
   * kad-dht tags its closest peers keep-alive, every 5 s: a trimmer spares a peer it
   * tagged, and libp2p redials a peer it tagged as soon as the other side closes. In
   * a swarm of five every peer is among everyone's closest, so the tags are waited
   * for and removed (kad-dht tags a peer once), and the connections are the test's own.
   */
  const untagKeepAlive = async (a: EdgePeer, b: EdgePeer): Promise<void> => {
    const names = async (): Promise<string[]> => [...(await a.peerStore.get(b.peerId)).tags.keys()].filter(k => k.startsWith(KEEP_ALIVE))
    await waitFor(async () => (await names()).length > 0, 8_000)
    await a.peerStore.merge(b.peerId, { tags: Object.fromEntries((await names()).map(n => [n, undefined])) })
  }
  const hasGossipStreams = (from: EdgePeer, to: EdgePeer): boolean =>
    from.getConnections(to.peerId).some(c => c.streams.some(s => s.protocol?.startsWith('/meshsub/') === true))

  it('marks: trimming starts about a tenth below the limit and stops a tenth lower, never below the target', () => {
    expect(waterMarks(40, 8)).toEqual({ high: 36, low: 32 })
    expect(waterMarks(4, 1)).toEqual({ high: 3, low: 2 })
    expect(waterMarks(10, 12)).toEqual({ high: 12, low: 12 })
  })

  it('a full peer makes room for a newcomer, sparing connections with exchanges in flight', async () => {
    const hub = await peer(4)
    // the hub holds one stream of a short exchange open with the first member
    await hub.handle(BUSY, () => {})
    const members = [await peer(), await peer(), await peer(), await peer()]
    for (const m of members) await m.dial(hub.getMultiaddrs()[0], { signal: AbortSignal.timeout(5000) })
    expect(await waitFor(() => members.every(m => hasGossipStreams(hub, m)))).toBe(true)
    await members[0].dialProtocol(hub.peerId, BUSY, { signal: AbortSignal.timeout(5000) })
    expect(hub.getConnections()).toHaveLength(4)

    // at its limit the hub refuses a newcomer
    const newcomer = await peer()
    await expect(newcomer.dial(hub.getMultiaddrs()[0], { signal: AbortSignal.timeout(5000) })).rejects.toThrow()

    await Promise.all(members.flatMap(m => [untagKeepAlive(hub, m), untagKeepAlive(m, hub)]))
    const trimmer = new ConnectionTrimmer(hub, { maxConnections: 4, targetPeers: 1, intervalMs: 100, graceMs: 300 })
    stoppers.push(trimmer)
    trimmer.start()
    expect(await waitFor(() => hub.getConnections().length <= 2)).toBe(true)
    expect(trimmer.closed).toBe(2)
    // the busy connection is one of those kept
    expect(hub.getConnections(members[0].peerId)).toHaveLength(1)

    await newcomer.dial(hub.getMultiaddrs()[0], { signal: AbortSignal.timeout(5000) })
    expect(await waitFor(() => hub.getPeers().some(p => p.equals(newcomer.peerId)))).toBe(true)
    // within its grace period the newcomer is not trimmed again
    await new Promise(resolve => setTimeout(resolve, 250))
    expect(hub.getPeers().map(String)).toContain(newcomer.peerId.toString())
  })

  it('a peer whose bootstrap dials were refused dials them again until one is accepted', async () => {
    const hub = await peer(1)
    const member = await peer()
    await member.dial(hub.getMultiaddrs()[0], { signal: AbortSignal.timeout(5000) })
    expect(await waitFor(() => hasGossipStreams(hub, member))).toBe(true)

    const alone = await peer()
    const walker = new PeerWalker(alone, { targetPeers: 4, bootstrap: [hub.getMultiaddrs()[0].toString()], redialMs: 100 })
    stoppers.push(walker)
    walker.start()
    // refused while the hub is full: still alone after several redials
    expect(await waitFor(() => walker.redials >= 3)).toBe(true)
    expect(alone.getPeers()).toHaveLength(0)

    // room at the hub: the next redial gets in, with nobody dialling by hand
    await hub.hangUp(member.peerId)
    expect(await waitFor(() => alone.getPeers().some(p => p.equals(hub.peerId)))).toBe(true)
    const redials = walker.redials
    await new Promise(resolve => setTimeout(resolve, 300))
    expect(walker.redials).toBe(redials)
  })
})
