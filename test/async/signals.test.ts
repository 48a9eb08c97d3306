/**
 * anySignal: aborts with the first of its signals to abort, with that
 * signal's reason; once cleared it leaves no listener on the signals it
 * combined, so a long-lived signal combined with many short ones holds none
 * of them.
 */
import { getEventListeners } from 'node:events'
import { describe, it, expect } from 'vitest'
import { anySignal } from '../../src/async/index.ts'

describe('anySignal', () => {
  it('aborts with the first signal to abort, and at once when one has already', () => {
    const a = new AbortController()
    const b = new AbortController()
    const s = anySignal(a.signal, undefined, b.signal)
    expect(s.aborted).toBe(false)
    b.abort(new Error('b first'))
    expect(s.aborted).toBe(true)
    expect((s.reason as Error).message).toBe('b first')
    a.abort(new Error('a later'))
    expect((s.reason as Error).message).toBe('b first')
    expect(anySignal(a.signal, new AbortController().signal).aborted).toBe(true)
  })

  it('leaves no listener on a long-lived signal once cleared, however many times it is combined', () => {
    const shutdown = new AbortController()
    for (let i = 0; i < 10_000; i++) {
      const s = anySignal(shutdown.signal, new AbortController().signal)
      s.clear()
    }
    expect(getEventListeners(shutdown.signal, 'abort')).toHaveLength(0)
    // one still in use follows the long-lived signal
    const live = anySignal(shutdown.signal, new AbortController().signal)
    expect(getEventListeners(shutdown.signal, 'abort')).toHaveLength(1)
    shutdown.abort(new Error('stopping'))
    expect(live.aborted).toBe(true)
    expect(getEventListeners(shutdown.signal, 'abort')).toHaveLength(0)
  })
})
