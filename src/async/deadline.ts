/**
 * async/deadline: a time limit that can be called off. `AbortSignal.timeout`
 * cannot be cleared: every one fires when its time is up, long after the work
 * it bounded has finished, building an exception and running the signal's
 * listeners. Work that finishes in time should leave no timer behind, so every
 * request, served stream and lookup of edgeswarm is bounded with this instead
 * (docs/decisions/async-deadline.md). Owns nothing but its timer.
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
