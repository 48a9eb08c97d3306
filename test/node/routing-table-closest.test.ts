/**
 * The routing table's closest peers, found in one pass and a sort, are the
 * peers kad-dht's own k-bucket finds, in the same order, for any table, key,
 * count and exclusion list; and a real peer's DHT uses them.
 */
import { afterAll, beforeAll, describe, it, expect } from 'vitest'
import fc from 'fast-check'
import { createHash } from 'node:crypto'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PeerId } from '@libp2p/interface'
import { closestContacts } from '../../src/node/routing-table-closest.ts'
import { createPeer, type EdgePeer } from '../../src/node/index.ts'

interface Contact { peerId: PeerId, kadId: Uint8Array }
type Closest = (this: { kBucketSize: number, toIterable: () => Iterable<Contact> }, key: Uint8Array, options?: { count?: number, exclude?: PeerId[] }) => Iterable<PeerId>

describe('routing table closest peers', () => {
  let node: EdgePeer | undefined
  const contacts: Contact[] = []

  beforeAll(async () => {
    node = await createPeer({ listen: ['/ip4/127.0.0.1/tcp/0'] })
    for (let i = 0; i < 120; i++) {
      const peerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
      // kad-dht's key of a peer: the sha256 of its multihash
      contacts.push({ peerId, kadId: createHash('sha256').update(peerId.toMultihash().bytes).digest() })
    }
  })
  afterAll(async () => { await node?.stop() })

  it('is kad-dht\'s own k-bucket answer, for random tables, keys, counts and exclusions', () => {
    const table = (node?.services.dht as unknown as { routingTable: { kb: object, closestPeers: unknown } }).routingTable
    // kad-dht's own k-bucket `closest`, called on a table of our choosing
    const original = (Object.getPrototypeOf(table.kb) as { closest: Closest }).closest
    expect(typeof original).toBe('function')
    // the wrapper is installed on the real peer's routing table
    expect(Object.hasOwn(table, 'closestPeers')).toBe(true)
    fc.assert(fc.property(
      fc.subarray(contacts.map((_, i) => i), { minLength: 0 }),
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.integer({ min: 1, max: 40 }),
      fc.array(fc.nat({ max: contacts.length - 1 }), { maxLength: 10 }),
      (members, key, count, excluded) => {
        const inTable = members.map(i => contacts[i])
        const exclude = excluded.map(i => contacts[i].peerId)
        const theirs = [...original.call({ kBucketSize: 20, toIterable: () => inTable }, key, { count, exclude })].map(String)
        const ours = closestContacts(inTable, key, count, exclude).map(String)
        expect(ours).toEqual(theirs)
        // and with kad-dht's default count (k)
        const theirsK = [...original.call({ kBucketSize: 20, toIterable: () => inTable }, key)].map(String)
        expect(closestContacts(inTable, key, 20).map(String)).toEqual(theirsK)
      }
    ), { numRuns: 300 })
  })
})
