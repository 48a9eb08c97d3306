/**
 * @packageDocumentation
 *
 * async/: the generic asynchronous helpers every layer uses: time limits that
 * can be called off (`deadline`), combined signals and races against them
 * (`anySignal`, `raceAbort`, `untilAborted`), and bounded concurrency
 * (`mapOrdered`, `forEachLimit`). The lowest layer: imports nothing of
 * edgeswarm, knows nothing of peers, data or jobs.
 *
 * @example
 *
 * ```ts
 * import { deadline, mapOrdered, raceAbort } from './async/index.ts'
 *
 * const limit = deadline(10_000) // the whole batch gets 10 s
 * try {
 *   const lengths = async (s: string): Promise<number> => s.length
 *   for await (const n of mapOrdered(['a', 'bb', 'ccc'], 2, async (s) => await raceAbort(lengths(s), limit.signal))) {
 *     console.log(n) // 1, 2, 3: source order, at most 2 in flight
 *   }
 * } finally {
 *   limit.clear() // done in time: the timer never fires
 * }
 * ```
 */
export { deadline, type Deadline } from './deadline.ts'
export { anySignal, raceAbort, untilAborted } from './signals.ts'
export { mapOrdered, forEachLimit } from './concurrency.ts'
