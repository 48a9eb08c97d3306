/**
 * sim/verify: the check. Each planned job's result is fetched from a live
 * device and compared (sha-256) with the single-machine computation over the
 * same readings (a training's: `trainLocally`, bit for bit, and its model's
 * evaluation on the held-out readings); then every restarted or returned
 * device fetches every result itself, as a submitter that came back would.
 *
 * Owns the verdict of each job and of the refetch, with the reason of every
 * failure; never changes the swarm.
 */
import { REFETCH_TIMEOUT_MS } from './constants.ts'
import type { JobPhaseResult } from './job-phase.ts'
import type { ResolvedSimOptions } from './options.ts'
import type { Progress } from './progress.ts'
import { NOT_SUBMITTED, type JobReport, type SimReport } from './report.ts'
import type { Swarm } from './swarm.ts'
import { computeLocally, deviceData, heldOutData, sha256Hex, trainLocallyForSim, type JobPlan } from './workload.ts'

/** Reports every planned job; one not submitted (`job.ids` is shorter) is wrong, with the submit's error as its reason. */
export async function verifyJobs (opts: ResolvedSimOptions, swarm: Swarm, plans: JobPlan[], job: JobPhaseResult, progress: Progress): Promise<JobReport[]> {
  progress('verify', 'computing the single-machine result')
  const texts = Array.from({ length: opts.peers }, (_, i) => deviceData(opts.workload, opts.seed, i, opts.rowsPerDevice))
  const expected = await expectedResults(opts, plans, texts, job.ids)
  const reports: JobReport[] = []
  for (let i = 0; i < plans.length; i++) {
    const plan = plans[i]
    const expectedSha256 = expected[i]
    const p = job.progress[i]
    const submitted = i < job.ids.length
    const report: JobReport = {
      name: plan.name,
      id: submitted ? job.ids[i] : '',
      fn: plan.fn,
      params: plan.params,
      tasks: p?.total ?? 0,
      submitMs: job.submitMs[i] ?? null,
      status: submitted ? p?.status ?? 'unknown' : NOT_SUBMITTED,
      retried: p?.retried ?? 0,
      resultSha256: null,
      expectedSha256,
      resultBytes: 0,
      preview: '',
      correct: false
    }
    if (p?.reason != null) report.reason = p.reason
    if (!submitted) {
      report.reason = i === job.ids.length && job.submitError != null ? job.submitError : 'an earlier job could not be submitted'
    } else if (p?.status === 'done') {
      const watcher = swarm.observer()
      try {
        if (watcher == null) throw new Error('no live peer left')
        progress('verify', `fetching the result of ${plan.name} from device ${watcher.index}`)
        const r = await watcher.host.call('jobResult', { index: watcher.index, jobId: job.ids[i], timeoutMs: REFETCH_TIMEOUT_MS })
        report.resultSha256 = r.sha256
        report.resultBytes = r.size
        report.preview = r.preview
        report.correct = r.sha256 === expectedSha256
      } catch (err) {
        report.reason = `result not fetched: ${(err as Error).message}`
      }
    } else if (p?.status !== 'failed') {
      report.reason = `not done within ${opts.jobTimeoutMs} ms`
    }
    reports.push(report)
  }
  return reports
}

/**
 * The sha-256 of each plan's single-machine result. A training's depends on its job's id
 * (every model names its job): one not submitted has none ('').
 */
async function expectedResults (opts: ResolvedSimOptions, plans: JobPlan[], texts: string[], ids: string[]): Promise<string[]> {
  if (opts.workload !== 'train') return await Promise.all(plans.map(async plan => sha256Hex(await computeLocally(plan, texts))))
  if (ids[0] == null) return plans.map(() => '')
  const heldOut = Array.from({ length: opts.peers }, (_, i) => heldOutData(opts.seed, i, opts.rowsPerDevice))
  const local = await trainLocallyForSim(texts, heldOut, ids[0], opts.chunkSize)
  return [sha256Hex(local.training), sha256Hex(local.evaluation)]
}

/** Every restarted or returned device fetches every result itself: the submitter can come back for it. */
export async function refetchResults (swarm: Swarm, ids: string[], jobs: JobReport[]): Promise<SimReport['refetch']> {
  const back = swarm.live().filter(d => d.returned)
  let ok = 0
  const failures: string[] = []
  await Promise.all(back.map(async d => {
    let good = true
    for (let i = 0; i < ids.length; i++) {
      try {
        const r = await d.host.call('jobResult', { index: d.index, jobId: ids[i], timeoutMs: REFETCH_TIMEOUT_MS })
        if (r.sha256 !== jobs[i].expectedSha256) {
          good = false
          failures.push(`device ${d.index}, ${jobs[i].name}: got other bytes (sha-256 ${r.sha256})`)
        }
      } catch (err) {
        good = false
        failures.push(`device ${d.index}, ${jobs[i].name}: ${(err as Error).message} (${await swarm.connectionsOf(d)})`)
      }
    }
    if (good) ok++
  }))
  return { peers: back.length, ok, failures }
}
