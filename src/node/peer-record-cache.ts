/**
 * node/peer-record-cache: a datastore wrapper that keeps libp2p's peer records
 * (keys under `/peers/`) in memory and writes their changes to the wrapped
 * datastore in batches. libp2p's peer store has no cache of its own: every
 * lookup of a peer's addresses is a datastore read, and the DHT looks up k
 * peers for every FIND_NODE it answers (docs/decisions/node-peer-record-cache.md).
 *
 * Rules: changed records are written together at most PEER_RECORD_FLUSH_MS
 * later (a record changed ten times in that window once); reads see pending
 * writes; a query flushes first; `flush()` on shutdown. Misses are remembered
 * too (kad-dht asks the peer store about every key it answers for, as if it
 * were a peer id), which is exact because every write of a peer record goes
 * through this wrapper. Peer records are addresses a peer re-learns, so the
 * second a crash can lose costs nothing.
 *
 * Owns the peer records in memory; never holds or delays any other key (DHT
 * records, provider records, job facts pass straight through).
 */
import { BaseDatastore } from 'datastore-core'
import type { Batch, Datastore, Key, KeyQuery, Pair, Query } from 'interface-datastore'
import { Key as DatastoreKey } from 'interface-datastore'
import { NotFoundError, type AbortOptions } from '@libp2p/interface'

/** The key prefix of libp2p's peer store. */
const PEER_RECORD_PREFIX = '/peers/'
/** Most peer records kept in memory (the oldest are dropped beyond it; they are re-read on use). */
const MAX_CACHED_PEER_RECORDS = 20_000
/** Most peer-record misses remembered (the oldest are forgotten beyond it). */
const MAX_CACHED_PEER_MISSES = 20_000
/** Longest a changed peer record waits before it is written to the wrapped store. */
export const PEER_RECORD_FLUSH_MS = 1_000

/** A pending delete. */
const GONE = null

export class PeerRecordCache extends BaseDatastore implements Datastore {
  private readonly inner: Datastore
  private readonly records = new Map<string, Uint8Array>()
  /** Peer-record keys the wrapped store does not hold (and nothing has written since). */
  private readonly absent = new Set<string>()
  /** Peer records changed since the last flush: the value to write, or GONE to delete. */
  private readonly dirty = new Map<string, Uint8Array | typeof GONE>()
  private timer?: ReturnType<typeof setTimeout>
  private flushing: Promise<void> = Promise.resolve()

  constructor (inner: Datastore) {
    super()
    this.inner = inner
  }

  private rememberMiss (key: string): void {
    this.absent.add(key)
    if (this.absent.size > MAX_CACHED_PEER_MISSES) {
      for (const k of this.absent) { this.absent.delete(k); break }
    }
  }

  private remember (key: string, value: Uint8Array): void {
    this.absent.delete(key)
    this.records.delete(key)
    this.records.set(key, value)
    if (this.records.size > MAX_CACHED_PEER_RECORDS) {
      // never evict a record not yet written: it would read back stale
      for (const k of this.records.keys()) {
        if (!this.dirty.has(k)) { this.records.delete(k); break }
      }
    }
  }

  private schedule (): void {
    if (this.timer != null) return
    this.timer = setTimeout(() => { void this.flush() }, PEER_RECORD_FLUSH_MS)
    this.timer.unref?.()
  }

  /** Writes every pending peer-record change to the wrapped store (one batch). */
  async flush (): Promise<void> {
    clearTimeout(this.timer)
    this.timer = undefined
    const run = this.flushing.then(async () => {
      if (this.dirty.size === 0) return
      const pending = [...this.dirty]
      this.dirty.clear()
      const batch = this.inner.batch()
      for (const [key, value] of pending) {
        if (value === GONE) batch.delete(new DatastoreKey(key))
        else batch.put(new DatastoreKey(key), value)
      }
      try {
        await batch.commit()
      } catch {
        // keep them for the next flush unless a newer change replaced them
        for (const [key, value] of pending) if (!this.dirty.has(key)) this.dirty.set(key, value)
        this.schedule()
      }
    })
    this.flushing = run.catch(() => {})
    await run
  }

  override async put (key: Key, value: Uint8Array, options?: AbortOptions): Promise<Key> {
    const k = key.toString()
    if (!k.startsWith(PEER_RECORD_PREFIX)) return await this.inner.put(key, value, options)
    this.dirty.set(k, value)
    this.remember(k, value)
    this.schedule()
    return key
  }

  override async get (key: Key, options?: AbortOptions): Promise<Uint8Array> {
    const k = key.toString()
    if (!k.startsWith(PEER_RECORD_PREFIX)) return await this.inner.get(key, options)
    const cached = this.records.get(k)
    if (cached != null) return cached
    if (this.dirty.get(k) === GONE || this.absent.has(k)) throw new NotFoundError(`${k} not found`)
    let value: Uint8Array
    try {
      value = await this.inner.get(key, options)
    } catch (err) {
      // a write that raced the read must not be hidden by the miss; the wrapped store's
      // NotFoundError is interface-store's class, which edgeswarm does not depend on, so it is
      // recognised by name, as libp2p's peer store recognises it
      if ((err as Error).name === 'NotFoundError' && !this.dirty.has(k) && !this.records.has(k)) this.rememberMiss(k)
      throw err
    }
    // a change that raced the read wins
    if (!this.dirty.has(k)) this.remember(k, value)
    return this.records.get(k) ?? value
  }

  override async has (key: Key, options?: AbortOptions): Promise<boolean> {
    const k = key.toString()
    if (this.records.has(k)) return true
    if (this.dirty.get(k) === GONE || this.absent.has(k)) return false
    return await this.inner.has(key, options)
  }

  override async delete (key: Key, options?: AbortOptions): Promise<void> {
    const k = key.toString()
    if (!k.startsWith(PEER_RECORD_PREFIX)) { await this.inner.delete(key, options); return }
    this.records.delete(k)
    this.dirty.set(k, GONE)
    this.schedule()
  }

  override batch (): Batch {
    const ops: Array<{ key: Key, value?: Uint8Array }> = []
    return {
      put: (key, value) => { ops.push({ key, value }) },
      delete: (key) => { ops.push({ key }) },
      commit: async (options) => {
        const inner = this.inner.batch()
        for (const op of ops) {
          const k = op.key.toString()
          if (k.startsWith(PEER_RECORD_PREFIX)) {
            // peer records join the write-behind set like single puts and deletes
            if (op.value != null) { this.dirty.set(k, op.value); this.remember(k, op.value) } else { this.records.delete(k); this.dirty.set(k, GONE) }
          } else if (op.value != null) {
            inner.put(op.key, op.value)
          } else {
            inner.delete(op.key)
          }
        }
        if (ops.some(op => op.key.toString().startsWith(PEER_RECORD_PREFIX))) this.schedule()
        await inner.commit(options)
      }
    }
  }

  override async * query (q: Query, options?: AbortOptions): AsyncGenerator<Pair> {
    await this.flush()
    yield * this.inner.query(q, options)
  }

  override async * queryKeys (q: KeyQuery, options?: AbortOptions): AsyncGenerator<Key> {
    await this.flush()
    yield * this.inner.queryKeys(q, options)
  }
}
