/**
 * sim/workload: what each simulated edge device collects (deterministic
 * sensor readings, seeded per device, and for the training its held-out
 * readings), the jobs the scenario submits over them, and the single-machine
 * computation their results must equal.
 *
 * Owns the data and the expected answers. Pure: never touches the network;
 * the local computation runs the built-ins directly, one task per whole input,
 * and a training is the ml layer's single-machine reference (`trainLocally`).
 */
import { createHash } from 'node:crypto'
import { FunctionRegistry, builtinFunctions } from '../functions/index.ts'
import { decodeModel, evaluateLocally, parseTrainSpec, trainLocally } from '../ml/index.ts'
import type { JobSpec } from '../jobs/index.ts'
import { SeededRandom } from './random.ts'
import type { Workload } from './options.ts'

/** Seconds between two readings of one device. */
const READING_INTERVAL_S = 10
/** The simulated clock starts here (2026-11-01T00:00:00Z), so data never depends on the real clock. */
const EPOCH_S = 1_793_491_200
/** Fraction of CSV readings whose sensor glitched (an empty or non-numeric cell). */
const GLITCH_RATE = 0.01
/** What a glitched sensor writes. */
const GLITCH_VALUES = ['', 'NaN', 'err'] as const
/** Readings per simulated day (for the daily temperature cycle). */
const READINGS_PER_DAY = 86_400 / READING_INTERVAL_S
/** Events a device logs (word-count workload). */
const LOG_EVENTS = [
  'temperature reading ok', 'humidity reading ok', 'door opened', 'door closed', 'battery low',
  'uplink lost', 'uplink restored', 'firmware check ok', 'motion detected', 'fan speed high',
  'Übertemperatur Warnung', 'capteur réinitialisé', '温度 正常'
] as const

/** The name of device `index`, as it appears in its readings. */
export function deviceName (index: number): string {
  return `edge-${String(index).padStart(3, '0')}`
}

function csvReadings (seed: string, index: number, rows: number, stream = 'csv'): string {
  const rnd = new SeededRandom(seed, stream, index)
  const baseTemp = rnd.uniform(12, 28)
  const swing = rnd.uniform(1, 6)
  const baseHumidity = rnd.uniform(30, 70)
  const name = deviceName(index)
  const lines = ['device,ts,temperature,humidity']
  for (let r = 0; r < rows; r++) {
    const phase = (2 * Math.PI * r) / READINGS_PER_DAY
    const temp = baseTemp + swing * Math.sin(phase) + 0.3 * rnd.gaussian()
    const humidity = Math.min(100, Math.max(0, baseHumidity - 2 * swing * Math.sin(phase) + 1.5 * rnd.gaussian()))
    const t = rnd.next() < GLITCH_RATE ? rnd.pick(GLITCH_VALUES) : temp.toFixed(2)
    const h = rnd.next() < GLITCH_RATE ? rnd.pick(GLITCH_VALUES) : humidity.toFixed(1)
    lines.push(`${name},${EPOCH_S + r * READING_INTERVAL_S},${t},${h}`)
  }
  return lines.join('\n') + '\n'
}

function numberReadings (seed: string, index: number, rows: number): string {
  const rnd = new SeededRandom(seed, 'numbers', index)
  const lines: string[] = []
  for (let r = 0; r < rows; r++) {
    // pulse counts, with a tenth-unit reading now and then
    lines.push(rnd.next() < 0.2 ? (rnd.int(-5000, 5000) / 10).toString() : String(rnd.int(0, 100_000)))
  }
  return lines.join('\n') + '\n'
}

function logLines (seed: string, index: number, rows: number): string {
  const rnd = new SeededRandom(seed, 'log', index)
  const name = deviceName(index)
  const lines: string[] = []
  for (let r = 0; r < rows; r++) {
    lines.push(`${EPOCH_S + r * READING_INTERVAL_S} ${name} ${rnd.pick(LOG_EVENTS)}`)
  }
  return lines.join('\n') + '\n'
}

/** The readings device `index` collects for `workload`: the same text for the same seed, everywhere. */
export function deviceData (workload: Workload, seed: string, index: number, rows: number): string {
  switch (workload) {
    case 'csv-stats':
    case 'train':
      return csvReadings(seed, index, rows)
    case 'word-count': return logLines(seed, index, rows)
    case 'square':
    case 'wasm':
      return numberReadings(seed, index, rows)
  }
}

/** Held-out readings per device for a training's evaluation, as a fraction of its readings (at least one). */
export const HELD_OUT_FRACTION = 0.25

/** The readings device `index` keeps back from a training, to evaluate the model on: other readings of the same sensors. */
export function heldOutData (seed: string, index: number, rows: number): string {
  return csvReadings(seed, index, Math.max(1, Math.round(rows * HELD_OUT_FRACTION)), 'csv-held-out')
}

/** One job of the scenario, before its inputs (and module) are known. */
export interface JobPlan {
  /** A short label for the report. */
  name: string
  fn: string
  params: Record<string, string>
  /** Runs as the WebAssembly module (the `wasm` workload). */
  wasm: boolean
  /** Runs over the devices' held-out readings instead of their readings. */
  heldOut?: boolean
  /** Takes param `model` from the result of this earlier plan (a training), so it is submitted once that one is done. */
  modelOf?: number
}

/** The training of the `train` workload: each device's humidity from its temperature, standardized. */
const TRAINING: Record<string, string> = { kind: 'linear', label: 'humidity', features: 'temperature', standardize: 'true', rounds: '20', lr: '0.5' }

/** The jobs a workload submits: csv-stats computes per-device and global statistics. */
export function jobPlans (workload: Workload): JobPlan[] {
  switch (workload) {
    case 'csv-stats':
      return [
        { name: 'temperature per device', fn: 'csv-stats', params: { by: 'device', column: 'temperature' }, wasm: false },
        { name: 'humidity, all devices', fn: 'csv-stats', params: { column: 'humidity' }, wasm: false }
      ]
    case 'word-count':
      return [{ name: 'words in device logs', fn: 'word-count', params: {}, wasm: false }]
    case 'square':
      return [{ name: 'squares of readings', fn: 'square', params: {}, wasm: false }]
    case 'wasm':
      return [{ name: 'squares of readings (WebAssembly)', fn: 'square', params: {}, wasm: true }]
    case 'train':
      return [
        { name: `humidity from temperature (linear, ${TRAINING.rounds} rounds)`, fn: 'train', params: TRAINING, wasm: false },
        { name: 'the model on held-out readings', fn: 'evaluate', params: { label: TRAINING.label }, wasm: false, heldOut: true, modelOf: 0 }
      ]
  }
}

/** A job spec with every field the sim sets spelled out (a `JobSpec`). */
export type SimJobSpec = Required<Pick<JobSpec, 'fn' | 'inputs' | 'params' | 'redundancy' | 'leaseMs'>> & Pick<JobSpec, 'wasm'>

/** The job spec of `plan` over `inputs` (root CIDs, device order). */
export function jobSpec (plan: JobPlan, inputs: string[], options: { redundancy: number, leaseMs: number, wasmCid?: string }): SimJobSpec {
  return {
    fn: plan.fn,
    inputs,
    params: plan.params,
    redundancy: options.redundancy,
    leaseMs: options.leaseMs,
    ...(plan.wasm && options.wasmCid != null ? { wasm: options.wasmCid } : {})
  }
}

const local = new FunctionRegistry(builtinFunctions)

/**
 * The single-machine result of `plan` over `texts` (in input order): the
 * function over each whole input as one task, then its reducer over all of
 * them in order. A WebAssembly job's reducer is concatenation.
 */
export async function computeLocally (plan: JobPlan, texts: readonly string[]): Promise<Uint8Array> {
  const fn = local.get(plan.fn)
  const parts: Uint8Array[] = []
  for (const text of texts) {
    const bytes = new TextEncoder().encode(text)
    const header = fn.needsHeader ? (text.split('\n')[0] ?? null) : null
    parts.push(await fn.run(bytes, plan.params, { taskIndex: 0, taskCount: 1, header }))
  }
  if (plan.wasm) return Buffer.concat(parts)
  return await fn.reduce(parts, plan.params)
}

/**
 * The single-machine results of the `train` workload's plans: the training over `texts` (the
 * devices' readings, device order) as job `jobId` cuts them into `chunkSize` shards, then the
 * evaluation of its last model over `heldOut`. The model written into every state names its
 * job, so the training's bytes depend on the job id, and on nothing a swarm does.
 */
export async function trainLocallyForSim (texts: readonly string[], heldOut: readonly string[], jobId: string, chunkSize: number): Promise<{ training: Uint8Array, evaluation: Uint8Array }> {
  const files = texts.map(t => new TextEncoder().encode(t))
  const local = await trainLocally(files, parseTrainSpec(TRAINING), { job: jobId, chunkSize })
  if (local.result == null) throw new Error(`the single-machine training failed: ${local.failure ?? 'unknown reason'}`)
  const model = decodeModel(local.states[local.states.length - 1])
  return { training: local.result, evaluation: evaluateLocally(heldOut.map(t => new TextEncoder().encode(t)), model, TRAINING.label) }
}

/** The hex sha-256 of bytes: how results are compared without shipping them between processes. */
export function sha256Hex (bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}
