/**
 * async/signals: combining abort signals and racing work against them. A
 * race ends the waiting, never the work itself: callers use it where the work
 * under it may not honour its own signal, so a caller's limit still holds.
 */
import { setMaxListeners } from 'node:events'

/**
 * One signal that aborts when any of `signals` does. Listener warnings are
 * off: a long-lived signal (a service's shutdown) is combined with thousands
 * of short ones.
 */
export function anySignal (...signals: Array<AbortSignal | undefined>): AbortSignal {
  const s = AbortSignal.any(signals.filter((x): x is AbortSignal => x != null))
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
