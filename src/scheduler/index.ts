/**
 * @packageDocumentation
 *
 * Pull scheduling on one peer: when its queue runs low a peer claims a batch
 * of the open tasks it can run (its designated tasks first, others in turn
 * by rendezvous rank), runs them with their inputs read ahead, renews its
 * leases while they run, and reports results with its next claim. The
 * scheduler depends on the job layer through `JobSource` and on its executor
 * through `TaskRunner`, so either can be replaced (a test passes a job source
 * built from facts, or an executor that lies).
 *
 * @example
 * ```ts
 * import { Scheduler, TaskExecutor, detectCapabilities } from './scheduler/index.ts'
 *
 * const executor = new TaskExecutor({ data, functions })
 * const scheduler = new Scheduler(
 *   { peerId: libp2p.peerId, jobs: jobService, executor, data },
 *   { capabilities: detectCapabilities({ slots: 2 }) }
 * )
 * scheduler.start()
 * // ... the peer claims, runs and reports tasks of every job it can run
 * scheduler.stop()
 * ```
 *
 * Never decides a winner: the job state fold does, identically on every peer.
 */
export { Scheduler, type SchedulerComponents, type SchedulerInit } from './scheduler.ts'
export type { SchedulerMetrics } from './scheduler-metrics.ts'
export { TaskExecutor, type TaskExecutorComponents, type TaskExecutorInit, type TaskRunner, type RunOptions } from './executor.ts'
export type { JobSource, SchedulerData } from './job-source.ts'
export { detectCapabilities, fits, type LocalCapabilities } from './capabilities.ts'
export { MAX_RECENT_FAILURES, STEAL_RANK_STEP_MS } from './constants.ts'
