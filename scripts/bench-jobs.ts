/**
 * bench-jobs: the benchmark of the job layer. Real edge nodes on 127.0.0.1 (TCP +
 * Noise + yamux, gossipsub, job sync), in memory, a fresh swarm per phase. Phases (a) and
 * (b) spread the peers over `--processes` processes (default: one per CPU, the sim's peer
 * hosts, peer i in process i mod P), so that the swarm has the machine's cores as devices
 * would; `--processes 1` runs them all in this process. Phase (c) watches every peer's
 * job state, so its peers always share this process.
 *  (a) tiny tasks: `square` over `--tiny` one-line shards (lines padded to exactly
 *      LINE_BYTES, chunkSize LINE_BYTES): tasks/s from submit to verified result;
 *  (b) CPU-bound tasks: `burn.wasm` (wasm/burn.ts) over `--cpu-tasks` one-line shards of
 *      ~`--task-ms` each, against the same runs through runWasm on a local pool of
 *      LOCAL_WORKERS concurrent workers in this process, timed before and after the swarm's
 *      job: efficiency = mean local time / swarm time (docs/decisions/bench-jobs-cpu-baseline.md);
 *      the swarm's clock starts after a warm-up job of as many tasks, each a tenth of the
 *      work (WARM_UP_WORK), as the local pool was warmed by the calibration (sandbox threads
 *      started, module compiled and optimized, the code of the path run often enough for
 *      V8 to optimize it);
 *  (c) re-run after death: a job of ~DEATH_TASK_MS burn tasks with a short lease; once a
 *      peer other than the submitter runs tasks it is stopped, and the time until every task
 *      it held runs on another peer (or is done), as seen by every surviving peer, is measured.
 * `--observe` sets the peers' metrics and status gossip for (a) and (b): `on` (as daemons run),
 * `off`, or `both`: each run then runs the phase with them off and on, side by side (the order
 * alternating between runs, so the machine's drift tilts neither), and the report adds what
 * they cost: 1 - (figure on / figure off), and for (b) also the CPU time the swarm's processes
 * used for the measured job (`swarmCpuMs`; cost = on / off - 1), which other work on the
 * machine does not change as it changes wall times.
 * Medians over `--runs`; human lines on stderr; with `--json` the last stdout line is
 * {"tinyTasksPerSecond","cpuEfficiency","rerunAfterDeathMs","runs"} (with `--observe both` also
 * "tinyTasksPerSecondOff", "cpuEfficiencyOff", "cpuSwarmCpuMs", "cpuSwarmCpuMsOff" and
 * "observeCost": {"tiny","cpu","cpuTime"}).
 *
 * Usage: npx node scripts/bench-jobs.ts [--json] [--runs 3] [--peers 8] [--slots N]
 *        [--processes P] [--only a,b,c] [--tiny 2000] [--cpu-tasks 200] [--task-ms 50] [--observe on|off|both]
 * Never listens on anything but 127.0.0.1; every node is stopped at the end and on error.
 * One file past 400 lines on purpose: a benchmark is read top to bottom beside its output,
 * and its three phases share the swarm set-up, the job runner and the report.
 */
import { readFile } from 'node:fs/promises'
import { availableParallelism, cpus } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { createEdgeNode, type EdgeNode } from '../src/index.ts'
import { JOBS_TOPIC, taskCount, type JobState } from '../src/jobs/index.ts'
import { runWasm } from '../src/sandbox/index.ts'
import { DEFAULT_LEASE_MS } from '../src/jobs/constants.ts'
import { DEFAULT_REPLICAS } from '../src/data/constants.ts'
import type { PeerHost } from '../src/sim/host-protocol.ts'
import { withHostedSwarm, type HostedSwarm } from './hosted-swarm.ts'
import { sha256Hex } from '../src/sim/workload.ts'
import { buildWasm } from '../wasm/build.mts'

/** Every shard is one line of exactly this many bytes (the smallest chunk size the data layer allows). */
const LINE_BYTES = 1024
/** Tasks of phase (a). */
const DEFAULT_TINY_TASKS = 2_000
/** Tasks of phase (b). */
const DEFAULT_CPU_TASKS = 200
/** Target CPU time of one phase-(b) task. */
const DEFAULT_CPU_TASK_MS = 50
/**
 * Concurrent runWasm calls of the local baseline of phase (b): the cores of the reference
 * machine. The baseline runs before the swarm's job and again after it, and their mean is
 * used: a machine's speed drifts within a minute, and a baseline on one side of the job
 * alone would tilt the ratio whichever way the drift goes.
 */
const LOCAL_WORKERS = 2
/**
 * The work of one task of the warm-up job that phase (b) runs before its clock starts,
 * as a fraction of a measured task's; the job has as many tasks as the measured one.
 * The measured job then runs as a device's second job does, on code V8 has optimized
 * (the job path of gossip, facts, claims and results, and the module's hot loop), as
 * the local baseline runs after its calibration.
 */
const WARM_UP_WORK = 0.1
/** Target CPU time of one phase-(c) task. */
const DEATH_TASK_MS = 1_000
/** Tasks of phase (c). */
const DEATH_TASKS = 16
/** Claim lease of phase (c): a dead peer's tasks are open again this long after its last renewal. */
const DEATH_LEASE_MS = 1_000
/** burn rounds used to measure the speed of burn.wasm on this machine. */
const CALIBRATION_ROUNDS = 10_000_000
/** Timed calibration runs (the median is used). */
const CALIBRATION_RUNS = 7
/** Longest one phase may take before the bench gives up. */
const PHASE_TIMEOUT_MS = 180_000
/** How long to wait for the swarm to connect and form its gossip mesh. */
const SWARM_READY_TIMEOUT_MS = 20_000
/** Poll interval while waiting on state. */
const POLL_MS = 10
const LOOPBACK = ['/ip4/127.0.0.1/tcp/0']

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    runs: { type: 'string', default: '3' },
    peers: { type: 'string', default: '8' },
    slots: { type: 'string', default: String(availableParallelism()) },
    processes: { type: 'string' },
    only: { type: 'string', default: 'a,b,c' },
    tiny: { type: 'string', default: String(DEFAULT_TINY_TASKS) },
    'cpu-tasks': { type: 'string', default: String(DEFAULT_CPU_TASKS) },
    'task-ms': { type: 'string', default: String(DEFAULT_CPU_TASK_MS) },
    observe: { type: 'string', default: 'on' }
  }
})
if (!['on', 'off', 'both'].includes(values.observe)) throw new Error(`--observe takes on, off or both; got ${values.observe}`)
/** The settings of metrics and status gossip each run measures (a) and (b) with. */
const observeModes: boolean[] = values.observe === 'both' ? [false, true] : [values.observe === 'on']
const runs = positiveInt(values.runs, '--runs')
const peerCount = positiveInt(values.peers, '--peers')
const slots = positiveInt(values.slots, '--slots')
const processes = values.processes != null ? positiveInt(values.processes, '--processes') : Math.min(availableParallelism(), peerCount)
if (processes > peerCount) throw new Error(`--processes (${processes}) cannot exceed --peers (${peerCount})`)
const tinyTasks = positiveInt(values.tiny, '--tiny')
const cpuTasks = positiveInt(values['cpu-tasks'], '--cpu-tasks')
const cpuTaskMs = positiveInt(values['task-ms'], '--task-ms')
const phases = new Set(values.only.split(',').map(s => s.trim()))
for (const p of phases) if (!['a', 'b', 'c'].includes(p)) throw new Error(`--only takes a,b,c; got ${p}`)

const log = (msg: string): void => { process.stderr.write(msg + '\n') }
const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
const dec = (b: Uint8Array): string => new TextDecoder().decode(b)

function positiveInt (text: string, flag: string): number {
  const n = Number(text)
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer, got ${text}`)
  return n
}

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  if (s.length === 0) return NaN
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

/** One line of exactly LINE_BYTES: `text` right-aligned with spaces, then '\n' (the functions trim lines). */
function paddedLine (text: string): string {
  if (text.length > LINE_BYTES - 1) throw new Error(`line too long: ${text.length}`)
  return ' '.repeat(LINE_BYTES - 1 - text.length) + text + '\n'
}

// ------------------------------------------------------------------ swarm

/** `n` in-memory peers, fully connected, with the jobs topic meshed; stops what it started on failure. */
async function startSwarm (n: number): Promise<EdgeNode[]> {
  const nodes: EdgeNode[] = []
  try {
    const options = { listen: LOOPBACK, mdns: false, scheduler: { slots } }
    nodes.push(await createEdgeNode(options))
    const first = nodes[0].multiaddrs[0].toString()
    for (let i = 1; i < n; i++) nodes.push(await createEdgeNode({ ...options, bootstrap: [first] }))
    await Promise.all(nodes.flatMap((a, i) => nodes.slice(i + 1).map(async b => { await a.libp2p.dial(b.multiaddrs[0]) })))
    const ready = (): boolean => nodes.every(x => x.libp2p.services.pubsub.getSubscribers(JOBS_TOPIC).length >= n - 1)
    const deadline = Date.now() + SWARM_READY_TIMEOUT_MS
    while (!ready()) {
      if (Date.now() > deadline) throw new Error(`swarm of ${n} did not connect within ${SWARM_READY_TIMEOUT_MS} ms`)
      await sleep(50)
    }
    return nodes
  } catch (err) {
    await stopAll(nodes)
    throw err
  }
}

async function stopAll (nodes: EdgeNode[]): Promise<void> {
  await Promise.allSettled(nodes.map(async n => { await n.stop() }))
}

async function withSwarm<T> (fn: (nodes: EdgeNode[]) => Promise<T>): Promise<T> {
  const nodes = await startSwarm(peerCount)
  try {
    return await fn(nodes)
  } finally {
    await stopAll(nodes)
  }
}


/** CPU time of the whole machine so far (ms): busy (not idle) and all, over every core. */
function machineTimes (): { busy: number, all: number } {
  let busy = 0
  let all = 0
  for (const c of cpus()) {
    const t = c.times.user + c.times.nice + c.times.sys + c.times.irq
    busy += t
    all += t + c.times.idle
  }
  return { busy, all }
}

/**
 * Submits `spec` from peer 0 and waits for its result: the ms from submit to result, the result's
 * sha-256, the job's tasks and retries, and how busy the machine's cores were meanwhile (0..1: below
 * 1, the job waited on something other than CPU).
 */
async function runHostedJob (swarm: HostedSwarm, spec: { fn: string, wasm?: string, inputs: string[] }): Promise<{ ms: number, sha256: string, total: number, retried: number, machineBusy: number, cpuMs: number }> {
  const host = swarm.hostOf(0)
  const cpu0 = await hostsCpuMs(swarm)
  const t = performance.now()
  const before = machineTimes()
  const { jobId } = await host.call('submitJob', { index: 0, spec: { ...spec, params: {}, redundancy: 1, leaseMs: DEFAULT_LEASE_MS }, timeoutMs: PHASE_TIMEOUT_MS })
  const r = await host.call('jobResult', { index: 0, jobId, timeoutMs: PHASE_TIMEOUT_MS })
  const ms = performance.now() - t
  const after = machineTimes()
  const cpuMs = await hostsCpuMs(swarm) - cpu0
  const { progress } = await host.call('jobStatus', { index: 0, jobId })
  const machineBusy = round((after.busy - before.busy) / Math.max(1, after.all - before.all), 3)
  return { ms, sha256: r.sha256, total: progress?.total ?? 0, retried: progress?.retried ?? 0, machineBusy, cpuMs }
}

/**
 * CPU time (ms) the swarm's host processes have used, all threads (the sandbox's too): what a
 * job costs the peers whatever else the machine runs, unlike its wall time.
 */
async function hostsCpuMs (swarm: HostedSwarm): Promise<number> {
  const snaps = await Promise.all(swarm.hosts.map(async h => await h.call('snapshot', {})))
  return snaps.reduce((a, s) => a + (s.cpuMs ?? 0), 0)
}

/** Executions per peer and duplicates from every host, and the worst host's event-loop delay over its life. */
async function hostedSummary (swarm: HostedSwarm): Promise<{ executedPerPeer: number[], duplicates: number, loop: { p50Ms: number, p99Ms: number } }> {
  const snaps = await Promise.all(swarm.hosts.map(async h => await h.call('snapshot', {})))
  const peers = snaps.flatMap(s => s.peers).sort((a, b) => a.index - b.index)
  return {
    executedPerPeer: peers.map(p => p.executed),
    duplicates: peers.reduce((a, p) => a + p.duplicates, 0),
    loop: { p50Ms: round(Math.max(...snaps.map(s => s.eventLoopDelayP50Ms))), p99Ms: round(Math.max(...snaps.map(s => s.eventLoopDelayP99Ms))) }
  }
}

const round = (x: number, digits = 1): number => Number(x.toFixed(digits))

// ------------------------------------------------------------------ (a) tiny tasks

interface TinyRun { tasks: number, processes: number, ms: number, tasksPerSecond: number, machineBusy: number, putMs: number, retried: number, duplicates: number, executedPerPeer: number[], loop: { p50Ms: number, p99Ms: number } }

async function tinyPhase (observe: boolean): Promise<TinyRun> {
  return await withHostedSwarm(peerCount, { processes, readyTimeoutMs: SWARM_READY_TIMEOUT_MS, slots, observe }, async (swarm) => {
    const text = Array.from({ length: tinyTasks }, (_, i) => paddedLine(String(i))).join('')
    const expected = sha256Hex(enc(Array.from({ length: tinyTasks }, (_, i) => `${i * i}\n`).join('')))
    const t0 = performance.now()
    const input = await swarm.hostOf(0).call('putBytes', { index: 0, bytes: enc(text), replicas: DEFAULT_REPLICAS, chunkSize: LINE_BYTES })
    const putMs = performance.now() - t0
    const job = await runHostedJob(swarm, { fn: 'square', inputs: [input.cid] })
    if (job.sha256 !== expected) throw new Error('(a) the swarm result differs from the squares of 0..n-1')
    if (job.total !== tinyTasks) throw new Error(`(a) expected ${tinyTasks} tasks, the job has ${job.total}`)
    const s = await hostedSummary(swarm)
    return { tasks: job.total, processes, ms: round(job.ms), tasksPerSecond: round(job.total / (job.ms / 1000)), machineBusy: job.machineBusy, putMs: round(putMs), retried: job.retried, ...s }
  })
}

// ------------------------------------------------------------------ (b) CPU-bound tasks

interface Calibration { rounds: number, nsPerRound: number, taskMs: number }

/** burn rounds that take `targetMs` through runWasm on this machine (measured, not assumed). */
async function calibrate (burn: Uint8Array, targetMs: number): Promise<Calibration> {
  await runWasm(burn, enc(`${CALIBRATION_ROUNDS}\n`), ['burn'])
  const times: number[] = []
  for (let i = 0; i < CALIBRATION_RUNS; i++) {
    const t = performance.now()
    await runWasm(burn, enc(`${CALIBRATION_ROUNDS + i}\n`), ['burn'])
    times.push(performance.now() - t)
  }
  const nsPerRound = median(times) * 1e6 / CALIBRATION_ROUNDS
  const rounds = Math.round(targetMs * 1e6 / nsPerRound)
  // check: one task of `rounds`
  const check: number[] = []
  for (let i = 0; i < 3; i++) {
    const t = performance.now()
    await runWasm(burn, enc(`${rounds + i}\n`), ['burn'])
    check.push(performance.now() - t)
  }
  return { rounds, nsPerRound: round(nsPerRound, 3), taskMs: round(median(check)) }
}

/** Runs every line through runWasm, `concurrency` at a time; the outputs in line order. */
async function runLocally (burn: Uint8Array, lines: string[], concurrency: number): Promise<string[]> {
  const out: string[] = new Array(lines.length)
  let next = 0
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < lines.length) {
      const i = next++
      out[i] = dec(await runWasm(burn, enc(lines[i]), ['burn']))
    }
  }))
  return out
}

interface CpuRun { tasks: number, processes: number, rounds: number, localMs: number, localBeforeMs: number, localAfterMs: number, settleMs: number, swarmMs: number, efficiency: number, machineBusy: number, swarmCpuMs: number, duplicates: number, retried: number, executedPerPeer: number[], loop: { p50Ms: number, p99Ms: number } }

async function cpuPhase (burn: Uint8Array, rounds: number, observe: boolean): Promise<CpuRun> {
  const lines = Array.from({ length: cpuTasks }, (_, i) => paddedLine(String(rounds + i)))
  // the baseline with no swarm running: the same runs on LOCAL_WORKERS concurrent workers,
  // before the swarm's job and again after it (see LOCAL_WORKERS)
  const timeLocally = async (): Promise<{ ms: number, out: string[] }> => {
    const t0 = performance.now()
    const out = await runLocally(burn, lines, LOCAL_WORKERS)
    return { ms: performance.now() - t0, out }
  }
  const before = await timeLocally()
  const local = before.out
  const swarmRun = await withHostedSwarm(peerCount, { processes, readyTimeoutMs: SWARM_READY_TIMEOUT_MS, slots, observe }, async (swarm) => {
    const host = swarm.hostOf(0)
    const moduleCid = await host.call('putBytes', { index: 0, bytes: burn, replicas: DEFAULT_REPLICAS })
    const input = await host.call('putBytes', { index: 0, bytes: enc(lines.join('')), replicas: DEFAULT_REPLICAS, chunkSize: LINE_BYTES })
    // a light job first, as the baseline's pool was warmed by the calibration: every peer's
    // sandbox threads started, the module compiled, the job path optimized, as on a device
    // that has run a job before (see WARM_UP_WORK)
    const warmRounds = Math.max(1, Math.round(rounds * WARM_UP_WORK))
    const warmInput = await host.call('putBytes', { index: 0, bytes: enc(Array.from({ length: cpuTasks }, (_, i) => paddedLine(String(warmRounds + i))).join('')), replicas: DEFAULT_REPLICAS, chunkSize: LINE_BYTES })
    await runHostedJob(swarm, { fn: 'burn', wasm: moduleCid.cid, inputs: [warmInput.cid] })
    // the clock starts with the swarm as quiet as the baseline's machine: the puts' provider
    // announcements (a DHT lookup and k messages per block) made first, not during the job
    const settle = await Promise.all(swarm.hosts.map(async h => await h.call('whenProvided', { timeoutMs: PHASE_TIMEOUT_MS })))
    if (!settle.every(x => x.settled)) throw new Error(`(b) the put's provider announcements were not made within ${PHASE_TIMEOUT_MS} ms`)
    const job = await runHostedJob(swarm, { fn: 'burn', wasm: moduleCid.cid, inputs: [input.cid] })
    if (job.sha256 !== sha256Hex(enc(local.join('')))) throw new Error('(b) the swarm result differs from the local runs')
    const s = await hostedSummary(swarm)
    return { tasks: job.total, settleMs: round(Math.max(...settle.map(x => x.ms))), swarmMs: job.ms, machineBusy: job.machineBusy, swarmCpuMs: round(job.cpuMs), retried: job.retried, ...s }
  })
  const after = await timeLocally()
  if (sha256Hex(enc(after.out.join(''))) !== sha256Hex(enc(local.join('')))) throw new Error('(b) the two local runs differ')
  const localMs = (before.ms + after.ms) / 2
  return {
    ...swarmRun, processes, rounds, localMs: round(localMs), localBeforeMs: round(before.ms), localAfterMs: round(after.ms),
    swarmMs: round(swarmRun.swarmMs), efficiency: round(localMs / swarmRun.swarmMs, 3)
  }
}

// ------------------------------------------------------------------ (c) re-run after death

interface DeathRun { ms: number, perTaskMs: number[], victimTasks: number, tasks: number, completed: boolean, completeMs: number }

/** Tasks `peer` holds (live lease, no result yet) in a job state. */
function heldBy (state: JobState, peer: string): number[] {
  const total = state.doc != null ? taskCount(state.doc) : 0
  const held: number[] = []
  for (let i = 0; i < total; i++) if (state.holds(i, peer)) held.push(i)
  return held
}

async function deathPhase (burn: Uint8Array, rounds: number): Promise<DeathRun> {
  return await withSwarm(async (nodes) => {
    const submitter = nodes[0]
    const lines = Array.from({ length: DEATH_TASKS }, (_, i) => paddedLine(String(rounds + i)))
    const moduleCid = await submitter.data.put(burn)
    const input = await submitter.data.put(enc(lines.join('')), { chunkSize: LINE_BYTES })
    const job = await submitter.jobs.submit({ fn: 'burn', wasm: moduleCid.toString(), inputs: [input.toString()], leaseMs: DEATH_LEASE_MS })
    const deadline = Date.now() + PHASE_TIMEOUT_MS

    // a victim: a peer other than the submitter executing tasks of the job that, as every other
    // peer sees it, only it runs (a task another peer already runs would count as moved at once)
    const soleHolder = (task: number, peer: string): boolean => nodes.every(n => {
      const t = n.jobs.service.state(job.id)?.task(task)
      return t !== undefined && t.status === 'running' && t.running.length === 1 && t.running[0] === peer
    })
    let victim: EdgeNode | undefined
    let held: number[] = []
    while (victim === undefined) {
      if (Date.now() > deadline) throw new Error('(c) no peer started running tasks')
      for (const node of nodes.slice(1)) {
        const state = node.jobs.service.state(job.id)
        if (state === undefined || node.scheduler.metrics.running === 0) continue
        const id = node.peerId.toString()
        const mine = heldBy(state, id).filter(task => soleHolder(task, id))
        if (mine.length > 0) { victim = node; held = mine; break }
      }
      if (victim === undefined) await sleep(POLL_MS)
    }
    const victimId = (victim as EdgeNode).peerId.toString()
    const survivors = nodes.filter(n => n !== victim)

    const died = performance.now()
    const stopping = victim.stop()
    const movedAt = new Map<number, number>()
    const movedEverywhere = (task: number): boolean => survivors.every(n => {
      const t = n.jobs.service.state(job.id)?.task(task)
      return t !== undefined && (t.status === 'done' || t.running.some(p => p !== victimId))
    })
    while (movedAt.size < held.length) {
      if (Date.now() > deadline) throw new Error(`(c) tasks of the dead peer did not move: ${held.filter(t => !movedAt.has(t)).join(', ')}`)
      for (const task of held) if (!movedAt.has(task) && movedEverywhere(task)) movedAt.set(task, performance.now() - died)
      if (movedAt.size < held.length) await sleep(POLL_MS)
    }
    await stopping
    const ms = Math.max(...movedAt.values())
    // the job still completes, with every line burnt once
    const result = dec(await job.result({ signal: AbortSignal.timeout(PHASE_TIMEOUT_MS) }))
    const completeMs = performance.now() - died
    const completed = result.split('\n').filter(l => l !== '').length === DEATH_TASKS
    if (!completed) throw new Error(`(c) the job result has ${result.split('\n').length - 1} lines, not one per task (${DEATH_TASKS}): ${JSON.stringify(result.slice(0, 300))}`)
    return { ms: round(ms), perTaskMs: [...movedAt.values()].map(x => round(x)), victimTasks: held.length, tasks: DEATH_TASKS, completed, completeMs: round(completeMs) }
  })
}

// ------------------------------------------------------------------ main

async function main (): Promise<void> {
  log(`bench-jobs: ${peerCount} peers, (a) and (b) in ${processes} process(es), (c) in this one, ${slots} slot(s) per peer, ${availableParallelism()} CPU(s), ${runs} run(s), phases ${[...phases].join(',')}`)
  const needsBurn = phases.has('b') || phases.has('c')
  const burn = needsBurn ? await readFile((await buildWasm(['burn']))[0]) : new Uint8Array(0)
  const cal = needsBurn ? await calibrate(burn, cpuTaskMs) : undefined
  const deathRounds = cal !== undefined ? Math.round(cal.rounds * DEATH_TASK_MS / cpuTaskMs) : 0
  if (cal !== undefined) log(`burn.wasm: ${cal.nsPerRound} ns/round; ${cal.rounds} rounds ≈ ${cal.taskMs} ms through runWasm`)

  type Run = { a?: TinyRun, b?: CpuRun, aOff?: TinyRun, bOff?: CpuRun, c?: DeathRun }
  const results: Run[] = []
  const onOff = (observe: boolean): string => observeModes.length > 1 ? ` [metrics and status ${observe ? 'on' : 'off'}]` : ''
  for (let run = 1; run <= runs; run++) {
    const r: Run = {}
    // with both settings, the order alternates between runs so the machine's drift favours neither
    const order = run % 2 === 1 ? observeModes : [...observeModes].reverse()
    if (phases.has('a')) {
      for (const observe of order) {
        const a = await tinyPhase(observe)
        if (observe || observeModes.length === 1) r.a = a; else r.aOff = a
        log(`run ${run} (a)${onOff(observe)}: ${a.tasks} tiny tasks in ${a.ms} ms = ${a.tasksPerSecond} tasks/s ` +
          `(machine busy ${Math.round(a.machineBusy * 100)}%, put ${a.putMs} ms, retried ${a.retried}, duplicates ${a.duplicates}, per peer ${a.executedPerPeer.join('/')}, worst host's loop delay p50 ${a.loop.p50Ms} ms, p99 ${a.loop.p99Ms} ms)`)
      }
    }
    if (phases.has('b') && cal !== undefined) {
      for (const observe of order) {
        const b = await cpuPhase(burn, cal.rounds, observe)
        if (observe || observeModes.length === 1) r.b = b; else r.bOff = b
        log(`run ${run} (b)${onOff(observe)}: ${b.tasks} cpu tasks: local ${LOCAL_WORKERS} workers ${b.localMs} ms (before ${b.localBeforeMs}, after ${b.localAfterMs}), swarm ${b.swarmMs} ms (${b.swarmCpuMs} ms of CPU), efficiency ${b.efficiency} ` +
          `(machine busy ${Math.round(b.machineBusy * 100)}%, duplicates ${b.duplicates}, per peer ${b.executedPerPeer.join('/')}, worst host's loop delay p50 ${b.loop.p50Ms} ms, p99 ${b.loop.p99Ms} ms)`)
      }
    }
    if (phases.has('c') && cal !== undefined) {
      r.c = await deathPhase(burn, deathRounds)
      log(`run ${run} (c): ${r.c.victimTasks} task(s) of the dead peer ran elsewhere after ${r.c.ms} ms (per task ${r.c.perTaskMs.join(', ')}); job done ${r.c.completeMs} ms after the death`)
    }
    results.push(r)
  }

  const pick = <T>(f: (r: Run) => T | undefined): T[] => results.map(f).filter((x): x is T => x !== undefined)
  const both = observeModes.length > 1
  const tinyOn = phases.has('a') ? round(median(pick(r => r.a?.tasksPerSecond))) : null
  const cpuOn = phases.has('b') ? round(median(pick(r => r.b?.efficiency)), 3) : null
  const tinyOff = both && phases.has('a') ? round(median(pick(r => r.aOff?.tasksPerSecond))) : null
  const cpuOff = both && phases.has('b') ? round(median(pick(r => r.bOff?.efficiency)), 3) : null
  const cost = (on: number | null, off: number | null): number | null => on != null && off != null && off > 0 ? round(1 - on / off, 4) : null
  const cpuMsOn = phases.has('b') ? round(median(pick(r => r.b?.swarmCpuMs))) : null
  const cpuMsOff = both && phases.has('b') ? round(median(pick(r => r.bOff?.swarmCpuMs))) : null
  const out = {
    tinyTasksPerSecond: tinyOn,
    cpuEfficiency: cpuOn,
    rerunAfterDeathMs: phases.has('c') ? Math.round(median(pick(r => r.c?.ms))) : null,
    ...(both
      ? {
          tinyTasksPerSecondOff: tinyOff,
          cpuEfficiencyOff: cpuOff,
          cpuSwarmCpuMs: cpuMsOn,
          cpuSwarmCpuMsOff: cpuMsOff,
          observeCost: { tiny: cost(tinyOn, tinyOff), cpu: cost(cpuOn, cpuOff), cpuTime: cpuMsOn != null && cpuMsOff != null && cpuMsOff > 0 ? round(cpuMsOn / cpuMsOff - 1, 4) : null }
        }
      : {}),
    runs: results.map(r => ({ ...r, peers: peerCount, processes, slotsPerPeer: slots, cpus: availableParallelism(), burnRoundsPerTask: cal?.rounds, burnTaskMs: cal?.taskMs }))
  }
  if (both) log(`metrics and status off → on: (a) ${tinyOff} → ${tinyOn} tasks/s (cost ${out.observeCost?.tiny}), (b) efficiency ${cpuOff} → ${cpuOn} (cost ${out.observeCost?.cpu}), (b) the swarm's CPU time ${cpuMsOff} → ${cpuMsOn} ms (cost ${out.observeCost?.cpuTime})`)
  log(`median: (a) ${out.tinyTasksPerSecond} tasks/s, (b) efficiency ${out.cpuEfficiency}, (c) re-run after death ${out.rerunAfterDeathMs} ms`)
  if (values.json === true) process.stdout.write(JSON.stringify(out) + '\n')
}

main().then(() => process.exit(0), (err: unknown) => {
  log(`bench-jobs failed: ${(err as Error).stack ?? String(err)}`)
  process.exit(1)
})
