/**
 * jobs/job-metrics: the job layer's `edgeswarm_jobs_*` metrics, registered
 * through libp2p's Metrics component: facts received and rejected, sync
 * exchanges, jobs by state and the retries and lost claim races of the jobs
 * this peer knows. Read from the layer's counters and states at each scrape,
 * so accepting a fact costs nothing more. Never labels a figure with a job,
 * task or peer id.
 */
import type { Metrics } from '@libp2p/interface'
import type { JobStats } from './fact-store.ts'
import type { KnownJob } from './finished-job.ts'

export interface JobMetricSources {
  stats: JobStats
  /** Every job whose document is known. */
  jobs: () => KnownJob[]
}

export function registerJobMetrics (m: Metrics, { stats, jobs }: JobMetricSources): void {
  m.registerCounter('edgeswarm_jobs_facts_received_total', { help: 'Job facts accepted (new to this peer), by gossip, sync or its own', calculate: () => stats.factsReceived })
  m.registerCounter('edgeswarm_jobs_facts_rejected_total', { help: 'Job facts refused: malformed, badly signed, or contradicting their job', calculate: () => stats.factsRejected })
  m.registerCounter('edgeswarm_jobs_syncs_total', { help: 'Sync exchanges of job facts this peer completed as the requester', calculate: () => stats.syncs })
  m.registerMetricGroup('edgeswarm_jobs', {
    label: 'state',
    help: 'Jobs this peer knows, by state',
    calculate: () => {
      const out = { queued: 0, running: 0, done: 0, failed: 0, canceled: 0 }
      for (const s of jobs()) out[s.view().status]++
      return out
    }
  })
  m.registerMetricGroup('edgeswarm_jobs_tasks', {
    label: 'kind',
    help: 'Over the jobs this peer knows: tasks run again after a lapsed lease or a failure (retried), claims that lost a race (duplicate work)',
    calculate: () => {
      let retried = 0
      let lostClaims = 0
      for (const s of jobs()) { retried += s.view().retried; lostClaims += s.lostClaims() }
      return { retried, lost_claims: lostClaims }
    }
  })
}
