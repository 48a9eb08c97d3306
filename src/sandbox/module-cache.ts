/**
 * sandbox/module-cache: a bounded LRU of compiled WebAssembly modules keyed by the sha-256 of
 * their bytes (plus a variant, such as the memory cap the bytes were rewritten with), so a
 * module that runs for thousands of tasks is vetted and compiled once. Concurrent requests
 * for the same key share one compilation. It caches only successes and never holds an
 * instance: a compiled module is immutable code, every run instantiates it afresh.
 */

import { createHash } from 'node:crypto'

export interface ModuleCacheInit {
  /** most entries kept */
  maxEntries: number
  /** most module bytes (the sum of the source sizes) behind the entries kept */
  maxBytes: number
}

interface Entry<T> {
  value: Promise<T>
  bytes: number
}

export class ModuleCache<T> {
  private readonly maxEntries: number
  private readonly maxBytes: number
  private readonly entries = new Map<string, Entry<T>>()
  /** module bytes behind the entries kept */
  private bytes = 0
  /** lookups answered from the cache, and compilations started */
  readonly stats = { hits: 0, misses: 0 }

  constructor (init: ModuleCacheInit) {
    this.maxEntries = init.maxEntries
    this.maxBytes = init.maxBytes
  }

  get size (): number {
    return this.entries.size
  }

  /**
   * The value for (`bytes`, `variant`): from the cache, or from `compile()`, which is then
   * cached unless it rejects. A module larger than the byte bound is compiled but not kept.
   */
  async get (bytes: Uint8Array, variant: string, compile: () => Promise<T>): Promise<T> {
    const key = `${createHash('sha256').update(bytes).digest('hex')}/${variant}`
    const hit = this.entries.get(key)
    if (hit !== undefined) {
      this.stats.hits++
      // most recently used last
      this.entries.delete(key)
      this.entries.set(key, hit)
      return await hit.value
    }
    this.stats.misses++
    const value = compile()
    if (bytes.length > this.maxBytes) return await value
    const entry: Entry<T> = { value, bytes: bytes.length }
    this.entries.set(key, entry)
    this.bytes += entry.bytes
    this.evict()
    value.catch(() => {
      if (this.entries.get(key) === entry) this.remove(key, entry)
    })
    return await value
  }

  clear (): void {
    this.entries.clear()
    this.bytes = 0
  }

  private evict (): void {
    for (const [key, entry] of this.entries) {
      if (this.entries.size <= this.maxEntries && this.bytes <= this.maxBytes) return
      this.remove(key, entry)
    }
  }

  private remove (key: string, entry: Entry<T>): void {
    this.entries.delete(key)
    this.bytes -= entry.bytes
  }
}
