/**
 * scheduler/scheduler-metrics: the scheduler's `edgeswarm_scheduler_*`
 * metrics, registered through libp2p's Metrics component: tasks claimed,
 * run, failed and duplicated, leases this peer let expire, slots and tasks
 * held, and the run time of each task (a histogram, the one figure observed
 * on the task path). Never labels a figure with a job, task or peer id.
 */
import type { Histogram, Metrics } from '@libp2p/interface'
import type { SchedulerMetrics } from './scheduler.ts'

export interface SchedulerMetricSources {
  metrics: SchedulerMetrics
  slots: number
  /** Tasks claimed here and not finished (queued or running). */
  held: () => number
}

/** Registers the scheduler's metrics; returns the histogram of task run times. */
export function registerSchedulerMetrics (m: Metrics, { metrics, slots, held }: SchedulerMetricSources): Histogram {
  m.registerCounterGroup('edgeswarm_scheduler_tasks_total', {
    label: 'event',
    help: 'Tasks this peer claimed, ran to a result, failed, and ran without need (duplicated: the task was settled elsewhere first)',
    calculate: () => ({ claimed: metrics.claimed, run: metrics.executed, failed: metrics.failed, duplicated: metrics.duplicates })
  })
  m.registerCounter('edgeswarm_scheduler_leases_expired_total', { help: 'Tasks this peer held whose lease ended before it renewed it', calculate: () => metrics.leasesExpired })
  m.registerMetricGroup('edgeswarm_scheduler_tasks', {
    label: 'state',
    help: 'Tasks on this peer now: running, and queued (claimed, waiting for a slot)',
    calculate: () => ({ running: metrics.running, queued: Math.max(0, held() - metrics.running) })
  })
  m.registerMetric('edgeswarm_scheduler_slots', { help: 'Tasks this peer runs at once', calculate: () => slots })
  return m.registerHistogram('edgeswarm_scheduler_task_run_seconds', { help: 'Run time of each task, without its wait for input' })
}
