/**
 * A datastore wrapper that keeps libp2p's peer records (keys under `/peers/`)
 * in memory and writes every change through to the repo's datastore.
 *
 * libp2p's peer store has no cache of its own: every lookup of a peer's
 * addresses is a datastore read, and the DHT looks up the addresses of each
 * of the k closest peers for every FIND_NODE it answers. On LevelDB that made
 * peer-record reads the largest single cost of a busy peer. Peer records are
 * small and few (one per known peer), so they all fit in memory; everything
 * else (DHT records, provider records, job facts) passes straight through.
 *
 * Owns nothing but the cache; the wrapped datastore stays the truth and
 * survives restarts as before.
 */
import { BaseDatastore } from 'datastore-core'
import type { Batch, Datastore, Key, KeyQuery, Pair, Query } from 'interface-datastore'
import type { AbortOptions } from '@libp2p/interface'

/** The key prefix of libp2p's peer store. */
export const PEER_RECORD_PREFIX = '/peers/'
/** Most peer records kept in memory (the oldest are dropped beyond it; they are re-read on use). */
export const MAX_CACHED_PEER_RECORDS = 20_000

export class PeerRecordCache extends BaseDatastore implements Datastore {
  readonly #inner: Datastore
  readonly #records = new Map<string, Uint8Array>()

  constructor (inner: Datastore) {
    super()
    this.#inner = inner
  }

  #remember (key: string, value: Uint8Array): void {
    this.#records.delete(key)
    this.#records.set(key, value)
    if (this.#records.size > MAX_CACHED_PEER_RECORDS) this.#records.delete(this.#records.keys().next().value as string)
  }

  override async put (key: Key, value: Uint8Array, options?: AbortOptions): Promise<Key> {
    const out = await this.#inner.put(key, value, options)
    const k = key.toString()
    if (k.startsWith(PEER_RECORD_PREFIX)) this.#remember(k, value)
    return out
  }

  override async get (key: Key, options?: AbortOptions): Promise<Uint8Array> {
    const k = key.toString()
    if (!k.startsWith(PEER_RECORD_PREFIX)) return await this.#inner.get(key, options)
    const cached = this.#records.get(k)
    if (cached != null) return cached
    const value = await this.#inner.get(key, options)
    this.#remember(k, value)
    return value
  }

  override async has (key: Key, options?: AbortOptions): Promise<boolean> {
    if (this.#records.has(key.toString())) return true
    return await this.#inner.has(key, options)
  }

  override async delete (key: Key, options?: AbortOptions): Promise<void> {
    this.#records.delete(key.toString())
    await this.#inner.delete(key, options)
  }

  override batch (): Batch {
    const inner = this.#inner.batch()
    const ops: Array<{ key: string, value?: Uint8Array }> = []
    return {
      put: (key, value) => { inner.put(key, value); ops.push({ key: key.toString(), value }) },
      delete: (key) => { inner.delete(key); ops.push({ key: key.toString() }) },
      commit: async (options) => {
        // drop first, so a failed commit can never leave the cache ahead of the store
        for (const op of ops) this.#records.delete(op.key)
        await inner.commit(options)
        for (const op of ops) if (op.value != null && op.key.startsWith(PEER_RECORD_PREFIX)) this.#remember(op.key, op.value)
      }
    }
  }

  override query (q: Query, options?: AbortOptions): AsyncGenerator<Pair> | Generator<Pair> {
    return this.#inner.query(q, options) as AsyncGenerator<Pair> | Generator<Pair>
  }

  override queryKeys (q: KeyQuery, options?: AbortOptions): AsyncGenerator<Key> | Generator<Key> {
    return this.#inner.queryKeys(q, options) as AsyncGenerator<Key> | Generator<Key>
  }
}
