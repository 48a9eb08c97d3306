/**
 * bench-train: the benchmark of training on the swarm. Real edge nodes on 127.0.0.1 (TCP +
 * Noise + yamux, gossipsub, job sync), in memory, `--peers` of them spread over `--processes`
 * processes (the sim's peer hosts, peer i in process i mod P), a fresh swarm per phase; every
 * training is softmax over FEATURES features and CLASSES classes of seeded synthetic records,
 * and its model is checked against the single-machine computation (`trainLocally`), bit for bit.
 *  (a) round time: `--records-a` records in SHARDS_A shards, `--rounds-a` rounds: the median
 *      time from one pass's accepted state to the next (its reducer's stamps), with what a
 *      round is made of, from the facts' and the runs' machine times:
 *        sync     the pass's state reaching the peers, its check, their claims (state → first run);
 *        compute  the tasks running (first run starts → last run ends);
 *        gossip   the results batched and gossiped, reduced and checked (last run → next state);
 *      and the CPU a round costs: the swarm's processes (every thread, from pass 1's opening to
 *      the result, per round) against the same rounds on a local pool with no swarm running
 *      (the tasks' compute alone), so the share of a round that is not compute shows even on a
 *      busy machine, where wall times stretch;
 *  (b) CPU efficiency: `--records-b` records (CPU-bound rounds) against the same passes computed
 *      in this process by LOCAL_WORKERS ml task threads over the same shards, the same tasks and
 *      reduces, before the swarm's training and after it (the mean): efficiency = local time of
 *      the rounds / swarm time of the rounds (the scan pass is left out of both); with the CPU
 *      time of the rounds on each side;
 *  (c) faults: the (a) training with `--rounds-c` rounds; when pass KILL_AT_PASS opens, 2 peers
 *      other than the submitter are stopped (their connections dropped, as the sim kills a
 *      device): the rounds that saw a kill against the median round, and the model bits.
 * Medians over `--runs`; human lines on stderr; with `--json` the last stdout line is
 * {"roundMsP50","cpuEfficiency","faultRoundMsMax","runs"} (faultRoundMsMax: the longest round
 * that saw a kill, minus the median round of that run).
 *
 * Usage: npx node scripts/bench-train.ts [--json] [--runs 3] [--peers 8] [--processes 2]
 *        [--only a,b,c] [--records-a 2000] [--rounds-a 20] [--records-b 200000] [--rounds-b 4] [--chunk-b 262144] [--rounds-c 30]
 * Never listens on anything but 127.0.0.1; every node and child process is stopped at the end and on error.
 * One file past 400 lines on purpose, as bench-jobs: a benchmark is read top to bottom beside
 * its output, and its three phases share the swarm set-up, the data, the job runner and the report.
 */
import { createHash } from 'node:crypto'
import { availableParallelism } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { DEFAULT_CHUNK_SIZE, DEFAULT_REPLICAS, MAX_CHUNK_SIZE, MIN_CHUNK_SIZE } from '../src/data/constants.ts'
import { DEFAULT_LEASE_MS } from '../src/jobs/constants.ts'
import { stateCid } from '../src/jobs/index.ts'
import { trainFunction } from '../src/functions/index.ts'
import { ownedRanges, parseTrainSpec, trainLocally, TaskThreads } from '../src/ml/index.ts'
import type { PeerHost } from '../src/sim/host-protocol.ts'
import { withHostedSwarm, type HostedSwarm } from './hosted-swarm.ts'
import { SeededRandom } from '../src/sim/random.ts'

/** Features of every record. */
const FEATURES = 64
/** Classes of the label. */
const CLASSES = 10
/** Shards of phase (a)'s input: its tasks per pass. */
const SHARDS_A = 32
/** Concurrent tasks of the local baseline of phase (b): the cores of the reference machine. */
const LOCAL_WORKERS = 2
/** The pass at whose opening phase (c) stops two peers (round KILL_AT_PASS - 1 is running). */
const KILL_AT_PASS = 8
/** Peers phase (c) stops. */
const KILLED = 2
/** Learning rate of every training. */
const LR = '0.5'
/** Longest one phase may take before the bench gives up. */
const PHASE_TIMEOUT_MS = 600_000
/** How long to wait for the swarm to connect and form its gossip mesh. */
const SWARM_READY_TIMEOUT_MS = 30_000
const POLL_MS = 20

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    runs: { type: 'string', default: '3' },
    peers: { type: 'string', default: '8' },
    processes: { type: 'string', default: '2' },
    only: { type: 'string', default: 'a,b,c' },
    'records-a': { type: 'string', default: '2000' },
    'rounds-a': { type: 'string', default: '20' },
    'records-b': { type: 'string', default: '200000' },
    'rounds-b': { type: 'string', default: '4' },
    'chunk-b': { type: 'string', default: String(DEFAULT_CHUNK_SIZE) },
    'rounds-c': { type: 'string', default: '30' }
  }
})
const runs = positiveInt(values.runs, '--runs')
const peerCount = positiveInt(values.peers, '--peers')
const processes = positiveInt(values.processes, '--processes')
/** How every phase's swarm is started. */
const swarmOptions = { processes, readyTimeoutMs: SWARM_READY_TIMEOUT_MS }
if (processes > peerCount) throw new Error(`--processes (${processes}) cannot exceed --peers (${peerCount})`)
const recordsA = positiveInt(values['records-a'], '--records-a')
const roundsA = positiveInt(values['rounds-a'], '--rounds-a')
const recordsB = positiveInt(values['records-b'], '--records-b')
const roundsB = positiveInt(values['rounds-b'], '--rounds-b')
/** Shard size of phase (b)'s input: a task's result is the same size whatever its shard, so larger shards gossip less per record. */
const chunkB = positiveInt(values['chunk-b'], '--chunk-b')
if (chunkB < MIN_CHUNK_SIZE || chunkB > MAX_CHUNK_SIZE) throw new Error(`--chunk-b must be from ${MIN_CHUNK_SIZE} to ${MAX_CHUNK_SIZE}, got ${chunkB}`)
const roundsC = positiveInt(values['rounds-c'], '--rounds-c')
if (roundsC < KILL_AT_PASS + 4) throw new Error(`--rounds-c must be at least ${KILL_AT_PASS + 4}: the kill comes at pass ${KILL_AT_PASS}`)
const phases = new Set(values.only.split(',').map(s => s.trim()))
for (const p of phases) if (!['a', 'b', 'c'].includes(p)) throw new Error(`--only takes a,b,c; got ${p}`)

const log = (msg: string): void => { process.stderr.write(msg + '\n') }
const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
const dec = (b: Uint8Array): string => new TextDecoder().decode(b)
const round = (x: number, digits = 1): number => Number(x.toFixed(digits))
const sha256Hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

function positiveInt (text: string, flag: string): number {
  const n = Number(text)
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer, got ${text}`)
  return n
}

/** CPU time of this process (every thread) so far. */
function processCpuMs (): number {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  if (s.length === 0) return NaN
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

// ------------------------------------------------------------------ data

const featureNames = Array.from({ length: FEATURES }, (_, i) => `f${i}`)

/**
 * `records` seeded records: FEATURES standard normal features (2 decimals) and the class whose
 * row of a seeded weight matrix scores them highest, plus noise: a separable-ish softmax task.
 */
function dataset (records: number, seed: string): Uint8Array {
  const rnd = new SeededRandom('bench-train', seed)
  const w = Array.from({ length: CLASSES * FEATURES }, () => rnd.gaussian())
  const lines = [[...featureNames, 'label'].join(',')]
  const x = new Float64Array(FEATURES)
  for (let r = 0; r < records; r++) {
    let row = ''
    for (let j = 0; j < FEATURES; j++) {
      x[j] = Math.round(rnd.gaussian() * 100) / 100
      row += `${x[j]},`
    }
    let best = 0
    let bestScore = -Infinity
    for (let k = 0; k < CLASSES; k++) {
      let s = rnd.gaussian() * 2
      for (let j = 0; j < FEATURES; j++) s += w[k * FEATURES + j] * x[j]
      if (s > bestScore) { bestScore = s; best = k }
    }
    lines.push(`${row}c${best}`)
  }
  return enc(lines.join('\n') + '\n')
}

/** The params of a softmax training of `rounds` rounds over the dataset. */
function trainingParams (rounds: number): Record<string, string> {
  return { kind: 'softmax', label: 'label', features: featureNames.join(','), rounds: String(rounds), lr: LR }
}

// ------------------------------------------------------------------ swarm


/** Puts `csv` from peer 0 in `chunkSize` shards and waits for every host's provider announcements: the job's clock starts on a quiet swarm. */
async function putInput (swarm: HostedSwarm, csv: Uint8Array, chunkSize: number): Promise<string> {
  const { cid } = await swarm.hostOf(0).call('putBytes', { index: 0, bytes: csv, replicas: DEFAULT_REPLICAS, chunkSize })
  const settled = await Promise.all(swarm.hosts.map(async h => await h.call('whenProvided', { timeoutMs: PHASE_TIMEOUT_MS })))
  if (!settled.every(s => s.settled)) throw new Error('the input\'s provider announcements were not made in time')
  return cid
}

interface Training {
  jobId: string
  /** Tasks a pass (the training groups shards into tasks as `edgeswarm train` does). */
  tasks: number
  /** The result's sha-256 and whether it is the single-machine computation's. */
  sha256: string
  correct: boolean
  /** Each accepted pass: its reducer's stamp, and the breakdown of its round. */
  passes: Array<{ pass: number, at: number, ms: number, syncMs: number, computeMs: number, gossipMs: number }>
  retried: number
  /** CPU time of the swarm's processes (every thread) from pass 1's opening to the result: the rounds' CPU. */
  roundsCpuMs: number
  /** Bytes the swarm's peers sent on their connections over the same span: the facts' gossip with its duplicates and control, sync, everything. */
  roundsSentBytes: number
  /** The job's facts stamped within a round (after one pass's state, up to the next), median per round: by kind, all, and their bytes. */
  factsPerRound: FactCounts
}

/** Facts of a round (medians over the rounds): per kind (see FactRecord), all of them, and their envelopes' bytes. */
interface FactCounts { byKind: Record<string, number>, all: number, bytes: number }

/** The median per round of the facts stamped in each round (after pass p − 1's state, up to pass p's), pass 0 (the scan) left out. */
function factsPerRound (facts: Array<[string, number, number]>, passes: Array<{ pass: number, at: number }>): FactCounts {
  const rounds = passes.slice(1).map((p, i) => ({ from: passes[i].at, to: p.at, byKind: new Map<string, number>(), all: 0, bytes: 0 }))
  for (const [kind, at, bytes] of facts) {
    const r = rounds.find(w => at > w.from && at <= w.to)
    if (r == null) continue
    r.byKind.set(kind, (r.byKind.get(kind) ?? 0) + 1)
    r.all++
    r.bytes += bytes
  }
  const kinds = [...new Set(facts.map(f => f[0]))].sort()
  const byKind: Record<string, number> = {}
  for (const k of kinds) {
    const m = median(rounds.map(r => r.byKind.get(k) ?? 0))
    if (m > 0) byKind[k] = m
  }
  return { byKind, all: median(rounds.map(r => r.all)), bytes: median(rounds.map(r => r.bytes)) }
}

/** CPU time of every host process so far (all threads), and the bytes every live peer's connections sent (NaN without metrics), summed. */
async function swarmUsage (swarm: HostedSwarm): Promise<{ cpuMs: number, sentBytes: number }> {
  const snaps = await Promise.all(swarm.hosts.map(async h => await h.call('snapshot', {})))
  return {
    cpuMs: snaps.reduce((sum, s) => sum + (s.cpuMs ?? 0), 0),
    sentBytes: snaps.reduce((sum, s) => sum + (s.wireSentBytes ?? NaN), 0)
  }
}

/** Submits a training from peer 0, waits for its result, and times its passes; `during` runs while it runs. */
async function train (swarm: HostedSwarm, input: string, csv: Uint8Array, chunkSize: number, rounds: number, during?: (jobId: string) => Promise<void>): Promise<Training> {
  const host = swarm.hostOf(0)
  const params = trainingParams(rounds)
  // submitted as `edgeswarm train` submits it, so its tasks are grouped as a user's are
  const spec = { kind: 'softmax', inputs: [input], label: 'label', features: featureNames, rounds, lr: Number(LR), redundancy: 1, leaseMs: DEFAULT_LEASE_MS }
  const { jobId, tasks: taskCount } = await host.call('trainJob', { index: 0, spec, timeoutMs: PHASE_TIMEOUT_MS })
  const watching = during?.(jobId)
  // the rounds' CPU starts when pass 1 opens (the scan's state accepted here)
  let atRounds = { cpuMs: NaN, sentBytes: NaN }
  let ended = false
  const cpuWatch = (async () => {
    while (!ended) {
      const { passes } = await host.call('jobTimeline', { index: 0, jobId })
      if (passes.length >= 1) { atRounds = await swarmUsage(swarm); return }
      await sleep(POLL_MS)
    }
  })()
  const result = await host.call('jobResult', { index: 0, jobId, timeoutMs: PHASE_TIMEOUT_MS })
  ended = true
  const atEnd = await swarmUsage(swarm)
  const roundsCpuMs = atEnd.cpuMs - atRounds.cpuMs
  const roundsSentBytes = atEnd.sentBytes - atRounds.sentBytes
  await cpuWatch
  await watching
  const local = await trainLocally(csv, parseTrainSpec(params), { job: jobId, chunkSize })
  const expected = local.result != null ? sha256Hex(local.result) : ''
  const timeline = await host.call('jobTimeline', { index: 0, jobId, facts: true })
  const runsOf = (await Promise.all(swarm.hosts.map(async h => (await h.call('jobTimeline', { index: hostPeer(swarm, h), jobId })).runs))).flat()
  const tasks = timeline.tasks
  const passes = timeline.passes.map((p, i) => {
    const opened = i === 0 ? NaN : timeline.passes[i - 1].at
    const mine = runsOf.filter(([task]) => Math.floor(task / tasks) === p.pass)
    const firstRun = Math.min(...mine.map(r => r[1]))
    const lastRun = Math.max(...mine.map(r => r[2]))
    return { pass: p.pass, at: p.at, ms: p.at - opened, syncMs: firstRun - opened, computeMs: lastRun - firstRun, gossipMs: p.at - lastRun }
  })
  const { progress } = await host.call('jobStatus', { index: 0, jobId })
  return { jobId, tasks: taskCount, sha256: result.sha256, correct: result.sha256 === expected, passes, retried: progress?.retried ?? 0, roundsCpuMs, roundsSentBytes, factsPerRound: factsPerRound(timeline.facts ?? [], timeline.passes) }
}

/** A live peer of host `h` (its first, by the swarm's placement of peer i on host i mod P). */
function hostPeer (swarm: HostedSwarm, h: PeerHost): number {
  return swarm.hosts.indexOf(h)
}

/** The rounds of a training (passes 1 on: pass 0 is the scan), each with its breakdown. */
function roundsOf (t: Training): Training['passes'] {
  return t.passes.filter(p => p.pass >= 1)
}

// ------------------------------------------------------------------ (a) round time

interface RoundRun { records: number, shards: number, tasks: number, rounds: number, roundMsP50: number, syncMsP50: number, computeMsP50: number, gossipMsP50: number, swarmCpuMsPerRound: number, localCpuMsPerRound: number, sentKiBPerRound: number, factsPerRound: FactCounts, correct: boolean, retried: number }

async function roundPhase (): Promise<RoundRun> {
  const csv = dataset(recordsA, 'a')
  const chunkSize = Math.max(MIN_CHUNK_SIZE, Math.ceil(csv.length / SHARDS_A))
  const t = await withHostedSwarm(peerCount, swarmOptions, async (swarm) => await train(swarm, await putInput(swarm, csv, chunkSize), csv, chunkSize, roundsA))
  if (!t.correct) throw new Error('(a) the swarm\'s model differs from the single-machine computation')
  const rounds = roundsOf(t)
  // the rounds' compute alone, on a local pool with no swarm running: what a round costs without gossip
  const local = await trainWithLocalPool(csv, chunkSize, roundsA, t.jobId)
  if (local.sha256 !== t.sha256) throw new Error('(a) the local pool\'s passes gave other bits than the swarm\'s')
  return {
    records: recordsA,
    shards: Math.ceil(csv.length / chunkSize),
    tasks: t.tasks,
    rounds: rounds.length,
    roundMsP50: round(median(rounds.map(r => r.ms))),
    syncMsP50: round(median(rounds.map(r => r.syncMs))),
    computeMsP50: round(median(rounds.map(r => r.computeMs))),
    gossipMsP50: round(median(rounds.map(r => r.gossipMs))),
    swarmCpuMsPerRound: round(t.roundsCpuMs / rounds.length),
    localCpuMsPerRound: round(local.roundsCpuMs / rounds.length),
    sentKiBPerRound: round(t.roundsSentBytes / 1024 / rounds.length),
    factsPerRound: t.factsPerRound,
    correct: t.correct,
    retried: t.retried
  }
}

// ------------------------------------------------------------------ (b) CPU efficiency

/** The same passes as the swarm's job, on LOCAL_WORKERS ml threads of this process: the ms of the scan and of the rounds, and the result's sha-256. */
async function trainWithLocalPool (csv: Uint8Array, chunkSize: number, rounds: number, job: string): Promise<{ scanMs: number, roundsMs: number, roundsCpuMs: number, passMs: number[], sha256: string }> {
  const threads = new TaskThreads({ threads: LOCAL_WORKERS })
  const fn = trainFunction({ threads })
  const passes = fn.passes
  if (passes == null) throw new Error('train has no passes')
  const params = trainingParams(rounds)
  const shards = ownedRanges(csv, chunkSize)
  const header = dec(csv.subarray(0, csv.indexOf(0x0a)))
  try {
    let state: Uint8Array | null = null
    const reports = []
    let scanMs = 0
    let cpuAtRounds = 0
    const passMs: number[] = []
    const started = performance.now()
    for (let pass = 0; pass < passes.count(params); pass++) {
      const t = performance.now()
      const results = new Array<Uint8Array>(shards.length)
      let next = 0
      await Promise.all(Array.from({ length: LOCAL_WORKERS }, async () => {
        while (next < shards.length) {
          const i = next++
          results[i] = await passes.run(shards[i], params, { taskIndex: i, taskCount: shards.length, header, job, pass, state })
        }
      }))
      const outcome = await passes.reduce(pass, state, results, params)
      if ('failure' in outcome) throw new Error(`the local training failed: ${outcome.failure}`)
      state = outcome.state
      reports.push(outcome.report)
      passMs.push(performance.now() - t)
      if (pass === 0) { scanMs = performance.now() - t; cpuAtRounds = processCpuMs() }
    }
    const roundsMs = performance.now() - started - scanMs
    const roundsCpuMs = processCpuMs() - cpuAtRounds
    if (state == null) throw new Error('the local training has no state')
    const result = await passes.finish({ state, cid: stateCid(state).toString() }, reports, params)
    return { scanMs, roundsMs, roundsCpuMs, passMs, sha256: sha256Hex(result) }
  } finally {
    await threads.close()
  }
}

interface CpuRun { records: number, shards: number, tasks: number, rounds: number, localScanMs: number, localRoundsMs: number, localRoundMs: number[], swarmRoundsMs: number, efficiency: number, localCpuMs: number, swarmCpuMs: number, roundsMs: number[], syncMsP50: number, computeMsP50: number, gossipMsP50: number, sentKiBPerRound: number, factsPerRound: FactCounts, correct: boolean, retried: number }

async function cpuPhase (): Promise<CpuRun> {
  const csv = dataset(recordsB, 'b')
  // the baseline with no swarm running, before the swarm's training and again after it: a
  // machine's speed drifts within minutes, and a baseline on one side alone would tilt the ratio
  const before = await trainWithLocalPool(csv, chunkB, roundsB, 'baseline')
  const t = await withHostedSwarm(peerCount, swarmOptions, async (swarm) => await train(swarm, await putInput(swarm, csv, chunkB), csv, chunkB, roundsB))
  if (!t.correct) throw new Error('(b) the swarm\'s model differs from the single-machine computation')
  const after = await trainWithLocalPool(csv, chunkB, roundsB, t.jobId)
  if (after.sha256 !== t.sha256) throw new Error('(b) the local pool\'s passes gave other bits than the swarm\'s')
  const swarmRoundsMs = t.passes[t.passes.length - 1].at - t.passes[0].at
  const localRoundsMs = (before.roundsMs + after.roundsMs) / 2
  return {
    records: recordsB,
    shards: Math.ceil(csv.length / chunkB),
    tasks: t.tasks,
    rounds: roundsB,
    localScanMs: round(after.scanMs),
    localRoundsMs: round(localRoundsMs),
    localRoundMs: [...before.passMs.slice(1), ...after.passMs.slice(1)].map(ms => round(ms)),
    swarmRoundsMs: round(swarmRoundsMs),
    efficiency: round(localRoundsMs / swarmRoundsMs, 3),
    localCpuMs: round((before.roundsCpuMs + after.roundsCpuMs) / 2),
    swarmCpuMs: round(t.roundsCpuMs),
    roundsMs: roundsOf(t).map(r => round(r.ms)),
    syncMsP50: round(median(roundsOf(t).map(r => r.syncMs))),
    computeMsP50: round(median(roundsOf(t).map(r => r.computeMs))),
    gossipMsP50: round(median(roundsOf(t).map(r => r.gossipMs))),
    sentKiBPerRound: round(t.roundsSentBytes / 1024 / roundsB),
    factsPerRound: t.factsPerRound,
    correct: t.correct,
    retried: t.retried
  }
}

// ------------------------------------------------------------------ (c) faults

interface FaultRun { rounds: number, killedAtPass: number, medianRoundMs: number, killRoundsMs: number[], faultRoundMsMax: number, correct: boolean, retried: number }

async function faultPhase (): Promise<FaultRun> {
  const csv = dataset(recordsA, 'a')
  const chunkSize = Math.max(MIN_CHUNK_SIZE, Math.ceil(csv.length / SHARDS_A))
  return await withHostedSwarm(peerCount, swarmOptions, async (swarm) => {
    const input = await putInput(swarm, csv, chunkSize)
    let killedAt = 0
    const t = await train(swarm, input, csv, chunkSize, roundsC, async (jobId) => {
      const deadline = Date.now() + PHASE_TIMEOUT_MS
      while (true) {
        const { passes } = await swarm.hostOf(0).call('jobTimeline', { index: 0, jobId })
        if (passes.length >= KILL_AT_PASS) break
        if (Date.now() > deadline) throw new Error(`(c) pass ${KILL_AT_PASS} did not open in time`)
        await sleep(POLL_MS)
      }
      killedAt = Date.now()
      // the peers after the submitter and each host's first peer, which the timeline reads
      const victims = Array.from({ length: peerCount }, (_, i) => i).filter(i => i >= swarm.hosts.length).slice(0, KILLED)
      await Promise.all(victims.map(async i => { await swarm.hostOf(i).call('stopPeer', { index: i }) }))
    })
    const rounds = roundsOf(t)
    const med = median(rounds.map(r => r.ms))
    // a round saw the kill when it was running then: it opened before the kill and ended after it
    const hit = rounds.filter(r => r.at >= killedAt && r.at - r.ms <= killedAt + DEFAULT_LEASE_MS)
    const killRoundsMs = hit.map(r => round(r.ms))
    return {
      rounds: rounds.length,
      killedAtPass: KILL_AT_PASS,
      medianRoundMs: round(med),
      killRoundsMs,
      faultRoundMsMax: round(Math.max(0, ...hit.map(r => r.ms - med))),
      correct: t.correct,
      retried: t.retried
    }
  })
}

// ------------------------------------------------------------------ main

/** A round's facts for the human lines: all (bytes) and per kind. */
function factLine (f: FactCounts): string {
  return `${f.all} (${Math.round(f.bytes / 1024)} KiB: ${Object.entries(f.byKind).map(([k, n]) => `${n} ${k}`).join(', ')})`
}

async function main (): Promise<void> {
  log(`bench-train: ${peerCount} peers in ${processes} process(es), ${availableParallelism()} CPU(s), ${runs} run(s), phases ${[...phases].join(',')}; softmax ${FEATURES} features x ${CLASSES} classes`)
  const results: Array<{ a?: RoundRun, b?: CpuRun, c?: FaultRun }> = []
  for (let run = 1; run <= runs; run++) {
    const r: { a?: RoundRun, b?: CpuRun, c?: FaultRun } = {}
    if (phases.has('a')) {
      r.a = await roundPhase()
      log(`run ${run} (a): ${r.a.records} records in ${r.a.shards} shards (${r.a.tasks} tasks a pass), ${r.a.rounds} rounds: median round ${r.a.roundMsP50} ms (sync ${r.a.syncMsP50}, compute ${r.a.computeMsP50}, gossip ${r.a.gossipMsP50}); CPU a round: swarm ${r.a.swarmCpuMsPerRound} ms, local pool ${r.a.localCpuMsPerRound} ms; facts a round ${factLine(r.a.factsPerRound)}, sent ${r.a.sentKiBPerRound} KiB; bits ${r.a.correct ? 'equal' : 'DIFFER'}`)
    }
    if (phases.has('b')) {
      r.b = await cpuPhase()
      log(`run ${run} (b): ${r.b.records} records in ${r.b.shards} shards (${r.b.tasks} tasks a pass), ${r.b.rounds} rounds: local ${LOCAL_WORKERS} threads ${r.b.localRoundsMs} ms (rounds ${r.b.localRoundMs.join(', ')}; scan ${r.b.localScanMs}), swarm ${r.b.swarmRoundsMs} ms (rounds ${r.b.roundsMs.join(', ')}; median sync ${r.b.syncMsP50}, compute ${r.b.computeMsP50}, gossip ${r.b.gossipMsP50}), efficiency ${r.b.efficiency}; CPU of the rounds: swarm ${r.b.swarmCpuMs} ms, local pool ${r.b.localCpuMs} ms; facts a round ${factLine(r.b.factsPerRound)}, sent ${r.b.sentKiBPerRound} KiB; bits ${r.b.correct ? 'equal' : 'DIFFER'}`)
    }
    if (phases.has('c')) {
      r.c = await faultPhase()
      log(`run ${run} (c): ${KILLED} peers stopped at pass ${r.c.killedAtPass}: rounds that saw it ${r.c.killRoundsMs.join(', ')} ms against a median of ${r.c.medianRoundMs} ms (+${r.c.faultRoundMsMax} ms at most; bar: lease ${DEFAULT_LEASE_MS} + 2000), retried ${r.c.retried}, bits ${r.c.correct ? 'equal' : 'DIFFER'}`)
    }
    results.push(r)
  }
  const pick = <T>(f: (r: { a?: RoundRun, b?: CpuRun, c?: FaultRun }) => T | undefined): T[] => results.map(f).filter((x): x is T => x !== undefined)
  const out = {
    roundMsP50: phases.has('a') ? round(median(pick(r => r.a?.roundMsP50))) : null,
    cpuEfficiency: phases.has('b') ? round(median(pick(r => r.b?.efficiency)), 3) : null,
    faultRoundMsMax: phases.has('c') ? round(median(pick(r => r.c?.faultRoundMsMax))) : null,
    runs: results.map(r => ({ ...r, peers: peerCount, processes, cpus: availableParallelism() }))
  }
  log(`median: (a) round ${out.roundMsP50} ms, (b) efficiency ${out.cpuEfficiency}, (c) rounds that saw a kill +${out.faultRoundMsMax} ms over the median`)
  if (values.json === true) process.stdout.write(JSON.stringify(out) + '\n')
}

main().then(() => process.exit(0), (err: unknown) => {
  log(`bench-train failed: ${(err as Error).stack ?? String(err)}`)
  process.exit(1)
})
