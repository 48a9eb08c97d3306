/**
 * @packageDocumentation
 *
 * async/: the generic asynchronous helpers every layer uses: time limits that
 * can be called off (`deadline`), combined signals and races against them
 * (`anySignal`, `raceAbort`, `untilAborted`), and bounded concurrency
 * (`mapOrdered`, `forEachLimit`). The lowest layer: imports nothing of
 * edgeswarm, knows nothing of peers, data or jobs.
 */
export { deadline, type Deadline } from './deadline.ts'
export { anySignal, raceAbort, untilAborted } from './signals.ts'
export { mapOrdered, forEachLimit } from './concurrency.ts'
