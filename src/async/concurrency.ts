/**
 * async/concurrency: bounded concurrency over streams of work, in source order
 * (`mapOrdered`: a put pipelines shards, a get prefetches them) or not
 * (`forEachLimit`). Never buffers more than `concurrency` results, never
 * leaves a rejection unhandled.
 */

/**
 * Runs `fn` over `source` with at most `concurrency` calls in flight and
 * yields the results in source order. Pulls the source lazily, so memory is
 * bounded by `concurrency` items. When the consumer stops early or a call
 * fails, the signal passed to `fn` is aborted.
 */
export async function * mapOrdered<T, R> (
  source: Iterable<T> | AsyncIterable<T>,
  concurrency: number,
  fn: (item: T, signal: AbortSignal) => Promise<R>
): AsyncGenerator<R> {
  const controller = new AbortController()
  const pending: Array<Promise<R>> = []
  const iterator = (Symbol.asyncIterator in source)
    ? (source as AsyncIterable<T>)[Symbol.asyncIterator]()
    : (source as Iterable<T>)[Symbol.iterator]()
  let done = false
  const fill = async (): Promise<void> => {
    while (!done && pending.length < concurrency) {
      const next = await iterator.next()
      if (next.done === true) { done = true; break }
      const p = fn(next.value, controller.signal)
      p.catch(() => {}) // observed when its turn comes
      pending.push(p)
    }
  }
  try {
    await fill()
    while (pending.length > 0) {
      const result = await (pending.shift() as Promise<R>)
      await fill()
      yield result
    }
  } finally {
    controller.abort(new Error('pipeline stopped'))
    if (!done) await iterator.return?.()
  }
}

/** Runs `fn` over all items with at most `concurrency` in flight; resolves when all are done. */
export async function forEachLimit<T> (items: Iterable<T>, concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  const iterator = items[Symbol.iterator]()
  const worker = async (): Promise<void> => {
    for (let next = iterator.next(); next.done !== true; next = iterator.next()) {
      await fn(next.value)
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker))
}
