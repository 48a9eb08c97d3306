/**
 * @packageDocumentation
 *
 * jobs/: jobs without a coordinator. The job model and partitioning
 * (`spec`), signed facts (`facts`), the deterministic fold of a job's facts
 * (`task-fold`, `state`), and `JobService`, which keeps every peer's facts in
 * step (gossip, sync, the datastore), submits and finds jobs, and elects the
 * peer that reduces a complete job. Never runs tasks: the scheduler does.
 *
 * @example
 * ```ts
 * import { createEdgeNode } from 'edgeswarm'
 *
 * const node = await createEdgeNode({})
 * const input = await node.data.put(new TextEncoder().encode('1\n2\n3\n'))
 * const job = await node.jobs.submit({ fn: 'square', inputs: [input.toString()] })
 * job.addEventListener('progress', (evt) => { console.log((evt as CustomEvent).detail) })
 * console.log(new TextDecoder().decode(await job.result())) // 1 4 9, one a line
 * await node.stop()
 * ```
 */
export { JobService, type JobListEntry } from './job-service.ts'
export type { JobServiceComponents, JobServiceInit, JobPubSub, JobNetwork, JobFunctions } from './components.ts'
export type { JobStats } from './fact-store.ts'
export type { SubmitOptions } from './submit.ts'
export { Job, type JobSource } from './job.ts'
export { JobState } from './state.ts'
export type { KnownJob } from './finished-job.ts'
export type { JobView, JobStatus, TaskView, TaskStatus, PassView, RoundView } from './views.ts'
export {
  validateSpec, buildDocument, encodeDocument, decodeDocument, documentId, shardCid, taskCount, taskShards, shardStartsLine, shardEndsLine,
  type JobSpec, type JobDocument, type Requirements, type Priority, type TaskRef, type ValidSpec, type InputLayout
} from './spec.ts'
export { signFact, openFact, type Fact, type FactOf, type SignedFact, type ResultEntry } from './facts.ts'
export { readAll, type JobDataAccess, type JobServiceData } from './data-access.ts'
export { readInputHead, readParamBlocks, readNamed, type InputHead } from './input-head.ts'
export { isIterative, passCount, passOf, taskOf, shardsOfTaskIndex, taskIndex, taskIndexCount, resultsDigest, stateCid } from './passes.ts'
export { PassLedger, sameOutcome, type AcceptedPass } from './pass-ledger.ts'
export { PassChecker, needsCheck, type ComputedPass, type PassFields, type Verdict } from './pass-check.ts'
export { PassStates } from './pass-states.ts'
export type { Acceptance } from './fact-store.ts'
export type { JobGcReport } from './retention.ts'
export { trainJobSpec, trainParams, readModel, modelView, TRAIN_FUNCTION, type TrainSpec, type TrainingComponents, type ModelView } from './training.ts'
export { resultHash } from './result-hash.ts'
export { encodeResultBatch } from './result-batch.ts'
export { rendezvousScore, keyHash, peerHash, scoreOf } from './rendezvous.ts'
export { InvalidJobError, JobNotFoundError, JobFailedError, JobCanceledError, CancelRefusedError, InvalidFactError, SubmitAbortedError } from './errors.ts'
export { refusalOf, isLate, formatDuration, deadlineReason } from './ending.ts'
export { unmetRequirement, type RunnerStatus } from './runnability.ts'
export {
  JOBS_TOPIC, JOB_SYNC_PROTOCOL, SYNC_INTERVAL_MS, MAX_FACT_BYTES, MAX_REDUNDANCY, DEFAULT_MAX_ATTEMPTS, DEFAULT_LEASE_MS, MIN_LEASE_MS, MAX_LEASE_MS,
  INLINE_RESULT_MAX_BYTES, MAX_INLINE_BYTES_PER_FACT, MAX_RESULTS_PER_FACT, MAX_TASKS_PER_FACT, MAX_REASON_CHARS, MAX_PASSES_PER_JOB,
  MAX_PASS_STATE_BYTES, MIN_DEADLINE_MS, MAX_DEADLINE_MS, DEFAULT_JOB_KEEP_MS
} from './constants.ts'
