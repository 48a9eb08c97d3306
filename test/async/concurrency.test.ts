/**
 * async/concurrency: mapOrdered keeps source order and its concurrency bound.
 */
import { describe, expect, it } from 'vitest'
import { mapOrdered } from '../../src/async/index.ts'

describe('mapOrdered', () => {
  it('keeps order and bounds concurrency', async () => {
    let running = 0; let peak = 0
    const out: number[] = []
    for await (const v of mapOrdered(Array.from({ length: 30 }, (_, i) => i), 4, async (i) => {
      running++; peak = Math.max(peak, running)
      await new Promise(resolve => setTimeout(resolve, Math.random() * 5))
      running--
      return i * 2
    })) out.push(v)
    expect(out).toEqual(Array.from({ length: 30 }, (_, i) => i * 2))
    expect(peak).toBeLessThanOrEqual(4)
  })
})
