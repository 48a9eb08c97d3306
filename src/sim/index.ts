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
 * Owns the scenario, never the swarm: everything it does to peers goes
 * through the public node API (`createEdgeNode`, `node.data`, `node.jobs`,
 * `node.libp2p`). Never listens beyond loopback; leaves no peer, process or
 * temp dir behind.
 */
export { runSimulation, startPeerHosts, tuningFor, type SimHooks, type SimProgress, type SimPhase } from './simulation.ts'
export { resolveSimOptions, defaultProcesses, WORKLOADS, type SimOptions, type ResolvedSimOptions, type Workload } from './options.ts'
export { formatReport, NOT_SUBMITTED, type SimReport, type JobReport, type FaultRecord, type FaultKind } from './report.ts'
export { planFaults, type FaultPlan, type FaultPlanInput, type KillPlan, type RestartPlan, type ChurnEvent } from './faults.ts'
export { deviceData, deviceName, jobPlans, jobSpec, computeLocally, type JobPlan } from './workload.ts'
export { percentiles, quantile, type Percentiles } from './percentiles.ts'
export { SeededRandom, hashString } from './random.ts'
export { InvalidSimOptionsError, SimTimeoutError, SimHostError, InvalidHostMessageError, SimLimitError } from './errors.ts'
export { checkFileLimit, filesNeeded, openFileLimit } from './file-limit.ts'
export * from './constants.ts'
