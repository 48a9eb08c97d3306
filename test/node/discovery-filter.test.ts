/**
 * The peers DHT answers name are announced (to kad-dht's routing table and
 * libp2p's peer store) once per peer and address set per TTL; a peer with
 * new addresses passes at once. Other events pass untouched.
 */
import { describe, it, expect } from 'vitest'
import { peerDiscoverySymbol } from '@libp2p/interface'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { withDiscoveryFilter } from '../../src/node/discovery-filter.ts'
import { createPeer } from '../../src/node/index.ts'

class FakeDiscoveryService extends EventTarget {
  get [peerDiscoverySymbol] (): EventTarget { return this }
}

describe('discovery filter', () => {
  it('passes a peer once per TTL, again with new addresses or after the TTL', async () => {
    const service = withDiscoveryFilter(() => new FakeDiscoveryService(), 200)({})
    const filtered = (service as unknown as Record<symbol, EventTarget>)[peerDiscoverySymbol]
    expect(filtered).not.toBe(service)
    const seen: string[] = []
    filtered.addEventListener('peer', (evt) => { seen.push((evt as CustomEvent<{ multiaddrs: unknown[] }>).detail.multiaddrs.map(String).join()) })
    const id = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const a = [multiaddr('/ip4/127.0.0.1/tcp/4001')]
    const b = [multiaddr('/ip4/127.0.0.1/tcp/4002')]
    const report = (multiaddrs: typeof a): void => { service.dispatchEvent(new CustomEvent('peer', { detail: { id, multiaddrs } })) }
    for (let i = 0; i < 50; i++) report(a)
    expect(seen).toEqual(['/ip4/127.0.0.1/tcp/4001'])
    report(b)
    expect(seen).toHaveLength(2)
    await new Promise(resolve => setTimeout(resolve, 250))
    report(a)
    expect(seen).toHaveLength(3)
  })

  it('thins the announcements of kad-dht\'s network layer, and nothing else it dispatches', async () => {
    const announced: string[] = []
    const network = { safeDispatchEvent: (type: string, init?: { detail?: unknown }): boolean => { announced.push(type); void init; return true } }
    const service = withDiscoveryFilter(() => ({ network }), 60_000)({})
    const id = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const multiaddrs = [multiaddr('/ip4/127.0.0.1/tcp/4001')]
    for (let i = 0; i < 20; i++) service.network.safeDispatchEvent('peer', { detail: { id, multiaddrs } })
    service.network.safeDispatchEvent('other', { detail: { id, multiaddrs } })
    service.network.safeDispatchEvent('other', { detail: { id, multiaddrs } })
    expect(announced).toEqual(['peer', 'other', 'other'])
  })

  it('is wired into the real kad-dht of a peer (at its network layer)', async () => {
    const node = await createPeer({ listen: ['/ip4/127.0.0.1/tcp/0'] })
    try {
      const network = (node.services.dht as unknown as { network: { safeDispatchEvent: unknown } }).network
      expect(Object.prototype.hasOwnProperty.call(network, 'safeDispatchEvent')).toBe(true)
    } finally {
      await node.stop()
    }
  })
})
