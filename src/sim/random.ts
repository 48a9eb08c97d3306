/**
 * sim/random: the simulation's only source of randomness, a small seeded
 * generator (xmur3 string hash → mulberry32), so the same `--seed` gives the
 * same sensor data and the same fault schedule on every machine.
 *
 * Owns determinism. Never reads `Math.random`, the clock or the OS.
 */

/** 2^32, to map a 32-bit integer to [0, 1). */
const UINT32_RANGE = 4_294_967_296

/** A 32-bit hash of a string (xmur3's finaliser over all characters). */
export function hashString (text: string): number {
  let h = 1779033703 ^ text.length
  for (let i = 0; i < text.length; i++) {
    h = Math.imul(h ^ text.charCodeAt(i), 3432918353)
    h = (h << 13) | (h >>> 19)
  }
  h = Math.imul(h ^ (h >>> 16), 2246822507)
  h = Math.imul(h ^ (h >>> 13), 3266489909)
  return (h ^ (h >>> 16)) >>> 0
}

/** A deterministic stream of numbers, one per (seed, stream name) pair. */
export class SeededRandom {
  private state: number

  /** `parts` name the stream: e.g. `(seed, 'device', 7)` is device 7's readings. */
  constructor (...parts: Array<string | number>) {
    this.state = hashString(parts.map(String).join('\u0000'))
  }

  /** Uniform in [0, 1) (mulberry32). */
  next (): number {
    this.state = (this.state + 0x6D2B79F5) >>> 0
    let t = this.state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / UINT32_RANGE
  }

  /** Uniform integer in [min, max]. */
  int (min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1))
  }

  /** Uniform in [min, max). */
  uniform (min: number, max: number): number {
    return min + this.next() * (max - min)
  }

  /** Approximately normal (sum of four uniforms), mean 0, standard deviation ~1. */
  gaussian (): number {
    return (this.next() + this.next() + this.next() + this.next() - 2) * Math.sqrt(3)
  }

  /** One element of a non-empty array. */
  pick<T> (items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]
  }

  /** A shuffled copy (Fisher–Yates). */
  shuffle<T> (items: readonly T[]): T[] {
    const out = [...items]
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1))
      const tmp = out[i]
      out[i] = out[j]
      out[j] = tmp
    }
    return out
  }
}
