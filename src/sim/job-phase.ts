/**
 * sim/job-phase: the job phase. The fault plan's submitter submits the
 * workload's jobs one after the other (a job that takes a training's model,
 * once that training is done, with its model); from the first submit on, the run
 * watches their progress from a live device and fires the faults from it,
 * until every job is done or failed or the phase's limit passes.
 *
 * Owns the phase's clock and limit: each submit counts against it, and a
 * submit that fails ends the submits, not the run (what was measured so far
 * still counts). Never verifies a result (verify.ts does).
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { MIN_SUBMIT_TIMEOUT_MS, PROGRESS_POLL_MS } from './constants.ts'
import type { FaultRunner } from './fault-runner.ts'
import type { JobProgress } from './host-protocol.ts'
import type { ResolvedSimOptions } from './options.ts'
import type { Progress } from './progress.ts'
import type { Device, Swarm } from './swarm.ts'
import { jobSpec, type JobPlan } from './workload.ts'

export interface JobPhaseResult {
  /** Ids of the jobs submitted, in plan order (shorter than the plans when a submit failed). */
  ids: string[]
  /** How long each submit took, ms. */
  submitMs: number[]
  /** From the first submit until every job was seen done or failed (or the phase's limit), ms. */
  durationMs: number
  /** The latest progress seen of each planned job; null if never seen. */
  progress: Array<JobProgress | null>
  /** Why the first submit that failed failed. */
  submitError?: string
}

export interface JobPhaseInit {
  opts: ResolvedSimOptions
  swarm: Swarm
  faults: FaultRunner
  /** Index of the submitting device. */
  submitter: number
  plans: JobPlan[]
  /** The devices' input roots, in device order. */
  cids: string[]
  /** The devices' held-out readings, in device order (the `train` workload). */
  heldOutCids?: string[]
  wasmCid?: string
  progress: Progress
  signal?: AbortSignal
}

/** Submits every planned job and watches them to the end, firing the faults on the way. */
export async function runJobPhase (init: JobPhaseInit): Promise<JobPhaseResult> {
  const { opts, swarm, faults, plans, progress, signal } = init
  const submitter = swarm.device(init.submitter) as Device
  progress('job', `device ${submitter.index} submits ${plans.length} job${plans.length === 1 ? '' : 's'}`)
  const startedAt = performance.now()
  faults.start(startedAt)
  const until = startedAt + opts.jobTimeoutMs
  const ids: string[] = []
  const submitMs: number[] = []
  let submitError: string | undefined
  // the jobs are watched, and faults fire, from the first submit on: a small job can be done
  // before the submitter's last submit returns, and a kill then would hit a finished job
  let submitting = true
  const seen: Array<JobProgress | null> = plans.map(() => null)
  /** The model CID of plan `i`'s result (a training), once that job is done. */
  const modelOf = async (i: number): Promise<string> => {
    while (seen[i]?.status !== 'done') {
      if (ids[i] == null) throw new Error(`${plans[i].name} was not submitted`)
      if (seen[i]?.status === 'failed') throw new Error(`${plans[i].name} failed: ${seen[i]?.reason ?? 'unknown reason'}`)
      if (performance.now() > until) throw new Error(`${plans[i].name} was not done within the job phase's limit`)
      await sleep(PROGRESS_POLL_MS, undefined, { signal })
    }
    const watcher = swarm.observer()
    if (watcher == null) throw new Error('no live peer left to read the model from')
    const r = await watcher.host.call('jobResult', { index: watcher.index, jobId: ids[i], timeoutMs: Math.max(MIN_SUBMIT_TIMEOUT_MS, Math.round(until - performance.now())), text: true })
    const model = (JSON.parse(r.text ?? '{}') as { model?: unknown }).model
    if (typeof model !== 'string') throw new Error(`${plans[i].name}'s result names no model`)
    return model
  }
  const submits = (async () => {
    for (const plan of plans) {
      let spec
      try {
        const params = plan.modelOf != null ? { ...plan.params, model: await modelOf(plan.modelOf) } : plan.params
        const inputs = plan.heldOut === true ? init.heldOutCids ?? [] : init.cids
        spec = jobSpec({ ...plan, params }, inputs, { redundancy: opts.redundancy, leaseMs: opts.leaseMs, ...(init.wasmCid != null ? { wasmCid: init.wasmCid } : {}) })
      } catch (err) {
        if (signal?.aborted === true) return
        submitError = `${plan.name} could not be submitted: ${(err as Error).message}`
        return
      }
      try {
        // the submit (reading every input's root) is part of the job phase and shares its limit
        const timeoutMs = Math.max(MIN_SUBMIT_TIMEOUT_MS, Math.round(until - performance.now()))
        const started = performance.now()
        ids.push((await submitter.host.call('submitJob', { index: submitter.index, spec, timeoutMs })).jobId)
        submitMs.push(Math.round(performance.now() - started))
      } catch (err) {
        if (signal?.aborted === true) return
        submitError = `device ${submitter.index} could not submit ${plan.name}: ${(err as Error).message}`
        return
      }
    }
  })().finally(() => { submitting = false })
  void submits.then(() => { faults.armChurn() })
  let durationMs = 0
  while (submitting || ids.length > 0) {
    signal?.throwIfAborted()
    if (ids.length === 0) {
      await Promise.race([submits, sleep(PROGRESS_POLL_MS, undefined, { signal })])
      continue
    }
    const watcher = swarm.observer()
    if (watcher != null) {
      await Promise.all(ids.map(async (jobId, i) => {
        try {
          const r = await watcher.host.call('jobStatus', { index: watcher.index, jobId })
          if (r.progress != null) seen[i] = r.progress
        } catch { /* the watcher went away mid-poll: ask another next time */ }
      }))
    }
    const total = seen.reduce((a, p) => a + (p?.total ?? 0), 0)
    const done = seen.reduce((a, p) => a + (p?.done ?? 0), 0)
    faults.progress(total > 0 ? done / total : 0)
    const finished = !submitting && seen.slice(0, ids.length).every(p => p != null && (p.status === 'done' || p.status === 'failed'))
    if (finished && durationMs === 0) durationMs = performance.now() - startedAt
    // kills fire from progress while the jobs run, and any left when they finish still fire; they
    // run on the fault chain, not in this loop, so the jobs stay watched while a fault runs
    faults.fireDueKills(finished, submitting)
    const { killed, restarted } = faults.counts()
    progress('job', `${done}/${total} tasks done, ${seen.reduce((a, p) => a + (p?.running ?? 0), 0)} running, ${seen.reduce((a, p) => a + (p?.retried ?? 0), 0)} retried; killed ${killed}, restarted ${restarted}`, done, total)
    if (finished) break
    if (performance.now() > until) {
      durationMs = performance.now() - startedAt
      break
    }
    await sleep(PROGRESS_POLL_MS, undefined, { signal })
  }
  faults.endJobs()
  // a submit past the phase's limit still ends (its own limit is the phase's)
  await submits
  // churn events not yet due are dropped; restarts and returns already planned still happen
  await faults.settle()
  if (ids.length === 0) durationMs = performance.now() - startedAt
  return { ids, submitMs, durationMs, progress: seen, ...(submitError != null ? { submitError } : {}) }
}
