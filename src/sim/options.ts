/**
 * sim/options: what a simulation run is asked to do, its defaults, and the
 * validation of every option at the boundary (CLI flags and library callers
 * alike), with one clear message naming the bad option.
 */
import { DEFAULT_REPLICAS, MAX_CHUNK_SIZE, MAX_REPLICAS, MIN_CHUNK_SIZE } from '../data/index.ts'
import { MAX_LEASE_MS, MAX_REDUNDANCY, MIN_LEASE_MS } from '../jobs/index.ts'
import { InvalidSimOptionsError } from './errors.ts'
import {
  DEFAULT_CHURN_PER_MIN, DEFAULT_DHT_SAMPLES, DEFAULT_GOSSIP_SAMPLES, DEFAULT_KILL, DEFAULT_MULTI_PROCESSES, DEFAULT_PEERS,
  DEFAULT_REDUNDANCY, DEFAULT_RESTART, DEFAULT_ROWS_PER_DEVICE, DEFAULT_SEED, MAX_CHURN_PER_MIN, MAX_PEERS,
  MAX_PROCESSES, MIN_PEERS, SIM_CHUNK_SIZE, SINGLE_PROCESS_MAX_PEERS
} from './constants.ts'
import { jobTimeoutFor, leaseFor } from './tuning.ts'

/** The workloads: three built-ins, `square` as a sandboxed WebAssembly module, and a training on the readings (then its evaluation on held-out ones). */
export const WORKLOADS = ['square', 'word-count', 'csv-stats', 'wasm', 'train'] as const
export type Workload = typeof WORKLOADS[number]

/** Readings per device at most: a run's data must fit in the memory of one machine. */
const MAX_ROWS_PER_DEVICE = 1_000_000
/** DHT or gossip samples at most: each is a lookup or a message every live peer must see. */
const MAX_SAMPLES = 10_000

export interface SimOptions {
  /** Real peers in the swarm. @default DEFAULT_PEERS */
  peers?: number
  /** @default 'csv-stats' */
  workload?: Workload
  /** Peers killed during the job (a SIGKILL of their own process with child processes, else a stop). @default DEFAULT_KILL */
  kill?: number
  /** Killed peers restarted from their repo. @default DEFAULT_RESTART */
  restart?: number
  /** Peers leaving and coming back (or new ones joining) per minute during the job. @default DEFAULT_CHURN_PER_MIN */
  churnPerMin?: number
  /** Copies of every shard. @default DEFAULT_REPLICAS (the data layer's) */
  replicas?: number
  /** Peers that run each task (majority vote). @default DEFAULT_REDUNDANCY */
  redundancy?: number
  /** Child processes hosting the peers; 1 hosts them in this process. @default 1 up to SINGLE_PROCESS_MAX_PEERS peers, else DEFAULT_MULTI_PROCESSES */
  processes?: number
  /** Same seed → same data and same fault schedule. @default DEFAULT_SEED */
  seed?: string | number
  /** Sensor readings (rows or lines) each device generates. @default DEFAULT_ROWS_PER_DEVICE */
  rowsPerDevice?: number
  /** Shard size of the devices' files; tasks = shards. @default SIM_CHUNK_SIZE */
  chunkSize?: number
  /** Claim lease of the jobs. @default SIM_LEASE_MS, LARGE_SWARM_LEASE_MS above LARGE_SWARM_PEERS peers, CROWDED_SWARM_LEASE_MS above CROWDED_SWARM_PEERS */
  leaseMs?: number
  /** DHT provide/find pairs measured. @default DEFAULT_DHT_SAMPLES */
  dhtSamples?: number
  /** Gossip probes published. @default DEFAULT_GOSSIP_SAMPLES */
  gossipSamples?: number
  /** Limit of the job phase (submit to verified result), in ms. @default DEFAULT_JOB_TIMEOUT_MS, CROWDED_SWARM_JOB_TIMEOUT_MS above CROWDED_SWARM_PEERS peers */
  jobTimeoutMs?: number
  /** The WebAssembly `square` module (bytes), required by the `wasm` workload. */
  wasmModule?: Uint8Array
}

export interface ResolvedSimOptions {
  peers: number
  workload: Workload
  kill: number
  restart: number
  churnPerMin: number
  replicas: number
  redundancy: number
  processes: number
  seed: string
  rowsPerDevice: number
  chunkSize: number
  leaseMs: number
  dhtSamples: number
  gossipSamples: number
  jobTimeoutMs: number
  wasmModule: Uint8Array | undefined
}

function integer (name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  const v = value ?? fallback
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    throw new InvalidSimOptionsError(`${name} must be an integer from ${min} to ${max}, got ${String(v)}`)
  }
  return v
}

/** The sensible default for `processes`: one process for small swarms, one per core above. */
export function defaultProcesses (peers: number): number {
  return peers <= SINGLE_PROCESS_MAX_PEERS ? 1 : DEFAULT_MULTI_PROCESSES
}

/** Fills defaults and validates; throws InvalidSimOptionsError naming the first bad option. */
export function resolveSimOptions (options: SimOptions = {}): ResolvedSimOptions {
  const peers = integer('peers', options.peers, DEFAULT_PEERS, MIN_PEERS, MAX_PEERS)
  const workload = options.workload ?? 'csv-stats'
  if (!(WORKLOADS as readonly string[]).includes(workload)) {
    throw new InvalidSimOptionsError(`workload must be one of ${WORKLOADS.join(', ')}, got ${String(workload)}`)
  }
  // at least one original peer must live through the job to report on it
  const kill = integer('kill', options.kill, Math.min(DEFAULT_KILL, peers - 1), 0, peers - 1)
  const restart = integer('restart', options.restart, Math.min(DEFAULT_RESTART, kill), 0, kill)
  const churnPerMin = options.churnPerMin ?? DEFAULT_CHURN_PER_MIN
  if (typeof churnPerMin !== 'number' || !Number.isFinite(churnPerMin) || churnPerMin < 0 || churnPerMin > MAX_CHURN_PER_MIN) {
    throw new InvalidSimOptionsError(`churn must be a number of events per minute from 0 to ${MAX_CHURN_PER_MIN}, got ${String(churnPerMin)}`)
  }
  const replicas = integer('replicas', options.replicas, DEFAULT_REPLICAS, 1, Math.min(MAX_REPLICAS, peers))
  const redundancy = integer('redundancy', options.redundancy, DEFAULT_REDUNDANCY, 1, Math.min(MAX_REDUNDANCY, peers - kill))
  const processes = integer('processes', options.processes, defaultProcesses(peers), 1, Math.min(MAX_PROCESSES, peers))
  const seed = String(options.seed ?? DEFAULT_SEED)
  if (seed.length === 0 || seed.length > 200) throw new InvalidSimOptionsError('seed must be 1 to 200 characters')
  const rowsPerDevice = integer('rowsPerDevice', options.rowsPerDevice, DEFAULT_ROWS_PER_DEVICE, 1, MAX_ROWS_PER_DEVICE)
  const chunkSize = integer('chunkSize', options.chunkSize, SIM_CHUNK_SIZE, MIN_CHUNK_SIZE, MAX_CHUNK_SIZE)
  const leaseMs = integer('leaseMs', options.leaseMs, leaseFor(peers), MIN_LEASE_MS, MAX_LEASE_MS)
  const dhtSamples = integer('dhtSamples', options.dhtSamples, DEFAULT_DHT_SAMPLES, 0, MAX_SAMPLES)
  const gossipSamples = integer('gossipSamples', options.gossipSamples, DEFAULT_GOSSIP_SAMPLES, 0, MAX_SAMPLES)
  const jobTimeoutMs = integer('jobTimeoutMs', options.jobTimeoutMs, jobTimeoutFor(peers), 1_000, 24 * 3_600_000)
  if (workload === 'wasm' && options.wasmModule == null) {
    throw new InvalidSimOptionsError('the wasm workload needs the module bytes (wasmModule: build/wasm/square.wasm)')
  }
  return {
    peers, workload, kill, restart, churnPerMin, replicas, redundancy, processes, seed,
    rowsPerDevice, chunkSize, leaseMs, dhtSamples, gossipSamples, jobTimeoutMs, wasmModule: options.wasmModule
  }
}
