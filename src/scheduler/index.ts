/**
 * @packageDocumentation
 *
 * Pull scheduling: capabilities, the pure choice of tasks, the task
 * executor, and the per-peer scheduler loop.
 */
export * from './capabilities.ts'
export * from './choose.ts'
export * from './executor.ts'
export * from './scheduler.ts'
