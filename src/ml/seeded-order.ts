/**
 * ml/seeded-order: the order in which a task's local steps visit its records, drawn from a
 * seed every peer derives alike from (job, round, task): FNV-1a (32-bit) of the UTF-8 text
 * `${job}\n${round}\n${task}` seeds mulberry32, which drives a Fisher–Yates shuffle. Simple
 * enough to recompute anywhere; not meant to be unpredictable. Pure.
 */

/** The seed of a task's local steps. */
export function taskSeed (job: string, round: number, task: number): number {
  let hash = 0x811c9dc5
  for (const byte of new TextEncoder().encode(`${job}\n${round}\n${task}`)) {
    hash ^= byte
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return hash
}

/** mulberry32: 32-bit outputs from a 32-bit state. */
export function mulberry32 (seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (t ^ (t >>> 14)) >>> 0
  }
}

/**
 * 0 … n−1 shuffled: for i from n−1 down to 1, swap position i with j = ⌊u · (i + 1) / 2^32⌋,
 * u the next 32-bit output.
 */
export function shuffledOrder (n: number, seed: number): Uint32Array {
  const order = new Uint32Array(n)
  for (let i = 0; i < n; i++) order[i] = i
  const next = mulberry32(seed)
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1) / 2 ** 32)
    const held = order[i]
    order[i] = order[j]
    order[j] = held
  }
  return order
}
