/**
 * The peer-record cache in front of libp2p's datastore: peer records are
 * served from memory after the first read, their changes reach the wrapped
 * store in batches (on a timer, before a query, on flush), reads see pending
 * changes, and other keys pass straight through.
 */
import { describe, it, expect } from 'vitest'
import { MemoryDatastore } from 'datastore-core'
import { Key } from 'interface-datastore'
import { PeerRecordCache, PEER_RECORD_FLUSH_MS } from '../../src/node/peer-record-cache.ts'

/** A memory datastore that counts reads and writes (a batch commits through put). */
class CountingStore extends MemoryDatastore {
  reads = 0
  puts = 0
  override get (key: Key): ReturnType<MemoryDatastore['get']> {
    this.reads++
    return super.get(key)
  }

  override put (key: Key, value: Uint8Array): ReturnType<MemoryDatastore['put']> {
    this.puts++
    return super.put(key, value)
  }
}

const bytes = (...xs: number[]): Uint8Array => Uint8Array.from(xs)

describe('peer record cache', () => {
  it('remembers a missing peer record until it is written', async () => {
    const inner = new CountingStore()
    const key = new Key('/peers/missing')
    const cache = new PeerRecordCache(inner)
    await expect(cache.get(key)).rejects.toMatchObject({ name: 'NotFoundError' })
    await expect(cache.get(key)).rejects.toMatchObject({ name: 'NotFoundError' })
    expect(await cache.has(key)).toBe(false)
    expect(inner.reads).toBe(1)
    await cache.put(key, bytes(7))
    expect(await cache.get(key)).toEqual(bytes(7))
    await cache.delete(key)
    await cache.flush()
    await expect(cache.get(key)).rejects.toMatchObject({ name: 'NotFoundError' })
    // other keys are not cached, found or not
    const other = new Key('/dht/record/x')
    await expect(cache.get(other)).rejects.toMatchObject({ name: 'NotFoundError' })
    await expect(cache.get(other)).rejects.toMatchObject({ name: 'NotFoundError' })
    expect(inner.reads).toBe(4)
  })

  it('reads a peer record from the store once, then from memory; changes reach the store on flush', async () => {
    const inner = new CountingStore()
    const key = new Key('/peers/abc')
    await inner.put(key, bytes(1))
    const cache = new PeerRecordCache(inner)
    expect(await cache.get(key)).toEqual(bytes(1))
    expect(await cache.get(key)).toEqual(bytes(1))
    expect(inner.reads).toBe(1)

    await cache.put(key, bytes(2))
    expect(await cache.get(key)).toEqual(bytes(2))
    expect(await inner.get(key)).toEqual(bytes(1))
    await cache.flush()
    expect(await inner.get(key)).toEqual(bytes(2))

    await cache.delete(key)
    expect(await cache.has(key)).toBe(false)
    await expect(cache.get(key)).rejects.toThrow(/not found/)
    expect(await inner.has(key)).toBe(true)
    await cache.flush()
    expect(await inner.has(key)).toBe(false)
    await expect(cache.get(key)).rejects.toThrow()
  })

  it('writes a record changed many times once, and on its own after the flush delay', async () => {
    const inner = new CountingStore()
    const cache = new PeerRecordCache(inner)
    for (let i = 0; i < 10; i++) await cache.put(new Key('/peers/busy'), bytes(i))
    await cache.put(new Key('/peers/other'), bytes(42))
    expect(inner.puts).toBe(0)
    await new Promise(resolve => setTimeout(resolve, PEER_RECORD_FLUSH_MS + 300))
    expect(inner.puts).toBe(2)
    expect(await inner.get(new Key('/peers/busy'))).toEqual(bytes(9))
    expect(await inner.get(new Key('/peers/other'))).toEqual(bytes(42))
  })

  it('keeps other keys out of memory and writes them at once; batches and queries see pending records', async () => {
    const inner = new CountingStore()
    const cache = new PeerRecordCache(inner)
    const other = new Key('/dht/record/x')
    await cache.put(other, bytes(7))
    expect(await inner.get(other)).toEqual(bytes(7))
    await cache.get(other)
    await cache.get(other)
    expect(inner.reads).toBe(3)

    const peer = new Key('/peers/p1')
    await cache.put(peer, bytes(1))
    const batch = cache.batch()
    batch.put(peer, bytes(3))
    batch.put(new Key('/peers/p2'), bytes(4))
    batch.delete(other)
    await batch.commit()
    expect(await inner.has(other)).toBe(false)
    expect(await cache.get(peer)).toEqual(bytes(3))

    // a query flushes first: it sees records not yet written
    const keys: string[] = []
    for await (const k of cache.queryKeys({ prefix: '/peers' })) keys.push(k.toString())
    expect(keys.sort()).toEqual(['/peers/p1', '/peers/p2'])
    expect(await inner.get(peer)).toEqual(bytes(3))
  })
})
