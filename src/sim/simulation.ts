/**
 * sim/simulation: one run of the edge scenario, from an empty machine to a
 * report. Starts N real peers (each with its own repo in a temp dir) in
 * waves, in this process or spread over child processes; lets every device
 * put its own sensor readings into the swarm; times DHT and gossip between
 * peers; submits the workload's jobs; kills, restarts and churns peers on
 * the seeded schedule while the jobs run; checks every result against the
 * single-machine computation; and reports.
 *
 * Owns the coordinator's side of the run and its clean-up: every peer is
 * stopped, every child process ended and the temp dir removed, on success,
 * on error and on abort. Never touches a peer directly: all through hosts.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createHash } from 'node:crypto'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { create as createDigest } from 'multiformats/hashes/digest'
import { DEFAULT_MAX_CONNECTIONS, DEFAULT_TARGET_PEERS } from '../node/index.ts'
import { DEFAULT_PROVIDE_RATE_PER_S, DEFAULT_REPAIR_INTERVAL_MS } from '../data/index.ts'
import { JOBS_TOPIC, SYNC_INTERVAL_MS } from '../jobs/index.ts'
import { STEAL_RANK_STEP_MS } from '../scheduler/index.ts'
import {
  BOOTSTRAP_FANOUT, CRASH_SNAPSHOT_TIMEOUT_MS, DHT_SAMPLE_CONCURRENCY, DHT_SAMPLE_TIMEOUT_MS, GOSSIP_RECEIPT_TIMEOUT_MS, GOSSIP_SAMPLE_GAP_MS,
  LARGE_SWARM_CONNECTION_FRACTION, LARGE_SWARM_JOB_SYNC_MS, LARGE_SWARM_MAX_CONNECTIONS, LARGE_SWARM_PROVIDE_RATE_PER_S, LARGE_SWARM_REPAIR_INTERVAL_MS, LARGE_SWARM_PEERS, LARGE_SWARM_TARGET_PEERS, MESH_SETTLE_MS,
  HUGE_SWARM_GOSSIP_LAZY_PEERS, HUGE_SWARM_HANDSHAKE_TIMEOUT_MS, SMALL_SWARM_GOSSIP_MESH_DEGREE, SMALL_SWARM_PEERS, HUGE_SWARM_PEERS, HUGE_SWARM_PROVIDE_RATE_PER_S, HUGE_SWARM_STEAL_RANK_STEP_MS, ANNOUNCE_TIMEOUT_MS, MIN_READY_CONNECTIONS, MIN_SUBMIT_TIMEOUT_MS, PROGRESS_POLL_MS, REFETCH_TIMEOUT_MS, SIM_GOSSIP_TOPIC, SIM_INBOUND_CONNECTION_THRESHOLD,
  SLOTS_PER_PEER, START_WAVE_SIZE, SWARM_READY_BASE_MS, SWARM_READY_PER_PEER_MS
} from './constants.ts'
import { SimTimeoutError } from './errors.ts'
import { planFaults, type FaultPlan } from './faults.ts'
import type { HostSnapshot, JobProgress, PeerHost, PeerStart, Tuning } from './host-protocol.ts'
import { ChildPeerHost } from './child-host.ts'
import { LocalPeerHost } from './peer-host.ts'
import { resolveSimOptions, type ResolvedSimOptions, type SimOptions } from './options.ts'
import { percentiles } from './percentiles.ts'
import { SeededRandom } from './random.ts'
import { NOT_SUBMITTED, type FaultKind, type FaultRecord, type JobReport, type SimReport } from './report.ts'
import { checkFileLimit } from './file-limit.ts'
import { computeLocally, deviceData, jobPlans, jobSpec, sha256Hex, type JobPlan } from './workload.ts'

/** Devices putting their readings at once, over the whole swarm. */
const LOAD_CONCURRENCY = 16
/** Readiness polls while the swarm connects. */
const READY_POLL_MS = 500
/** Receipt polls after gossip probes. */
const RECEIPT_POLL_MS = 100
/** Multihash code of sha2-256. */
const SHA2_256 = 0x12
const BYTES_PER_MB = 1024 * 1024

export type SimPhase = 'start' | 'connect' | 'load' | 'dht' | 'gossip' | 'job' | 'verify' | 'teardown'

/** What the run is doing now, for a progress line. */
export interface SimProgress {
  phase: SimPhase
  message: string
  done?: number
  total?: number
}

export interface SimHooks {
  onProgress?: (progress: SimProgress) => void
  /** Aborting stops the run; every peer and process is still cleaned up. */
  signal?: AbortSignal
}

type DeviceState = 'starting' | 'live' | 'stopping' | 'down'

interface Device {
  index: number
  host: PeerHost
  repo: string
  peerId: string
  addrs: string[]
  state: DeviceState
  /** Joined during the run (holds no readings of its own). */
  joiner: boolean
  /** Was stopped and started again from its repo. */
  returned: boolean
}

function sleep (ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) { reject(signal.reason); return }
    const timer = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve() }, ms)
    const onAbort = (): void => { clearTimeout(timer); reject(signal?.reason) }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

async function mapLimit<T, R> (items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++
      out[i] = await fn(items[i], i)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return out
}

/** A CID nobody stores, named by the seed: what the DHT samples announce and look up. */
function probeCid (seed: string, k: number): string {
  const digest = createHash('sha256').update(`edgeswarm-sim/${seed}/dht/${k}`).digest()
  return CID.createV1(raw.code, createDigest(SHA2_256, digest)).toString()
}

/** libp2p and job-layer settings for a swarm of `peers` on one machine (see LIBP2P-NOTES, scale). */
export function tuningFor (peers: number, replicas: number): Tuning {
  const large = peers > LARGE_SWARM_PEERS
  const huge = peers > HUGE_SWARM_PEERS
  return {
    targetPeers: large ? LARGE_SWARM_TARGET_PEERS : DEFAULT_TARGET_PEERS,
    maxConnections: large ? Math.max(LARGE_SWARM_MAX_CONNECTIONS, Math.round(peers * LARGE_SWARM_CONNECTION_FRACTION)) : DEFAULT_MAX_CONNECTIONS,
    inboundConnectionThreshold: SIM_INBOUND_CONNECTION_THRESHOLD,
    ...(huge ? { handshakeTimeoutMs: HUGE_SWARM_HANDSHAKE_TIMEOUT_MS } : {}),
    jobSyncIntervalMs: large ? LARGE_SWARM_JOB_SYNC_MS : SYNC_INTERVAL_MS,
    slots: SLOTS_PER_PEER,
    stealRankStepMs: huge ? HUGE_SWARM_STEAL_RANK_STEP_MS : STEAL_RANK_STEP_MS,
    replicas,
    provideRatePerSecond: huge ? HUGE_SWARM_PROVIDE_RATE_PER_S : large ? LARGE_SWARM_PROVIDE_RATE_PER_S : DEFAULT_PROVIDE_RATE_PER_S,
    repairIntervalMs: large ? LARGE_SWARM_REPAIR_INTERVAL_MS : DEFAULT_REPAIR_INTERVAL_MS,
    ...(huge ? { gossipLazyPeers: HUGE_SWARM_GOSSIP_LAZY_PEERS } : {}),
    ...(peers <= SMALL_SWARM_PEERS ? { gossipMeshDegree: SMALL_SWARM_GOSSIP_MESH_DEGREE } : {}),
    gossipTopic: SIM_GOSSIP_TOPIC
  }
}

/**
 * Starts `processes` peer hosts into `into`: this process for 1, else that
 * many children, all at once. On failure the ones that started are in `into`
 * for the caller to close.
 */
export async function startPeerHosts (processes: number, into: PeerHost[]): Promise<void> {
  if (processes === 1) {
    into.push(new LocalPeerHost(0))
    return
  }
  const started = await Promise.allSettled(Array.from({ length: processes }, async (_, i) => await ChildPeerHost.start(i)))
  for (const r of started) if (r.status === 'fulfilled') into.push(r.value)
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (failed != null) throw failed.reason
}

/** Runs the scenario and returns its report; throws only when the run could not be carried out. */
export async function runSimulation (options: SimOptions = {}, hooks: SimHooks = {}): Promise<SimReport> {
  const opts = resolveSimOptions(options)
  hooks.signal?.throwIfAborted()
  checkFileLimit(opts.peers, opts.processes, tuningFor(opts.peers, opts.replicas).maxConnections)
  const run = new SimulationRun(opts, hooks)
  try {
    return await run.execute()
  } finally {
    await run.teardown()
  }
}

class SimulationRun {
  private readonly opts: ResolvedSimOptions
  private readonly hooks: SimHooks
  private readonly signal: AbortSignal | undefined
  private readonly plan: FaultPlan
  /** The hosts that share the peers: this process, or `processes` children. */
  private readonly hosts: PeerHost[] = []
  /**
   * With child processes, each kill target runs alone in a process of its
   * own, so a kill is a SIGKILL: a real crash, which needs no turn of a
   * saturated host's event loop (stopping a peer inside a host of 100 busy
   * peers took over 10 min at 200 peers). By device index; a crashed one is
   * removed, a restarted one gets a new process.
   */
  private readonly soloHosts = new Map<number, ChildPeerHost>()
  /** One-device processes started (kill targets, and their restarts). */
  private soloStarted = 0
  /** The last snapshot of each crashed one-device process, taken just before its kill. */
  private readonly crashedSnapshots: HostSnapshot[] = []
  /** libp2p and job-layer settings of every host, from the swarm's size. */
  private readonly tuning: Tuning
  private readonly devices = new Map<number, Device>()
  private readonly bootstrapRnd: SeededRandom
  private readonly measureRnd: SeededRandom
  private readonly faults: FaultRecord[] = []
  /** Planned faults not yet fired, with how to cancel each. */
  private readonly timers = new Map<ReturnType<typeof setTimeout>, () => void>()
  /** Faults run one at a time, in the order they fire. */
  private faultChain: Promise<void> = Promise.resolve()
  private faultErrors: Error[] = []
  private root?: string
  private readonly startedAt = performance.now()
  private jobStartedAt = 0
  private doneFraction = 0
  private jobsFinished = false
  private nextIndex: number
  private churnLeft = 0
  private churnReturned = 0
  private churnJoined = 0
  private churnSkipped = 0
  private killed = 0
  private restarted = 0

  constructor (opts: ResolvedSimOptions, hooks: SimHooks) {
    this.opts = opts
    this.hooks = hooks
    this.signal = hooks.signal
    this.tuning = tuningFor(opts.peers, opts.replicas)
    this.plan = planFaults({ seed: opts.seed, peers: opts.peers, kill: opts.kill, restart: opts.restart, churnPerMin: opts.churnPerMin, horizonMs: opts.jobTimeoutMs })
    this.bootstrapRnd = new SeededRandom(opts.seed, 'bootstrap')
    this.measureRnd = new SeededRandom(opts.seed, 'measure')
    this.nextIndex = opts.peers
  }

  private progress (phase: SimPhase, message: string, done?: number, total?: number): void {
    this.hooks.onProgress?.({ phase, message, ...(done != null ? { done } : {}), ...(total != null ? { total } : {}) })
  }

  private live (): Device[] {
    return [...this.devices.values()].filter(d => d.state === 'live').sort((a, b) => a.index - b.index)
  }

  private hostFor (index: number): PeerHost {
    return this.soloHosts.get(index) ?? this.hosts[index % this.hosts.length]
  }

  /** Every host running now: the shared ones and the one-device processes. */
  private allHosts (): PeerHost[] {
    return [...this.hosts, ...this.soloHosts.values()]
  }

  /** Starts the one-device process of kill target `index` (before its start or restart). */
  private async startSoloHost (index: number): Promise<void> {
    const host = await ChildPeerHost.start(this.opts.processes + this.soloStarted)
    this.soloStarted++
    this.soloHosts.set(index, host)
    await host.call('configure', { tuning: this.tuning })
  }

  // ------------------------------------------------------------------ run

  async execute (): Promise<SimReport> {
    const o = this.opts
    this.root = await mkdtemp(join(tmpdir(), 'edgeswarm-sim-'))
    this.progress('start', `starting ${o.processes === 1 ? 'in this process' : `${o.processes} host processes`}`)
    await startPeerHosts(o.processes, this.hosts)
    await Promise.all(this.hosts.map(async h => await h.call('configure', { tuning: this.tuning })))
    if (o.processes > 1) {
      const solo = await Promise.allSettled(this.plan.kills.map(async k => { await this.startSoloHost(k.peer) }))
      const failed = solo.find((r): r is PromiseRejectedResult => r.status === 'rejected')
      if (failed != null) throw failed.reason
    }
    this.signal?.throwIfAborted()

    await this.startSwarm()
    const setupMs = performance.now() - this.startedAt

    const { cids, bytesInput, dataLoadMs, wasmCid } = await this.loadData()
    const announce = await this.settleAnnouncements()
    const dht = await this.measureDht()
    const gossip = await this.measureGossip()

    const plans = jobPlans(o.workload)
    const job = await this.runJobs(plans, cids, wasmCid)
    const jobs = await this.verify(plans, job.ids, job.submitMs, job.progress, job.submitError)
    const refetch = await this.refetch(job.ids, jobs)

    this.progress('verify', 'collecting metrics')
    const shared = await Promise.all(this.hosts.map(async h => await h.call('snapshot', {})))
    const solo = [...this.crashedSnapshots, ...await Promise.all([...this.soloHosts.values()].map(async h => await h.call('snapshot', {})))]
    return this.report({ setupMs, dataLoadMs, announce, bytesInput, dht, gossip, durationMs: job.durationMs, jobs, refetch, shared, solo })
  }

  async teardown (): Promise<void> {
    for (const cancel of [...this.timers.values()]) cancel()
    this.jobsFinished = true
    this.progress('teardown', 'stopping peers')
    await this.faultChain.catch(() => {})
    await Promise.allSettled(this.allHosts().map(async h => { await h.close() }))
    if (this.root != null) await rm(this.root, { recursive: true, force: true, maxRetries: 3 }).catch(() => {})
  }

  // ------------------------------------------------------------------ swarm

  private bootstrapFor (index: number): string[] {
    const first = this.devices.get(0)
    const candidates = this.live().filter(d => d.index !== index && d.index !== 0)
    const chosen = this.bootstrapRnd.shuffle(candidates).slice(0, BOOTSTRAP_FANOUT - (first?.state === 'live' ? 1 : 0))
    const list = [...(first?.state === 'live' && index !== 0 ? [first] : []), ...chosen]
    return list.map(d => d.addrs[0]).filter((a): a is string => a != null)
  }

  /** Starts devices (new or from their repos), grouped by host, all hosts at once. */
  private async startDevices (indexes: number[], init: boolean): Promise<void> {
    const byHost = new Map<PeerHost, PeerStart[]>()
    for (const index of indexes) {
      const host = this.hostFor(index)
      const repo = join(this.root as string, `peer-${index}`)
      const existing = this.devices.get(index)
      const device: Device = existing ?? { index, host, repo, peerId: '', addrs: [], state: 'starting', joiner: index >= this.opts.peers, returned: false }
      device.host = host
      device.state = 'starting'
      this.devices.set(index, device)
      const list = byHost.get(host) ?? []
      list.push({ index, repo, init, bootstrap: this.bootstrapFor(index) })
      byHost.set(host, list)
    }
    await Promise.all([...byHost].map(async ([host, peers]) => {
      try {
        const { peers: infos } = await host.call('startPeers', { peers })
        for (const info of infos) {
          const d = this.devices.get(info.index) as Device
          d.peerId = info.peerId
          d.addrs = info.addrs
          d.state = 'live'
        }
      } catch (err) {
        for (const p of peers) { const d = this.devices.get(p.index); if (d != null && d.state === 'starting') d.state = 'down' }
        throw err
      }
    }))
  }

  private async startSwarm (): Promise<void> {
    const n = this.opts.peers
    this.progress('start', 'starting peers', 0, n)
    await this.startDevices([0], true)
    const queues = this.allHosts().map(h => Array.from({ length: n }, (_, i) => i).filter(i => i !== 0 && this.hostFor(i) === h))
    while (queues.some(q => q.length > 0)) {
      this.signal?.throwIfAborted()
      const wave = queues.flatMap(q => q.splice(0, START_WAVE_SIZE))
      await this.startDevices(wave, true)
      this.progress('start', 'starting peers', this.devices.size, n)
    }
    await this.waitReady()
  }

  /** Waits until every live peer has connections and sees subscribers of the job and probe topics. */
  private async waitReady (): Promise<void> {
    const n = this.live().length
    const need = Math.min(MIN_READY_CONNECTIONS, n - 1)
    const timeoutMs = SWARM_READY_BASE_MS + SWARM_READY_PER_PEER_MS * n
    const deadline = performance.now() + timeoutMs
    let lagging = n
    while (true) {
      const reports = await Promise.all(this.allHosts().map(async h => await h.call('readiness', { topics: [JOBS_TOPIC, SIM_GOSSIP_TOPIC] })))
      const peers = reports.flatMap(r => r.peers)
      lagging = peers.filter(p => p.connections < need || p.subscribers < 1).length
      this.progress('connect', `connecting: ${n - lagging}/${n} peers ready`, n - lagging, n)
      if (lagging === 0) break
      if (performance.now() > deadline) throw new SimTimeoutError(`${lagging} of ${n} peers were not connected and subscribed within ${timeoutMs} ms`)
      await sleep(READY_POLL_MS, this.signal)
    }
    await sleep(MESH_SETTLE_MS, this.signal)
  }

  // ------------------------------------------------------------------ data and measurements

  private async loadData (): Promise<{ cids: string[], bytesInput: number, dataLoadMs: number, wasmCid?: string }> {
    const o = this.opts
    const start = performance.now()
    const originals = Array.from({ length: o.peers }, (_, i) => i)
    let loaded = 0
    this.progress('load', 'devices putting their readings', 0, o.peers)
    const results = await mapLimit(originals, LOAD_CONCURRENCY, async (index) => {
      this.signal?.throwIfAborted()
      const d = this.devices.get(index) as Device
      const r = await d.host.call('loadData', { index, workload: o.workload, seed: o.seed, rows: o.rowsPerDevice, chunkSize: o.chunkSize, replicas: o.replicas })
      this.progress('load', 'devices putting their readings', ++loaded, o.peers)
      return r
    })
    let wasmCid: string | undefined
    if (o.workload === 'wasm' && o.wasmModule != null) {
      const submitter = this.devices.get(this.plan.submitter) as Device
      wasmCid = (await submitter.host.call('putBytes', { index: submitter.index, bytes: o.wasmModule, replicas: o.replicas })).cid
    }
    return {
      cids: results.map(r => r.cid),
      bytesInput: results.reduce((a, r) => a + r.bytes, 0),
      dataLoadMs: performance.now() - start,
      ...(wasmCid != null ? { wasmCid } : {})
    }
  }

  /**
   * Waits (up to ANNOUNCE_TIMEOUT_MS) for the devices' provider announcements,
   * and the placement each one settles, before the measurements and the job:
   * devices collect their readings well before anyone computes over them, so
   * the job starts on data the swarm can find, and the DHT is timed without
   * thousands of announcements in flight. Past the limit they go on in the
   * background and the report says so.
   */
  private async settleAnnouncements (): Promise<{ ms: number, settled: boolean }> {
    const start = performance.now()
    this.progress('load', 'devices announcing their readings')
    const waits = await Promise.all(this.allHosts().map(async h => await h.call('whenProvided', { timeoutMs: ANNOUNCE_TIMEOUT_MS })))
    return { ms: performance.now() - start, settled: waits.every(w => w.settled) }
  }

  private async measureDht (): Promise<{ put: number[], get: number[], putFailures: number, getFailures: number, localHits: number }> {
    const samples = this.opts.dhtSamples
    const put: number[] = []
    const get: number[] = []
    let putFailures = 0
    let getFailures = 0
    let localHits = 0
    const live = this.live()
    const pairs = Array.from({ length: samples }, () => {
      const provider = this.measureRnd.pick(live)
      const others = live.filter(d => d !== provider)
      return { provider, finder: this.measureRnd.pick(others) }
    })
    let done = 0
    this.progress('dht', 'timing DHT provide/find', 0, samples)
    await mapLimit(pairs, DHT_SAMPLE_CONCURRENCY, async ({ provider, finder }, k) => {
      this.signal?.throwIfAborted()
      const cid = probeCid(this.opts.seed, k)
      try {
        put.push((await provider.host.call('dhtProvide', { index: provider.index, cid, timeoutMs: DHT_SAMPLE_TIMEOUT_MS })).ms)
      } catch {
        putFailures++
        this.progress('dht', 'timing DHT provide/find', ++done, samples)
        return
      }
      try {
        const r = await finder.host.call('dhtFind', { index: finder.index, cid, timeoutMs: DHT_SAMPLE_TIMEOUT_MS })
        if (r.ms == null) getFailures++
        else { get.push(r.ms); if (r.local) localHits++ }
      } catch {
        getFailures++
      }
      this.progress('dht', 'timing DHT provide/find', ++done, samples)
    })
    return { put, get, putFailures, getFailures, localHits }
  }

  private async measureGossip (): Promise<{ each: number[], all: number[], expected: number, received: number, probes: number }> {
    const samples = this.opts.gossipSamples
    const sent: Array<{ probe: number, at: number, expect: Set<number> }> = []
    this.progress('gossip', 'timing gossip', 0, samples)
    for (let k = 0; k < samples; k++) {
      this.signal?.throwIfAborted()
      const live = this.live()
      const publisher = this.measureRnd.pick(live)
      const probe = k + 1
      const { at } = await publisher.host.call('gossipPublish', { index: publisher.index, probe })
      sent.push({ probe, at, expect: new Set(live.filter(d => d !== publisher).map(d => d.index)) })
      this.progress('gossip', 'timing gossip', k + 1, samples)
      await sleep(GOSSIP_SAMPLE_GAP_MS, this.signal)
    }
    const expected = sent.reduce((a, s) => a + s.expect.size, 0)
    const got = new Map<number, Map<number, number>>()
    const deadline = performance.now() + GOSSIP_RECEIPT_TIMEOUT_MS
    let received = 0
    while (samples > 0) {
      const reports = await Promise.all(this.allHosts().map(async h => await h.call('gossipReceipts', { probes: sent.map(s => s.probe) })))
      got.clear()
      for (const [probe, index, at] of reports.flatMap(r => r.receipts)) {
        const m = got.get(probe) ?? new Map<number, number>()
        m.set(index, at)
        got.set(probe, m)
      }
      received = sent.reduce((a, s) => a + [...s.expect].filter(i => got.get(s.probe)?.has(i) === true).length, 0)
      if (received >= expected || performance.now() > deadline) break
      await sleep(RECEIPT_POLL_MS, this.signal)
    }
    const each: number[] = []
    const all: number[] = []
    for (const s of sent) {
      const m = got.get(s.probe)
      const lat = [...s.expect].map(i => m?.get(i)).filter((x): x is number => x != null).map(at => Math.max(0, at - s.at))
      each.push(...lat)
      if (lat.length === s.expect.size && lat.length > 0) all.push(Math.max(...lat))
    }
    return { each, all, expected, received, probes: samples }
  }

  // ------------------------------------------------------------------ faults

  /** Records a fault as of `at` (by default now): its time after the first submit and the job progress then. */
  private record (kind: FaultKind, peer: number, at = this.now()): void {
    this.faults.push({ ...at, kind, peer })
  }

  private now (): { atMs: number, doneFraction: number } {
    return { atMs: Math.round(performance.now() - this.jobStartedAt), doneFraction: this.doneFraction }
  }

  /** Queues a fault; they run one at a time. Errors are kept for the report's teardown. */
  private enqueue (action: () => Promise<void>): Promise<void> {
    const p = this.faultChain.then(action).catch((err: unknown) => { this.faultErrors.push(err instanceof Error ? err : new Error(String(err))) })
    this.faultChain = p
    return p
  }

  /**
   * Runs `action` (through the fault queue) after `ms`. The promise resolves
   * when it ran, or at once when cancelled (teardown, or a churn event that
   * was not due before the jobs finished).
   */
  private later (ms: number, action: () => Promise<void>): { done: Promise<void>, cancel: () => void } {
    let cancel = (): void => {}
    const done = new Promise<void>(resolve => {
      const t = setTimeout(() => {
        this.timers.delete(t)
        void this.enqueue(action).then(resolve)
      }, ms)
      cancel = () => { if (this.timers.delete(t)) { clearTimeout(t); resolve() } }
      this.timers.set(t, cancel)
    })
    return { done, cancel }
  }

  private async stopDevice (d: Device): Promise<void> {
    d.state = 'stopping'
    try {
      await d.host.call('stopPeer', { index: d.index })
    } finally {
      d.state = 'down'
    }
  }

  /**
   * Kills a device in a one-device process with SIGKILL, after a snapshot of
   * its counters (what it ran counts in the report). The snapshot gets a short
   * limit: a kill is never held up by the device it kills.
   */
  private async crash (d: Device, host: ChildPeerHost): Promise<void> {
    d.state = 'stopping'
    try {
      let timer: ReturnType<typeof setTimeout> | undefined
      const limit = new Promise<null>(resolve => { timer = setTimeout(() => { resolve(null) }, CRASH_SNAPSHOT_TIMEOUT_MS) })
      const snap = await Promise.race([host.call('snapshot', {}).catch(() => null), limit])
      clearTimeout(timer)
      if (snap != null) {
        // the device is gone: nothing it holds or is connected to counts as live any more
        this.crashedSnapshots.push({ ...snap, peers: snap.peers.map(p => ({ ...p, live: false, connections: 0, routingTable: 0, bytesStored: 0, shards: 0 })) })
      } else {
        this.faultErrors.push(new Error(`device ${d.index}: its counters were not read within ${CRASH_SNAPSHOT_TIMEOUT_MS} ms before its kill, so what it ran is not counted`))
      }
      await host.crash()
      // only a process that is gone leaves the list: teardown closes any other
      if (this.soloHosts.get(d.index) === host) this.soloHosts.delete(d.index)
    } finally {
      d.state = 'down'
    }
  }

  private async kill (peer: number, pending: Array<Promise<void>>): Promise<void> {
    const d = this.devices.get(peer)
    if (d == null || d.state !== 'live') return
    const solo = this.soloHosts.get(peer)
    let stopped: Promise<void> = Promise.resolve()
    if (solo != null) {
      await this.crash(d, solo)
      this.record('kill', peer)
    } else {
      // an in-process stop cuts the device's connections first, and the swarm sees nothing of the
      // rest (closing its repo took 0.4 s under load): the kill counts from its start, and the
      // next fault does not wait for it to end
      this.record('kill', peer)
      // off the fault chain, so its failure is kept here for the report, as the chain's are
      stopped = this.stopDevice(d).catch((err: unknown) => { this.faultErrors.push(err instanceof Error ? err : new Error(String(err))) })
      pending.push(stopped)
    }
    this.killed++
    const restart = this.plan.restarts.find(r => r.peer === peer)
    if (restart != null) {
      pending.push(this.later(restart.delayMs, async () => {
        await stopped
        // a crashed device comes back in a new process, from the repo the crash left on disk
        if (solo != null) await this.startSoloHost(peer)
        await this.startDevices([peer], false)
        d.returned = true
        this.restarted++
        this.record('restart', peer)
      }).done)
    }
  }

  /** Peers gone now without a planned return soon: the data layer keeps every shard while this stays below `replicas`. */
  private away (): number {
    return [...this.devices.values()].filter(d => d.state !== 'live' && !d.joiner).length
  }

  private async churn (kind: 'leave' | 'join', awayMs: number, pending: Array<Promise<void>>): Promise<void> {
    if (this.jobsFinished) return
    if (kind === 'join') {
      const index = this.nextIndex++
      await this.startDevices([index], true)
      this.churnJoined++
      this.record('join', index)
      return
    }
    const candidate = this.plan.churnOrder.map(i => this.devices.get(i)).find(d => d != null && d.state === 'live' && !this.plan.kills.some(k => k.peer === d.index))
    if (candidate == null || this.away() + 1 >= this.opts.replicas || this.live().length <= 2) {
      this.churnSkipped++
      this.record('skip-leave', candidate?.index ?? -1)
      return
    }
    await this.stopDevice(candidate)
    this.churnLeft++
    this.record('leave', candidate.index)
    pending.push(this.later(awayMs, async () => {
      await this.startDevices([candidate.index], false)
      candidate.returned = true
      this.churnReturned++
      this.record('return', candidate.index)
    }).done)
  }

  // ------------------------------------------------------------------ jobs

  /** A live device that is not the target of a pending fault, to watch the jobs from. */
  private observer (): Device | undefined {
    const live = this.live()
    return live.find(d => !d.joiner) ?? live[0]
  }

  private async runJobs (plans: JobPlan[], cids: string[], wasmCid: string | undefined): Promise<{ ids: string[], submitMs: number[], durationMs: number, progress: Array<JobProgress | null>, submitError?: string }> {
    const o = this.opts
    const submitter = this.devices.get(this.plan.submitter) as Device
    this.progress('job', `device ${submitter.index} submits ${plans.length} job${plans.length === 1 ? '' : 's'}`)
    this.jobStartedAt = performance.now()
    const deadline = this.jobStartedAt + o.jobTimeoutMs
    const ids: string[] = []
    const submitMs: number[] = []
    let submitError: string | undefined
    // the jobs are watched, and faults fire, from the first submit on: a small job can be done
    // before the submitter's last submit returns, and a kill then would hit a finished job
    let submitting = true
    const submits = (async () => {
      for (const plan of plans) {
        const spec = jobSpec(plan, cids, { redundancy: o.redundancy, leaseMs: o.leaseMs, ...(wasmCid != null ? { wasmCid } : {}) })
        try {
          // the submit (reading every input's root) is part of the job phase and shares its limit
          const timeoutMs = Math.max(MIN_SUBMIT_TIMEOUT_MS, Math.round(deadline - performance.now()))
          const started = performance.now()
          ids.push((await submitter.host.call('submitJob', { index: submitter.index, spec, timeoutMs })).jobId)
          submitMs.push(Math.round(performance.now() - started))
        } catch (err) {
          if (this.signal?.aborted === true) return
          // the run goes on to its report: what was measured so far still counts
          submitError = `device ${submitter.index} could not submit ${plan.name}: ${(err as Error).message}`
          return
        }
      }
    })().finally(() => { submitting = false })
    const pending: Array<Promise<void>> = []
    const churnEvents: Array<{ cancel: () => void }> = []
    void submits.then(() => {
      if (!this.jobsFinished) churnEvents.push(...this.plan.churn.map(ev => this.later(ev.atMs, async () => { await this.churn(ev.kind, ev.awayMs, pending) })))
    })
    const kills = [...this.plan.kills]
    const progress: Array<JobProgress | null> = plans.map(() => null)
    let durationMs = 0
    while (submitting || ids.length > 0) {
      this.signal?.throwIfAborted()
      if (ids.length === 0) {
        await Promise.race([submits, sleep(PROGRESS_POLL_MS, this.signal)])
        continue
      }
      const watcher = this.observer()
      if (watcher != null) {
        await Promise.all(ids.map(async (jobId, i) => {
          try {
            const r = await watcher.host.call('jobStatus', { index: watcher.index, jobId })
            if (r.progress != null) progress[i] = r.progress
          } catch { /* the watcher went away mid-poll: ask another next time */ }
        }))
      }
      const total = progress.reduce((a, p) => a + (p?.total ?? 0), 0)
      const done = progress.reduce((a, p) => a + (p?.done ?? 0), 0)
      this.doneFraction = total > 0 ? done / total : 0
      const finished = !submitting && progress.slice(0, ids.length).every(p => p != null && (p.status === 'done' || p.status === 'failed'))
      if (finished && durationMs === 0) durationMs = performance.now() - this.jobStartedAt
      // faults fire from progress while the jobs run; any left when they finish still fire. They
      // run in order on the fault chain, not in this loop: stopping a peer on a saturated host
      // took 10 min at 200 peers, and the jobs finished unwatched until the phase's limit passed
      // the submitter is killed only once it has submitted every job (no peer is special, but a
      // submit cut short is a lost job, not a fault the swarm can recover from)
      for (const k of [...kills]) {
        if (this.doneFraction < k.atFraction && !finished) break
        if (submitting && k.peer === submitter.index) continue
        kills.splice(kills.indexOf(k), 1)
        pending.push(this.enqueue(async () => { await this.kill(k.peer, pending) }))
      }
      this.progress('job', `${done}/${total} tasks done, ${progress.reduce((a, p) => a + (p?.running ?? 0), 0)} running, ${progress.reduce((a, p) => a + (p?.retried ?? 0), 0)} retried; killed ${this.killed}, restarted ${this.restarted}`, done, total)
      if (finished) break
      if (performance.now() > deadline) {
        durationMs = performance.now() - this.jobStartedAt
        break
      }
      await sleep(PROGRESS_POLL_MS, this.signal)
    }
    this.jobsFinished = true
    // a submit past the phase's limit still ends (its own limit is the phase's)
    await submits
    // churn events not yet due are dropped; restarts and returns already planned still happen
    for (const ev of churnEvents) ev.cancel()
    await this.faultChain
    await Promise.all(pending)
    await this.faultChain
    if (ids.length === 0) durationMs = performance.now() - this.jobStartedAt
    return { ids, submitMs, durationMs, progress, ...(submitError != null ? { submitError } : {}) }
  }

  /** Reports every planned job; one not submitted (`ids` is shorter) is wrong, with `submitError` as its reason. */
  private async verify (plans: JobPlan[], ids: string[], submitMs: number[], progress: Array<JobProgress | null>, submitError?: string): Promise<JobReport[]> {
    const o = this.opts
    this.progress('verify', 'computing the single-machine result')
    const texts = Array.from({ length: o.peers }, (_, i) => deviceData(o.workload, o.seed, i, o.rowsPerDevice))
    const reports: JobReport[] = []
    for (let i = 0; i < plans.length; i++) {
      const plan = plans[i]
      const expectedSha256 = sha256Hex(await computeLocally(plan, texts))
      const p = progress[i]
      const submitted = i < ids.length
      const report: JobReport = {
        name: plan.name, id: submitted ? ids[i] : '', fn: plan.fn, params: plan.params, tasks: p?.total ?? 0, submitMs: submitMs[i] ?? null,
        status: submitted ? p?.status ?? 'unknown' : NOT_SUBMITTED, retried: p?.retried ?? 0, resultSha256: null, expectedSha256,
        resultBytes: 0, preview: '', correct: false
      }
      if (p?.reason != null) report.reason = p.reason
      if (!submitted) {
        report.reason = i === ids.length && submitError != null ? submitError : 'an earlier job could not be submitted'
      } else if (p?.status === 'done') {
        const watcher = this.observer()
        try {
          if (watcher == null) throw new Error('no live peer left')
          this.progress('verify', `fetching the result of ${plan.name} from device ${watcher.index}`)
          const r = await watcher.host.call('jobResult', { index: watcher.index, jobId: ids[i], timeoutMs: REFETCH_TIMEOUT_MS })
          report.resultSha256 = r.sha256
          report.resultBytes = r.size
          report.preview = r.preview
          report.correct = r.sha256 === expectedSha256
        } catch (err) {
          report.reason = `result not fetched: ${(err as Error).message}`
        }
      } else if (p?.status !== 'failed') {
        report.reason = `not done within ${o.jobTimeoutMs} ms`
      }
      reports.push(report)
    }
    return reports
  }

  /** Every restarted or returned device fetches every result itself: the submitter can come back for it. */
  private async refetch (ids: string[], jobs: JobReport[]): Promise<SimReport['refetch']> {
    const back = this.live().filter(d => d.returned)
    let ok = 0
    const failures: string[] = []
    await Promise.all(back.map(async d => {
      let good = true
      for (let i = 0; i < ids.length; i++) {
        try {
          const r = await d.host.call('jobResult', { index: d.index, jobId: ids[i], timeoutMs: REFETCH_TIMEOUT_MS })
          if (r.sha256 !== jobs[i].expectedSha256) {
            good = false
            failures.push(`device ${d.index}, ${jobs[i].name}: got other bytes (sha-256 ${r.sha256})`)
          }
        } catch (err) {
          good = false
          failures.push(`device ${d.index}, ${jobs[i].name}: ${(err as Error).message} (${await this.connectionsOf(d)})`)
        }
      }
      if (good) ok++
    }))
    return { peers: back.length, ok, failures }
  }

  /** How many peers a device is connected to, for a failure's reason. */
  private async connectionsOf (d: Device): Promise<string> {
    try {
      const { peers } = await d.host.call('readiness', { topics: [JOBS_TOPIC] })
      const p = peers.find(x => x.index === d.index)
      if (p == null) return 'not running'
      const lived = p.closed > 0 ? `, lived ${(p.closedLifetimeP50Ms / 1000).toFixed(1)} s at the median` : ''
      return `${p.connections} connections (${p.opened} opened since its start, ${p.closed} closed${lived}), ${p.subscribers} peers seen on the jobs topic`
    } catch (err) {
      return `its host did not answer: ${(err as Error).message}`
    }
  }

  // ------------------------------------------------------------------ report

  private report (m: {
    setupMs: number
    dataLoadMs: number
    announce: { ms: number, settled: boolean }
    bytesInput: number
    durationMs: number
    dht: Awaited<ReturnType<SimulationRun['measureDht']>>
    gossip: Awaited<ReturnType<SimulationRun['measureGossip']>>
    jobs: JobReport[]
    refetch: SimReport['refetch']
    /** Of the hosts that share the peers. */
    shared: HostSnapshot[]
    /** Of the one-device processes, the crashed ones' taken just before their kill. */
    solo: HostSnapshot[]
  }): SimReport {
    const o = this.opts
    const snapshots = [...m.shared, ...m.solo]
    const peers = snapshots.flatMap(s => s.peers)
    const live = peers.filter(p => p.live)
    const conns = live.map(p => p.connections)
    // memory per peer is that of peers sharing a process: a one-device process is mostly Node itself
    const peakPeers = m.shared.reduce((a, s) => a + s.peakLivePeers, 0)
    const rssTotal = m.shared.reduce((a, s) => a + s.peakRssBytes, 0)
    const rssMarginal = m.shared.reduce((a, s) => a + Math.max(0, s.peakRssBytes - s.baselineRssBytes), 0)
    const tasks = m.jobs.reduce((a, j) => a + j.tasks, 0)
    const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits
    const correct = m.jobs.length > 0 && m.jobs.every(j => j.correct) && m.refetch.ok === m.refetch.peers
    return {
      seed: o.seed,
      workload: o.workload,
      peers: o.peers,
      processes: o.processes,
      soloProcesses: this.soloStarted,
      replicas: o.replicas,
      redundancy: o.redundancy,
      tasks,
      durationMs: Math.round(m.durationMs),
      tasksPerSecond: m.durationMs > 0 ? round(tasks / (m.durationMs / 1000)) : 0,
      setupMs: Math.round(m.setupMs),
      dataLoadMs: Math.round(m.dataLoadMs),
      announceMs: Math.round(m.announce.ms),
      announcementsSettled: m.announce.settled,
      wallMs: Math.round(performance.now() - this.startedAt),
      dhtPutMs: percentiles(m.dht.put),
      dhtGetMs: percentiles(m.dht.get),
      dht: { samples: o.dhtSamples, putFailures: m.dht.putFailures, getFailures: m.dht.getFailures, getLocalHits: m.dht.localHits },
      gossipMs: percentiles(m.gossip.each),
      gossipToAllMs: percentiles(m.gossip.all),
      gossip: { probes: m.gossip.probes, expected: m.gossip.expected, received: m.gossip.received },
      tasksRetried: m.jobs.reduce((a, j) => a + j.retried, 0),
      duplicateExecutions: peers.reduce((a, p) => a + p.duplicates, 0),
      tasksExecuted: peers.reduce((a, p) => a + p.executed, 0),
      failedAttempts: peers.reduce((a, p) => a + p.failed, 0),
      failureReasons: topFailureKinds(peers),
      bytesInput: m.bytesInput,
      bytesStored: live.reduce((a, p) => a + p.bytesStored, 0),
      bytesMoved: peers.reduce((a, p) => a + p.bytesSent, 0),
      killed: this.killed,
      restarted: this.restarted,
      churn: { left: this.churnLeft, returned: this.churnReturned, joined: this.churnJoined, skipped: this.churnSkipped },
      submitterKilled: this.plan.kills.some(k => k.peer === this.plan.submitter) && this.faults.some(f => f.kind === 'kill' && f.peer === this.plan.submitter),
      refetch: m.refetch,
      faults: this.faults,
      rssPerPeerMB: peakPeers > 0 ? round(rssTotal / BYTES_PER_MB / peakPeers) : 0,
      rssMarginalPerPeerMB: peakPeers > 0 ? round(rssMarginal / BYTES_PER_MB / peakPeers) : 0,
      rssTotalMB: round(rssTotal / BYTES_PER_MB, 0),
      eventLoopDelayMs: {
        p50: round(Math.max(0, ...snapshots.map(s => s.eventLoopDelayP50Ms))),
        p99: round(Math.max(0, ...snapshots.map(s => s.eventLoopDelayP99Ms)))
      },
      connectionsPerPeer: {
        min: conns.length > 0 ? Math.min(...conns) : 0,
        mean: conns.length > 0 ? round(conns.reduce((a, b) => a + b, 0) / conns.length) : 0,
        max: conns.length > 0 ? Math.max(...conns) : 0
      },
      jobs: m.jobs,
      errors: this.faultErrors.map(e => `${e.name}: ${e.message}`),
      correct
    }
  }
}

/** Kinds of failed attempts shown in the report. */
const FAILURE_KINDS_SHOWN = 5

/** The most frequent kinds of failed attempts over every device, each with one reason in full. */
function topFailureKinds (peers: Array<{ failureKinds: Record<string, { count: number, example: string }> }>): Array<{ reason: string, count: number, example: string }> {
  const kinds = new Map<string, { count: number, example: string }>()
  for (const p of peers) {
    for (const [reason, { count, example }] of Object.entries(p.failureKinds)) {
      const seen = kinds.get(reason)
      if (seen == null) kinds.set(reason, { count, example })
      else seen.count += count
    }
  }
  return [...kinds].sort((a, b) => b[1].count - a[1].count || a[0].localeCompare(b[0])).slice(0, FAILURE_KINDS_SHOWN).map(([reason, k]) => ({ reason, ...k }))
}
