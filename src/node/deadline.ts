/**
 * A time limit that can be called off. `AbortSignal.timeout` cannot be
 * cleared: every one fires when its time is up, long after the work it
 * bounded has finished, and firing builds a DOMException and runs the
 * signal's listeners. A put of a few hundred shards left thousands such
 * timers behind (a request, a stream served, a provider announcement each)
 * that all fired ten seconds later, in the middle of whatever ran next. Owns
 * nothing but its timer.
 */

export interface Deadline {
  /** Aborted with a TimeoutError (as `AbortSignal.timeout`'s) when the time is up. */
  readonly signal: AbortSignal
  /** Calls the limit off: the signal never fires. Safe to call more than once. */
  clear: () => void
}

/** A signal aborted after `ms` unless `clear()` comes first; its timer never keeps the process alive. */
export function deadline (ms: number): Deadline {
  const controller = new AbortController()
  const timer = setTimeout(() => {
    controller.abort(new DOMException(`the operation timed out after ${ms} ms`, 'TimeoutError'))
  }, ms)
  timer.unref?.()
  return { signal: controller.signal, clear: () => { clearTimeout(timer) } }
}
