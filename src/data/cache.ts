/**
 * data/cache: a least-recently-used cache of verified blocks bounded by total
 * bytes. Pure in-memory; never verifies (callers put only verified bytes) and
 * never holds a block larger than its whole budget.
 */

export class BlockCache {
  readonly maxBytes: number
  private used = 0
  private readonly entries = new Map<string, Uint8Array>()

  constructor (maxBytes: number) {
    if (!Number.isFinite(maxBytes) || maxBytes < 0) throw new TypeError('cache size must be a non-negative number')
    this.maxBytes = maxBytes
  }

  get bytes (): number { return this.used }
  get size (): number { return this.entries.size }

  get (key: string): Uint8Array | undefined {
    const value = this.entries.get(key)
    if (value != null) {
      // refresh recency: Map keeps insertion order
      this.entries.delete(key)
      this.entries.set(key, value)
    }
    return value
  }

  has (key: string): boolean {
    return this.entries.has(key)
  }

  set (key: string, value: Uint8Array): void {
    this.delete(key)
    if (value.byteLength > this.maxBytes) return
    this.entries.set(key, value)
    this.used += value.byteLength
    for (const [k, v] of this.entries) {
      if (this.used <= this.maxBytes) break
      this.entries.delete(k)
      this.used -= v.byteLength
    }
  }

  delete (key: string): boolean {
    const value = this.entries.get(key)
    if (value == null) return false
    this.entries.delete(key)
    this.used -= value.byteLength
    return true
  }

  clear (): void {
    this.entries.clear()
    this.used = 0
  }
}
