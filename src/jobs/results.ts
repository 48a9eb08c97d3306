/**
 * jobs/results: the bytes of a task's result (for the reducer) and of a
 * job's final result (for `Job.result`): the copy a fact carries inline when
 * there is one, else the copy in the swarm. Never returns bytes that do not
 * match the hash the swarm agreed on.
 */
import { InvalidJobError, JobFailedError } from './errors.ts'
import type { FactOf } from './facts.ts'
import { readAll, type JobServiceData } from './data-access.ts'
import { resultHash } from './result-hash.ts'
import type { JobState } from './state.ts'

/** The bytes of task result `hash` of a job: inline from its fact, or fetched from the swarm; InvalidJobError when no copy matches. */
export async function readTaskResult (data: Pick<JobServiceData, 'get'>, state: JobState, hash: string, options: { signal?: AbortSignal } = {}): Promise<Uint8Array> {
  const inline = state.inlineResults.get(hash)
  if (inline != null && resultHash(inline) === hash) return inline
  const ref = state.resultRefs.get(hash)
  if (ref == null) throw new InvalidJobError(`no copy of task result ${hash}`)
  const bytes = await readAll(data.get(ref, options))
  if (resultHash(bytes) !== hash) throw new InvalidJobError(`task result ${hash} from the swarm does not match its hash`)
  return bytes
}

/** The bytes of a job's final result `done`: inline from a `done` fact, or fetched from the swarm; JobFailedError when they do not match its hash. */
export async function readFinalResult (data: Pick<JobServiceData, 'get'>, state: JobState, done: FactOf<'done'>, options: { signal?: AbortSignal } = {}): Promise<Uint8Array> {
  const inline = state.doneInline(done.hash)
  if (inline != null) return inline
  const bytes = await readAll(data.get(done.result, options))
  if (resultHash(bytes) !== done.hash) throw new JobFailedError(`result of job ${state.id} does not match its hash`)
  return bytes
}
