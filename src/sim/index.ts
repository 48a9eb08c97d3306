/**
 * @packageDocumentation
 *
 * sim/: the edge swarm simulation as a library. One call starts N real
 * peers on 127.0.0.1 (in this process or spread over child processes), lets
 * each device put its own seeded sensor readings into the swarm, times DHT
 * and gossip between peers, runs the workload's jobs while peers are killed,
 * restarted and churned on a seeded schedule, checks the results against a
 * single-machine computation, and returns a report. `scripts/sim.ts` is the
 * command line over it.
 *
 * @example
 * ```ts
 * import { runSimulation, formatReport } from './sim/index.ts'
 *
 * const report = await runSimulation({ peers: 6, kill: 1, restart: 0 }, {
 *   onProgress: p => { console.error(p.phase, p.message) }
 * })
 * console.log(formatReport(report), report.correct)
 * ```
 *
 * Every device starts from a repo whose config.json holds the run's
 * configuration (a tuning profile and fields, `deviceConfigFor`), so the
 * swarm a run validates is one that daemons can run.
 *
 * Owns the scenario, never the swarm: everything it does to peers goes
 * through the public node API (`createEdgeNode`, `node.data`, `node.jobs`,
 * `node.libp2p`). Never listens beyond loopback; leaves no peer, process or
 * temp dir behind.
 */
export { runSimulation } from './simulation.ts'
export type { SimHooks, SimProgress, SimPhase } from './progress.ts'
export { resolveSimOptions, WORKLOADS, type SimOptions, type ResolvedSimOptions, type Workload } from './options.ts'
export { formatReport, NOT_SUBMITTED, type SimReport, type JobReport } from './report.ts'
export type { FaultRecord, FaultKind } from './samples.ts'
export { startPeerHosts } from './swarm.ts'
export { deviceConfigFor, type DeviceConfig } from './tuning.ts'
export type { PeerHost } from './host-protocol.ts'
export { planFaults, type FaultPlan, type FaultPlanInput } from './faults.ts'
export { deviceData } from './workload.ts'
export { percentiles, type Percentiles } from './percentiles.ts'
export { InvalidSimOptionsError, SimTimeoutError, SimHostError, InvalidHostMessageError, SimLimitError } from './errors.ts'
export { checkFileLimit, filesNeeded, openFileLimit } from './file-limit.ts'
export {
  DEFAULT_PEERS, DEFAULT_KILL, DEFAULT_RESTART, DEFAULT_CHURN_PER_MIN, DEFAULT_REDUNDANCY, DEFAULT_SEED,
  DEFAULT_ROWS_PER_DEVICE, SIM_CHUNK_SIZE, SIM_LEASE_MS, DEFAULT_DHT_SAMPLES, DEFAULT_GOSSIP_SAMPLES,
  DEFAULT_JOB_TIMEOUT_MS, LARGE_SWARM_PEERS, LARGE_SWARM_LEASE_MS, CROWDED_SWARM_PEERS, CROWDED_SWARM_LEASE_MS,
  CROWDED_SWARM_JOB_TIMEOUT_MS
} from './constants.ts'
