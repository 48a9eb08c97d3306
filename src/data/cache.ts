/**
 * data/cache: a least-recently-used cache of verified blocks bounded by total
 * bytes, whose blocks unread for a while can be swept out. Pure in-memory;
 * never verifies (callers put only verified bytes) and never holds a block
 * larger than its whole budget.
 */

export class BlockCache {
  readonly maxBytes: number
  private used = 0
  /** Blocks by key with when they were last read or set, least recently used first (a Map keeps insertion order). */
  private readonly entries = new Map<string, { bytes: Uint8Array, at: number }>()

  constructor (maxBytes: number) {
    if (!Number.isFinite(maxBytes) || maxBytes < 0) throw new TypeError('cache size must be a non-negative number')
    this.maxBytes = maxBytes
  }

  get bytes (): number { return this.used }
  get size (): number { return this.entries.size }

  get (key: string, now = Date.now()): Uint8Array | undefined {
    const entry = this.entries.get(key)
    if (entry == null) return undefined
    // refresh recency: Map keeps insertion order
    this.entries.delete(key)
    entry.at = now
    this.entries.set(key, entry)
    return entry.bytes
  }

  has (key: string): boolean {
    return this.entries.has(key)
  }

  set (key: string, value: Uint8Array, now = Date.now()): void {
    this.delete(key)
    if (value.byteLength > this.maxBytes) return
    this.entries.set(key, { bytes: value, at: now })
    this.used += value.byteLength
    for (const [k, v] of this.entries) {
      if (this.used <= this.maxBytes) break
      this.entries.delete(k)
      this.used -= v.bytes.byteLength
    }
  }

  delete (key: string): boolean {
    const entry = this.entries.get(key)
    if (entry == null) return false
    this.entries.delete(key)
    this.used -= entry.bytes.byteLength
    return true
  }

  /** Drops the blocks unread since `before` (oldest first, so it stops at the first younger one); how many it dropped. */
  sweep (before: number): number {
    let dropped = 0
    for (const [k, v] of this.entries) {
      if (v.at >= before) break
      this.entries.delete(k)
      this.used -= v.bytes.byteLength
      dropped++
    }
    return dropped
  }

  clear (): void {
    this.entries.clear()
    this.used = 0
  }
}
