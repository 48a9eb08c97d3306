/**
 * async/signals: combining abort signals and racing work against them. A
 * race ends the waiting, never the work itself: callers use it where the work
 * under it may not honour its own signal, so a caller's limit still holds.
 */
import { setMaxListeners } from 'node:events'
import { anySignal as combine, type ClearableSignal } from 'any-signal'

export type { ClearableSignal }

/**
 * One signal that aborts when any of `signals` does; `clear()` it when the
 * work under it ends (in a `finally`), which removes its listeners from the
 * signals it combines. Node's `AbortSignal.any` is not used: each signal it
 * combines with a long-lived one (a service's shutdown) stays in memory for
 * good. Listener warnings are off: a long-lived signal is combined with
 * thousands of short ones, one at a time.
 */
export function anySignal (...signals: Array<AbortSignal | undefined>): ClearableSignal {
  for (const s of signals) if (s != null) setMaxListeners(Infinity, s)
  const s = combine(signals)
  setMaxListeners(Infinity, s)
  return s
}

/** `promise`, or the signal's reason once it aborts (the promise itself is not cancelled). */
export async function raceAbort<T> (promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {}) // nobody waits for it any more
    throw signal.reason
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => { reject(signal.reason) }
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(resolve, reject).finally(() => { signal.removeEventListener('abort', onAbort) })
  })
}

/**
 * The items of `source` until `signal` aborts, even if the source itself does
 * not stop then (a DHT query does not always honour its own abort, and a
 * caller waiting on it must still end at its limit).
 */
export async function * untilAborted<T> (source: AsyncIterable<T>, signal: AbortSignal): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]()
  let finished = false
  try {
    while (true) {
      const next = await raceAbort(iterator.next(), signal)
      if (next.done === true) { finished = true; return }
      yield next.value
    }
  } finally {
    // not awaited: a source stuck in an await would hold us here too
    if (!finished) void iterator.return?.()?.catch(() => {})
  }
}
