/**
 * The record store's liveness rule and bound, on signed records of real keys over a real
 * in-memory datastore: a put is live until its author releases its root; a root with
 * several puts (of one author or of two) stays live while any is; the bound forgets the
 * oldest released roots first, and a store reloaded from its datastore says the same.
 */
import { describe, expect, it } from 'vitest'
import { MemoryDatastore } from 'datastore-core'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { logger } from '@libp2p/logger'
import type { PrivateKey } from '@libp2p/interface'
import { cidOf } from '../../src/data/index.ts'
import { DAG_CBOR_CODE } from '../../src/data/blocks.ts'
import { RecordStore } from '../../src/data/record-store.ts'
import { signRecord, type SignedRecord } from '../../src/data/records.ts'

interface Author { key: PrivateKey, id: string }

async function author (): Promise<Author> {
  const key = await generateKeyPair('Ed25519')
  return { key, id: peerIdFromPrivateKey(key).toString() }
}

const root = (n: number): string => cidOf(Uint8Array.of(n, n >> 8), DAG_CBOR_CODE).toString()
const put = (n: number): string => `put-${String(n).padStart(18, '0')}`

async function rootRecord (a: Author, p: string, r: string, at: number): Promise<SignedRecord> {
  return await signRecord(a.key, a.id, { t: 'root', put: p, root: r, at })
}

async function release (a: Author, r: string, at: number): Promise<SignedRecord> {
  return await signRecord(a.key, a.id, { t: 'release', root: r, at })
}

function store (datastore = new MemoryDatastore(), maxRecords?: number): RecordStore {
  return new RecordStore({ datastore, log: logger('test:record-store'), ...(maxRecords != null ? { maxRecords } : {}) })
}

describe('RecordStore', () => {
  it('keeps a root live while any put of it is, by one author or two, and releases each author\'s puts by that author\'s release alone', async () => {
    const [a, b] = await Promise.all([author(), author()])
    const s = store()
    const t = Date.now() - 10_000
    expect(s.rootState(root(1))).toBe('unknown')
    expect(await s.accept(await rootRecord(a, put(1), root(1), t))).toBe(true)
    expect(await s.accept(await rootRecord(a, put(2), root(1), t + 1))).toBe(true)
    expect(await s.accept(await rootRecord(b, put(3), root(1), t + 2))).toBe(true)
    expect(s.claimsOf(put(1)).map(c => [c.author, c.root])).toEqual([[a.id, root(1)]])
    expect(s.latestClaimAt(root(1), a.id)).toBe(t + 1)
    expect(s.latestClaimAt(root(1), b.id)).toBe(t + 2)
    // a's release covers both of a's puts, not b's
    expect(await s.accept(await release(a, root(1), t + 5))).toBe(true)
    expect([s.putState(put(1)), s.putState(put(2)), s.putState(put(3))]).toEqual(['released', 'released', 'live'])
    expect(s.rootState(root(1))).toBe('live')
    expect(s.blockState([put(1), put(3)])).toBe('live')
    expect(s.blockState([put(1), put(9)])).toBe('unknown')
    expect(s.blockState([put(1), put(2)])).toBe('released')
    await s.accept(await release(b, root(1), t + 6))
    expect(s.rootState(root(1))).toBe('released')
    // a root record stamped after its author's release makes the root live again
    await s.accept(await rootRecord(a, put(4), root(1), t + 7))
    expect(s.rootState(root(1))).toBe('live')
    // a record seen again changes nothing
    const again = await rootRecord(b, put(5), root(2), t)
    expect(await s.accept(again)).toBe(true)
    expect(await s.accept(again)).toBe(false)
    expect(s.size).toBe(7)
  })

  it('two authors claiming one put id: the put is live until both release', async () => {
    const [a, b] = await Promise.all([author(), author()])
    const s = store()
    const t = Date.now() - 10_000
    await s.accept(await rootRecord(a, put(1), root(1), t))
    await s.accept(await rootRecord(b, put(1), root(2), t))
    expect(s.claimsOf(put(1))).toHaveLength(2)
    await s.accept(await release(a, root(1), t + 1))
    expect(s.putState(put(1))).toBe('live')
    await s.accept(await release(b, root(2), t + 1))
    expect(s.putState(put(1))).toBe('released')
  })

  it('at its bound forgets the oldest released roots first, keeps live ones, refuses when every record is live; a reload says the same', async () => {
    const [a, b] = await Promise.all([author(), author()])
    const datastore = new MemoryDatastore()
    const s = store(datastore, 20)
    const t = Date.now() - 100_000
    // roots 0..5 put by a (root 0 twice, and by b too), released by a in order; roots 6..9 live
    await s.accept(await rootRecord(a, put(100), root(0), t))
    await s.accept(await rootRecord(b, put(101), root(0), t))
    for (let n = 0; n < 10; n++) await s.accept(await rootRecord(a, put(n), root(n), t + n))
    for (let n = 0; n < 6; n++) await s.accept(await release(a, root(n), t + 100 + n))
    expect(s.size).toBe(18)
    expect(s.rootState(root(0))).toBe('live') // b's put of it is not released
    await s.accept(await rootRecord(a, put(10), root(10), t + 200))
    await s.accept(await rootRecord(a, put(11), root(11), t + 201))
    expect(s.size).toBe(20)
    // full: the next record makes room down to 18 (a tenth of the bound) by forgetting the oldest releases
    expect(await s.accept(await rootRecord(a, put(12), root(12), t + 202))).toBe(true)
    // root 0: a's release and a's two root records of it forgotten; b's put stays and keeps it live
    expect(s.claimsOf(put(0))).toEqual([])
    expect(s.claimsOf(put(100))).toEqual([])
    expect(s.claimsOf(put(101)).map(c => c.author)).toEqual([b.id])
    expect(s.rootState(root(0))).toBe('live')
    // three records forgotten were enough: root 1, released later, is kept
    expect(s.size).toBe(18)
    expect(s.putState(put(1))).toBe('released')
    expect(s.rootState(root(2))).toBe('released')
    for (let n = 6; n < 13; n++) expect(s.rootState(root(n))).toBe('live')
    const size = s.size
    // a reload from the datastore holds the same records and says the same
    const reloaded = store(datastore, 20)
    await reloaded.load()
    expect(reloaded.size).toBe(size)
    expect(reloaded.digest()).toEqual(s.digest())
    for (let n = 0; n < 13; n++) expect(reloaded.rootState(root(n))).toBe(s.rootState(root(n)))

    // every record live: the store refuses rather than forget a live root
    const live = store(new MemoryDatastore(), 3)
    for (let n = 0; n < 3; n++) await live.accept(await rootRecord(a, put(n), root(n), t + n))
    expect(await live.accept(await rootRecord(a, put(3), root(3), t + 3))).toBe(false)
    expect(live.size).toBe(3)
  })
})
