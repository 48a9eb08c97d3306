/**
 * scripts/bench-ml-round: the compute of one training round of the benchmark's model
 * (softmax, 64 features, 10 classes: 650 weights) on one machine, without the swarm: CPU per
 * record of a round task (exact sums included), the packed size of a task's result, the CPU
 * of a round's reduce over 32 results, and a shard's first parse against its later rounds
 * (the parsed-input cache), all in this thread; then the wall time of the same rounds on a
 * pool of worker threads (TaskThreads). Medians of several rounds; CPU time where it is one
 * thread's, so a busy machine inflates it less than wall time. Prints a table, or JSON with
 * --json.
 *
 *   node scripts/bench-ml-round.ts [--json] [--records N] [--shards N] [--rounds N] [--threads N]
 */

import { parseArgs } from 'node:util'
import { decodeModel, encodeModel, parseTrainSpec, reduceRound, reduceScan, runMlTask, TaskThreads, type Model } from '../src/ml/index.ts'
import { ownedRanges } from '../src/ml/file-shards.ts'

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    records: { type: 'string', default: '2000' },
    shards: { type: 'string', default: '32' },
    rounds: { type: 'string', default: '7' },
    threads: { type: 'string', default: '2' }
  }
})
const records = Number(args.records)
const shards = Number(args.shards)
const rounds = Number(args.rounds)
const d = 64
const classes = 10

/** Records near one of ten random centers, four decimals a feature, the class as label. */
function dataset (): Uint8Array {
  let seed = 1
  const next = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648
    return seed / 2147483648
  }
  const centers = Array.from({ length: classes }, () => Array.from({ length: d }, () => next() * 2 - 1))
  const lines = [[...Array.from({ length: d }, (_, j) => `f${j}`), 'class'].join(',')]
  for (let i = 0; i < records; i++) {
    const c = Math.floor(next() * classes)
    lines.push(`${centers[c].map(v => (v + next() - 0.5).toFixed(4)).join(',')},c${c}`)
  }
  return new TextEncoder().encode(lines.join('\n') + '\n')
}

function cpuMs<T> (work: () => T): { ms: number, value: T } {
  const start = process.cpuUsage()
  const value = work()
  const used = process.cpuUsage(start)
  return { ms: (used.user + used.system) / 1000, value }
}

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

const csv = dataset()
const header = new TextDecoder().decode(csv.subarray(0, csv.indexOf(0x0a)))
const inputs = ownedRanges(csv, Math.ceil(csv.length / shards))
const params = { kind: 'softmax', label: 'class', features: Array.from({ length: d }, (_, j) => `f${j}`).join(','), rounds: String(rounds), standardize: 'true' }
const spec = parseTrainSpec(params)
const task = (pass: number, state: Uint8Array | null): Uint8Array[] =>
  inputs.map((input, taskIndex) => runMlTask({ op: 'train', input, header, taskIndex, params, job: 'bench', pass, state }))

const scan = cpuMs(() => task(0, null))
const scanned = reduceScan(scan.value, spec)
if ('failure' in scanned) throw new Error(scanned.failure)
let model: Model = scanned.model
const taskMs: number[] = []
const reduceMs: number[] = []
let resultBytes = 0
for (let r = 0; r < rounds; r++) {
  const state = encodeModel(model)
  const round = cpuMs(() => task(r + 1, state))
  taskMs.push(round.ms)
  resultBytes = Math.max(resultBytes, ...round.value.map(b => b.length))
  const reduced = cpuMs(() => reduceRound(r, decodeModel(state), round.value, spec))
  reduceMs.push(reduced.ms)
  if ('failure' in reduced.value) throw new Error(reduced.value.failure)
  model = reduced.value.model
}
// the same rounds on worker threads: the first parses every shard, later ones find it cached
const pool = new TaskThreads({ threads: Number(args.threads) })
const wallMs: number[] = []
const poolCpuMs: number[] = []
let pooled: Model = scanned.model
for (let r = 0; r < rounds; r++) {
  const state = encodeModel(pooled)
  const start = performance.now()
  // the process's CPU time counts every thread's
  const cpu = process.cpuUsage()
  const results = await Promise.all(inputs.map(async (input, taskIndex) => await pool.run({ op: 'train', input, header, taskIndex, params, job: 'bench', pass: r + 1, state })))
  const used = process.cpuUsage(cpu)
  wallMs.push(performance.now() - start)
  poolCpuMs.push((used.user + used.system) / 1000)
  const reduced = reduceRound(r, decodeModel(state), results, spec)
  if ('failure' in reduced) throw new Error(reduced.failure)
  pooled = reduced.model
}
await pool.close()
if (encodeModel(pooled).join() !== encodeModel(model).join()) throw new Error('the pool trained another model')

const result = {
  records,
  shards,
  weights: model.weights.length,
  scanMs: scan.ms,
  roundTasksMs: median(taskMs),
  roundUsPerRecord: median(taskMs) * 1000 / records,
  maxResultBytes: resultBytes,
  reduceMs: median(reduceMs),
  threads: Number(args.threads),
  threadsFirstRoundMs: wallMs[0],
  threadsRoundMs: median(wallMs.slice(1)),
  threadsRoundCpuMs: median(poolCpuMs.slice(1)),
  rounds
}
if (args.json) {
  console.log(JSON.stringify(result))
} else {
  console.log(`softmax ${d} features x ${classes} classes (${result.weights} weights), ${records} records in ${shards} shards`)
  console.log(`scan (parse + sums), all shards   ${result.scanMs.toFixed(1)} ms CPU`)
  console.log(`round tasks, all shards           ${result.roundTasksMs.toFixed(1)} ms CPU (${result.roundUsPerRecord.toFixed(2)} us a record)`)
  console.log(`largest task result               ${result.maxResultBytes} bytes`)
  console.log(`round reduce (${shards} results)          ${result.reduceMs.toFixed(2)} ms CPU`)
  console.log(`round on ${result.threads} threads, first / later ${result.threadsFirstRoundMs.toFixed(1)} / ${result.threadsRoundMs.toFixed(1)} ms wall, later ${result.threadsRoundCpuMs.toFixed(1)} ms CPU (all threads)`)
}
