/**
 * sim/simulation: one run of the edge scenario, from an empty machine to a
 * report, as a sequence of phases: start the hosts and the swarm (swarm.ts),
 * let every device put its readings (load.ts), time DHT and gossip
 * (probes.ts), run the jobs while the fault plan kills, restarts and churns
 * devices (job-phase.ts, fault-runner.ts), check every result against the
 * single-machine computation (verify.ts), and report (report.ts).
 *
 * Owns the order of the phases and the clean-up: every peer is stopped, every
 * child process ended and the temp dir removed, on success, on error and on
 * abort. Never touches a peer directly: all through the swarm's hosts.
 */
import { checkFileLimit } from './file-limit.ts'
import { FaultRunner } from './fault-runner.ts'
import { planFaults } from './faults.ts'
import { runJobPhase } from './job-phase.ts'
import { loadData, settleAnnouncements } from './load.ts'
import { resolveSimOptions, type SimOptions } from './options.ts'
import { measureDht, measureGossip } from './probes.ts'
import { progressTo, type SimHooks } from './progress.ts'
import { SeededRandom } from './random.ts'
import { buildReport, type SimReport } from './report.ts'
import { Swarm } from './swarm.ts'
import { deviceConfigFor, maxConnectionsFor } from './tuning.ts'
import { refetchResults, verifyJobs } from './verify.ts'
import { jobPlans } from './workload.ts'

/** Runs the scenario and returns its report; throws only when the run could not be carried out. */
export async function runSimulation (options: SimOptions = {}, hooks: SimHooks = {}): Promise<SimReport> {
  const opts = resolveSimOptions(options)
  const { signal } = hooks
  signal?.throwIfAborted()
  checkFileLimit(opts.peers, opts.processes, maxConnectionsFor(opts.peers))
  const startedAt = performance.now()
  const progress = progressTo(hooks)
  const plan = planFaults({ seed: opts.seed, peers: opts.peers, kill: opts.kill, restart: opts.restart, churnPerMin: opts.churnPerMin, horizonMs: opts.jobTimeoutMs })
  const swarm = new Swarm({ peers: opts.peers, processes: opts.processes, config: deviceConfigFor(opts.peers, opts.replicas), seed: opts.seed, progress, ...(signal != null ? { signal } : {}) })
  const faults = new FaultRunner(swarm, plan, opts.replicas)
  try {
    progress('start', `starting ${opts.processes === 1 ? 'in this process' : `${opts.processes} host processes`}`)
    await swarm.startHosts(plan.kills.map(k => k.peer))
    signal?.throwIfAborted()
    await swarm.startOriginals()
    const setupMs = performance.now() - startedAt
    if (hooks.dashboard != null) {
      const killed = new Set(plan.kills.map(k => k.peer))
      const shown = swarm.live().find(d => !killed.has(d.index)) ?? swarm.live()[0]
      const { address } = await shown.host.call('serveDashboard', { index: shown.index })
      hooks.dashboard.onReady(`http://${address}/`)
    }

    const load = await loadData(opts, swarm, plan.submitter, progress, signal)
    const announce = await settleAnnouncements(swarm, progress)
    // one seeded stream picks the devices of both measurements, in this order
    const measureRnd = new SeededRandom(opts.seed, 'measure')
    const dht = await measureDht(swarm, opts.seed, opts.dhtSamples, measureRnd, progress, signal)
    const gossip = await measureGossip(swarm, opts.gossipSamples, measureRnd, progress, signal)

    const plans = jobPlans(opts.workload)
    const job = await runJobPhase({
      opts, swarm, faults, submitter: plan.submitter, plans, cids: load.cids, progress,
      ...(load.wasmCid != null ? { wasmCid: load.wasmCid } : {}),
      ...(signal != null ? { signal } : {})
    })
    const jobs = await verifyJobs(opts, swarm, plans, job, progress)
    const refetch = await refetchResults(swarm, job.ids, jobs)

    progress('verify', 'collecting metrics')
    const { shared, solo } = await swarm.snapshots()
    const report = buildReport(opts, {
      setupMs,
      dataLoadMs: load.dataLoadMs,
      announce,
      bytesInput: load.bytesInput,
      dht,
      gossip,
      durationMs: job.durationMs,
      jobs,
      refetch,
      faults: faults.summary(),
      soloProcesses: swarm.soloStarted,
      shared,
      solo,
      wallMs: performance.now() - startedAt
    })
    await hooks.dashboard?.keepUp(report)
    return report
  } finally {
    await faults.stop()
    progress('teardown', 'stopping peers')
    await swarm.close()
  }
}
