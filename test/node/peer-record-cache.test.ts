/**
 * The peer-record cache in front of libp2p's datastore: peer records are
 * served from memory after the first read, every write and delete reaches
 * the wrapped store, and other keys pass straight through.
 */
import { describe, it, expect } from 'vitest'
import { MemoryDatastore } from 'datastore-core'
import { Key } from 'interface-datastore'
import { PeerRecordCache } from '../../src/node/peer-record-cache.ts'

/** A memory datastore that counts reads. */
class CountingStore extends MemoryDatastore {
  reads = 0
  override get (key: Key): ReturnType<MemoryDatastore['get']> {
    this.reads++
    return super.get(key)
  }
}

const bytes = (...xs: number[]): Uint8Array => Uint8Array.from(xs)

describe('peer record cache', () => {
  it('reads a peer record from the store once, then from memory; writes and deletes go through', async () => {
    const inner = new CountingStore()
    const key = new Key('/peers/abc')
    await inner.put(key, bytes(1))
    const cache = new PeerRecordCache(inner)
    expect(await cache.get(key)).toEqual(bytes(1))
    expect(await cache.get(key)).toEqual(bytes(1))
    expect(inner.reads).toBe(1)

    await cache.put(key, bytes(2))
    expect(await inner.get(key)).toEqual(bytes(2))
    expect(await cache.get(key)).toEqual(bytes(2))

    await cache.delete(key)
    expect(await inner.has(key)).toBe(false)
    expect(await cache.has(key)).toBe(false)
    await expect(cache.get(key)).rejects.toThrow()
  })

  it('keeps other keys out of memory and applies batches to both', async () => {
    const inner = new CountingStore()
    const cache = new PeerRecordCache(inner)
    const other = new Key('/dht/record/x')
    await cache.put(other, bytes(7))
    await cache.get(other)
    await cache.get(other)
    expect(inner.reads).toBe(2)

    const peer = new Key('/peers/p1')
    await cache.put(peer, bytes(1))
    const batch = cache.batch()
    batch.put(peer, bytes(3))
    batch.delete(other)
    await batch.commit()
    expect(await inner.get(peer)).toEqual(bytes(3))
    expect(await cache.get(peer)).toEqual(bytes(3))
    expect(await inner.has(other)).toBe(false)

    const keys: string[] = []
    for await (const k of cache.queryKeys({ prefix: '/peers' })) keys.push(k.toString())
    expect(keys).toEqual(['/peers/p1'])
  })
})
