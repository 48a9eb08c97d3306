/**
 * The DHT's discovery reports reach libp2p's peer store once per peer and
 * address set per TTL; a peer with new addresses passes at once.
 */
import { describe, it, expect } from 'vitest'
import { peerDiscoverySymbol } from '@libp2p/interface'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { withDiscoveryFilter } from '../../src/node/discovery-filter.ts'

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
})
