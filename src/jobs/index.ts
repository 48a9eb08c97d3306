/**
 * @packageDocumentation
 *
 * Jobs without a coordinator: the job model and partitioning (`spec`), signed
 * facts (`facts`), the deterministic state fold (`state`) and the service that
 * keeps every peer's facts in step and aggregates results (`job-service`).
 */
export * from './constants.ts'
export * from './errors.ts'
export * from './spec.ts'
export * from './facts.ts'
export * from './state.ts'
export * from './data-access.ts'
export * from './result-hash.ts'
export * from './result-batch.ts'
export * from './rendezvous.ts'
export { Job, JobService, type JobServiceInit, type SubmitOptions } from './job-service.ts'
