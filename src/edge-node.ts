/**
 * The edge node: one edgeswarm peer with everything it runs, composed from the
 * layers below (node → data → functions/sandbox → jobs → scheduler).
 *
 * Owns start-up order and shutdown order, and the choice between a repo on
 * disk and an in-memory node: a node that fails to start stops what it had
 * started (ports, stores, the repo's lock) before the error reaches the
 * caller. Never speaks a wire protocol itself.
 *
 * One concern past 400 lines: the composition of a node. `createEdgeNode`
 * resolves every setting and wires every service in one place, so the start
 * order and its undo read top to bottom; the status a node gossips lives in
 * self-status.ts, the layers' work in their folders.
 */
import { join } from 'node:path'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { PeerId, PrivateKey } from '@libp2p/interface'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { LevelBlockstore } from 'blockstore-level'
import type { Blockstore } from 'interface-blockstore'
import {
  createPeer, PeerWalker, ConnectionTrimmer, GossipStreamWatchdog, Repo, RepoExistsError, RepoFileError, initRepo, parseSwarmKey,
  DEFAULT_INBOUND_CONNECTION_THRESHOLD, DEFAULT_MAX_CONNECTIONS, DEFAULT_TARGET_PEERS, DEFAULT_TUNING_PROFILE, TUNING,
  type ConfigFieldBounds, type ConnectionDiagnostics, type ConnectionProblem, type EdgeConfig, type EdgePeer, type TuningProfile, type TuningProfileName
} from './node/index.ts'
import {
  BLOCKSTORE_MAX_OPEN_FILES, DATA_TOPIC, DataService, STORAGE_BALLAST_FILE, createMemoryBlockstore, freeBallastIfFull, MAX_CHUNK_SIZE, MAX_REPLICAS, MIN_CHUNK_SIZE,
  type DataServiceInit, type GcReport, type ShardServer, type StorageStatus
} from './data/index.ts'
import { FunctionRegistry, builtinFunctions, resolveFeatures, type FunctionInfo, type SimpleFunctionOptions, type SimpleReduce, type SimpleRun, type TaskFunction } from './functions/index.ts'
import type { WasmLimits } from './sandbox/index.ts'
import {
  JOBS_TOPIC, JobService, readModel, trainJobSpec, type Job, type JobDataAccess, type JobGcReport, type JobListEntry, type JobSpec, type JobView, type ModelView, type RunnerStatus, type SubmitOptions, type TrainSpec
} from './jobs/index.ts'
import { Scheduler, TaskExecutor, detectCapabilities, type LocalCapabilities, type SchedulerMetrics, type TaskRunner } from './scheduler/index.ts'
import { NodeMetrics, eventLoopDelay, watchEventLoop, type NodeMetricsInit } from './metrics/index.ts'
import { STATUS_TOPIC, StatusService, type PeerStatus, type StatusServiceInit } from './status/index.ts'
import { collectStatus, registerNodeMetrics } from './self-status.ts'

/** Where an in-memory node listens unless told otherwise: loopback, any port. */
export const IN_MEMORY_DEFAULT_LISTEN = ['/ip4/127.0.0.1/tcp/0']

/**
 * The bounds config.json's fields of the layers above the node layer must
 * keep, from the layers that own them (the node layer checks them with the
 * rest of config.json, without importing those layers).
 */
export const CONFIG_FIELD_BOUNDS: ConfigFieldBounds = {
  'data.chunkSize': { min: MIN_CHUNK_SIZE, max: MAX_CHUNK_SIZE },
  'data.replicas': { min: 1, max: MAX_REPLICAS }
}

export interface EdgeNodeOptions {
  /** Repo directory (created with `initRepo`, or with `init`); in memory when omitted. */
  repo?: string
  /**
   * Creates the repo when `repo` has none, as `edgeswarm init` would, with
   * `listen` and `bootstrap` in its config.json; an existing repo is opened
   * as it is. @default false
   */
  init?: boolean
  /** Listen multiaddrs; overrides the repo config. In memory default: 127.0.0.1, any port. */
  listen?: string[]
  /** Bootstrap multiaddrs (with /p2p/); overrides the repo config. */
  bootstrap?: string[]
  /** Swarm key (bytes, or `swarm.key` text); overrides the repo's swarm.key. */
  swarmKey?: Uint8Array | string
  /** mDNS discovery. Default: the repo config (on), or off for an in-memory node. */
  mdns?: boolean
  /**
   * The tuning profile (see node/tuning.ts): `crowded` for hosts whose event
   * loop takes seconds a turn (many peers per core, slow devices). Each setting
   * it holds yields to the same setting given as an option or in config.json.
   * @default the repo config's `tuning`, else DEFAULT_TUNING_PROFILE
   */
  tuning?: TuningProfileName
  /** Connections to keep before random walks stop. @default the repo config's, else DEFAULT_TARGET_PEERS */
  targetPeers?: number
  /** @default the repo config's, else DEFAULT_MAX_CONNECTIONS */
  maxConnections?: number
  /** @default the repo config's, else DEFAULT_INBOUND_CONNECTION_THRESHOLD */
  inboundConnectionThreshold?: number
  /** Peers outside the mesh sent gossip each heartbeat (see PeerInit). @default the repo config's, else the profile's, else gossipsub's */
  gossipLazyPeers?: number
  /** Mesh peers per topic, each message forwarded to as many (see PeerInit.gossipMeshDegree). @default the repo config's, else gossipsub's (6) */
  gossipMeshDegree?: number
  /** How long (ms) setting up a connection may take, either way (see PeerInit.handshakeTimeoutMs). @default the repo config's, else the profile's, else libp2p's */
  handshakeTimeoutMs?: number
  /**
   * Data layer settings (replicas, chunk size, repair interval, provider
   * announcement rate, storage limit); each defaults to the repo config's,
   * then (repair interval, announcement rate) the profile's, then the layer's.
   */
  data?: DataServiceInit
  /** Parts of the node wrapped by the caller: each function gets the default part and returns the one the node uses. */
  decorate?: {
    /** The shard server that answers other peers' shard requests (a test's corrupting holder, say). */
    shardServer?: (s: ShardServer) => ShardServer
    /** The executor that runs this peer's tasks (a test's lying peer, say). */
    taskExecutor?: (executor: TaskRunner) => TaskRunner
  }
  /** Scheduler settings; capabilities default to what the OS reports (slots = CPUs). */
  scheduler?: Partial<LocalCapabilities> & {
    wasmLimits?: Partial<WasmLimits>
    /** Stagger of stealing per rendezvous rank, ms. @default the repo config's, else the profile's, else the scheduler's */
    stealRankStepMs?: number
  }
  /** Anti-entropy interval of job facts, in ms. @default the repo config's, else the profile's, else the job layer's */
  jobSyncIntervalMs?: number
  /**
   * How long (ms) a finished job (done, failed, canceled) is kept, then collected with its
   * facts, document and results; 0 keeps jobs forever.
   * @default the repo config's `jobs.keepMs`, else DEFAULT_JOB_KEEP_MS
   */
  jobKeepMs?: number
  /**
   * How long (ms) a finished job stays whole in memory after its last fact or read; then only
   * its summary stays in memory and its facts on disk (with a repo; without one, all stay).
   * @default FINISHED_JOB_IDLE_MS
   */
  jobFinishedIdleMs?: number
  /**
   * Prometheus metrics of this node, in a registry of its own (`node.metrics`);
   * false: none, at no cost. @default true
   */
  metrics?: boolean | NodeMetricsInit
  /**
   * The swarm view (`node.swarm`): this peer's signed status gossiped every
   * interval, and every peer's latest status; false: none. @default true
   */
  swarm?: boolean | StatusServiceInit
}

/** The functions this peer can run: built-ins plus trusted JS registered by its operator. */
export class Functions {
  readonly registry: FunctionRegistry
  constructor (registry: FunctionRegistry) {
    this.registry = registry
  }

  /**
   * Registers a trusted JS function on this peer only. `reduce` merges task
   * results (in task order); by default results are concatenated.
   */
  register (name: string, run: SimpleRun, reduce?: SimpleReduce, options?: SimpleFunctionOptions): void {
    this.registry.registerSimple(name, run, reduce ?? ((results) => Buffer.concat(results)), options)
  }

  /** Registers a full function definition. */
  registerFunction (fn: TaskFunction): void {
    this.registry.register(fn)
  }

  list (): FunctionInfo[] {
    return this.registry.list()
  }
}

/** The job API of a node. */
export class Jobs {
  readonly service: JobService
  private readonly data: Pick<JobDataAccess, 'manifest' | 'getShard' | 'get'>
  constructor (service: JobService, data: Pick<JobDataAccess, 'manifest' | 'getShard' | 'get'>) {
    this.service = service
    this.data = data
  }

  /**
   * Submits a training (the `train` function's job, its features resolved from the first
   * input when not given); its `Job` dispatches a `round` event per round.
   */
  async train (spec: TrainSpec, options: SubmitOptions = {}): Promise<Job> {
    return await this.service.submit(await trainJobSpec(spec, { data: this.data, resolveFeatures }, options), options)
  }

  /** The trained model `cid` names, as `model show` prints it. */
  async model (cid: string, options: { signal?: AbortSignal } = {}): Promise<ModelView> {
    return await readModel(this.data, cid, options)
  }

  /** Submits a job; resolves when it is announced and another peer holds it (see JobService.submit). */
  async submit (spec: JobSpec, options: SubmitOptions = {}): Promise<Job> {
    return await this.service.submit(spec, options)
  }

  /** A job known to this peer, asking connected peers first if needed. */
  async get (id: string, options: { signal?: AbortSignal } = {}): Promise<Job> {
    return await this.service.find(id, options)
  }

  /** Every job this peer knows, oldest first. */
  list (): JobListEntry[] {
    return this.service.list()
  }

  /** Cancels a job this peer submitted, on every peer (see Job.cancel). */
  async cancel (id: string, options: { signal?: AbortSignal } = {}): Promise<JobView> {
    return await (await this.get(id, options)).cancel(options)
  }
}

export interface PeerSummary {
  id: string
  addresses: string[]
}

export interface NodeStatus {
  id: string
  addresses: string[]
  peers: number
  uptimeMs: number
  repo: string | null
  privateSwarm: boolean
  shards: number
  bytesStored: number
  bytesForOthers: number
  /** The budget for other peers' blocks and the repo's disk: whether pushes or this peer's own writes are refused. */
  storage: StorageStatus
  tasksRunning: number
  jobs: { total: number, queued: number, running: number, done: number, failed: number, canceled: number }
  scheduler: SchedulerMetrics & { slots: number }
  /** Why connections fail now (another swarm key, a bootstrap address unreachable or answering as another peer); empty when none do. */
  connectionProblems: ConnectionProblem[]
  /** Peers in the DHT routing table. */
  routingTable: number
  /** Bytes this peer stores for others at most. */
  storageMax: number
  /** Blocks the last repair pass left below their replica count. */
  underReplicated: number
  /** Event-loop delay over the last window (p99), ms. */
  eventLoopDelayMs: number
  /** Peers in the swarm table (this one included), as gossiped; 0 when the status gossip is off. */
  swarmPeers: number
}

interface Parts {
  libp2p: EdgePeer
  repo: Repo | undefined
  walker: PeerWalker
  trimmer: ConnectionTrimmer
  watchdog: GossipStreamWatchdog
  blockstore: Blockstore & { close?: () => Promise<void> }
  data: DataService
  functions: Functions
  jobService: JobService
  scheduler: Scheduler
  metrics: NodeMetrics | undefined
  swarm: StatusService | undefined
}

export class EdgeNode {
  readonly libp2p: EdgePeer
  readonly repo: Repo | undefined
  /** Files in the swarm: put, get, stat, ls. */
  readonly data: DataService
  /** Functions this peer runs. */
  readonly functions: Functions
  /** Jobs: submit, get, list. */
  readonly jobs: Jobs
  readonly scheduler: Scheduler
  /** This node's Prometheus metrics; undefined when created with `metrics: false`. */
  readonly metrics: NodeMetrics | undefined
  /** The swarm view: the status gossip and every peer's latest status; undefined when created with `swarm: false`. */
  readonly swarm: StatusService | undefined
  /** When the node started (ms since the epoch). */
  readonly startedAt = Date.now()
  private readonly walker: PeerWalker
  /** Keeps room for newcomers below the connection limit (see node/connection-trimmer.ts). */
  readonly trimmer: ConnectionTrimmer
  /** Keeps gossipsub's outbound streams open (see node/gossip-streams.ts). */
  readonly watchdog: GossipStreamWatchdog
  private readonly blockstore: Parts['blockstore']
  private stopping?: Promise<void>
  private releaseEventLoop?: () => void

  constructor (parts: Parts) {
    this.libp2p = parts.libp2p
    this.repo = parts.repo
    this.walker = parts.walker
    this.trimmer = parts.trimmer
    this.watchdog = parts.watchdog
    this.blockstore = parts.blockstore
    this.data = parts.data
    this.functions = parts.functions
    this.jobs = new Jobs(parts.jobService, parts.data)
    this.scheduler = parts.scheduler
    this.metrics = parts.metrics
    this.swarm = parts.swarm
    if (this.metrics != null || this.swarm != null) this.releaseEventLoop = watchEventLoop()
  }

  /** Peers in the DHT routing table. */
  routingTableSize (): number {
    return (this.libp2p.services.dht as unknown as { routingTable?: { size?: number } }).routingTable?.size ?? 0
  }

  /** This peer's status as it gossips it (all but the time and interval): its layers' figures and capabilities. */
  collectStatus (): Omit<PeerStatus, 'at' | 'intervalMs'> {
    return collectStatus(this)
  }

  get peerId (): PeerId {
    return this.libp2p.peerId
  }

  get multiaddrs (): Multiaddr[] {
    return this.libp2p.getMultiaddrs()
  }

  /** Why connections fail: its `problems()`, and a `problem` event per cause worth a log line (see node/connection-diagnostics.ts). */
  get diagnostics (): ConnectionDiagnostics {
    return this.libp2p.services.diagnostics
  }

  /** Peers with an open connection, and the addresses we know for each. */
  peers (): PeerSummary[] {
    return this.libp2p.getPeers().map(id => ({
      id: id.toString(),
      addresses: this.libp2p.getConnections(id).map(c => c.remoteAddr.toString())
    }))
  }

  async status (): Promise<NodeStatus> {
    const local = await this.data.localStats()
    const jobs = { total: 0, queued: 0, running: 0, done: 0, failed: 0, canceled: 0 }
    const swarmPeers = this.swarm?.table().length ?? 0
    for (const j of this.jobs.list()) { jobs.total++; jobs[j.status]++ }
    return {
      id: this.peerId.toString(),
      addresses: this.multiaddrs.map(ma => ma.toString()),
      peers: this.libp2p.getPeers().length,
      uptimeMs: Date.now() - this.startedAt,
      repo: this.repo?.paths.root ?? null,
      privateSwarm: this.repo?.swarmKey != null,
      shards: local.shards,
      bytesStored: local.bytes,
      bytesForOthers: local.bytesForOthers,
      storage: this.data.storage(),
      tasksRunning: this.scheduler.metrics.running,
      jobs,
      scheduler: { ...this.scheduler.metrics, slots: this.scheduler.capabilities.slots },
      connectionProblems: this.diagnostics.problems(),
      routingTable: this.routingTableSize(),
      storageMax: this.data.storageMax,
      underReplicated: this.data.metrics.underReplicated,
      eventLoopDelayMs: Math.round(eventLoopDelay().p99Ms),
      swarmPeers
    }
  }

  /**
   * Collects garbage now: the finished jobs past their retention (their facts, and the puts
   * this peer made for them), then the blocks nobody needs (`edgeswarm gc`).
   */
  async gc (options: { signal?: AbortSignal } = {}): Promise<GcReport & { jobs: JobGcReport }> {
    const jobs = await this.jobs.service.collect(options)
    return { ...await this.data.gc(options), jobs }
  }

  /** Stops everything in reverse start order; safe to call twice. */
  async stop (): Promise<void> {
    this.stopping ??= (async () => {
      this.swarm?.stop()
      this.releaseEventLoop?.()
      this.scheduler.stop()
      this.walker.stop()
      this.trimmer.stop()
      this.watchdog.stop()
      try {
        await this.jobs.service.stop()
        await this.data.stop()
        await this.libp2p.stop()
      } finally {
        await this.blockstore.close?.()
        await this.repo?.close()
      }
    })()
    return this.stopping
  }
}

/**
 * What the live peers say they can run, for the job layer's "nobody can run this job"
 * warning: this peer's own capabilities and functions, and every other peer's latest status
 * that is not stale. Empty until the node exists.
 */
function liveRunners (node: EdgeNode | undefined): RunnerStatus[] {
  if (node == null) return []
  const caps = node.scheduler.capabilities
  const self: RunnerStatus = { id: node.peerId.toString(), labels: caps.labels, memoryMB: caps.freeMemoryMB, gpu: caps.gpu, functions: node.functions.list().map(f => f.name) }
  const others = node.swarm?.table().filter(p => !p.self && !p.stale) ?? []
  return [self, ...others]
}

function toSwarmKey (key: Uint8Array | string | undefined): Uint8Array | undefined {
  if (key == null) return undefined
  return typeof key === 'string' ? parseSwarmKey(key) : key
}

/** Creates the repo at `root` unless it has one. */
async function ensureRepo (root: string, options: EdgeNodeOptions): Promise<void> {
  try {
    await initRepo(root, { listen: options.listen, bootstrap: options.bootstrap })
  } catch (err) {
    if (!(err instanceof RepoExistsError)) throw err
  }
}

/**
 * Creates and starts an edge node. Settings are checked before they are used
 * (config.json when the repo opens, addresses before the peer starts, each
 * layer's in its constructor); if anything fails, what was started is stopped
 * and the repo released before the error is thrown.
 */
export async function createEdgeNode (options: EdgeNodeOptions = {}): Promise<EdgeNode> {
  if (options.repo != null && options.init === true) await ensureRepo(options.repo, options)
  // a full disk cannot open LevelDB: the ballast, deleted, is the room to start in
  if (options.repo != null) await freeBallastIfFull(join(options.repo, STORAGE_BALLAST_FILE))
  const repo = options.repo != null ? await Repo.open(options.repo, { configBounds: CONFIG_FIELD_BOUNDS }) : undefined
  // what to undo, in reverse order, if the node fails to start
  const undo: Array<() => Promise<void> | void> = []
  if (repo != null) undo.push(async () => { await repo.close() })
  try {
    const config = repo?.config
    const privateKey = repo?.privateKey ?? await generateKeyPair('Ed25519')
    const bootstrap = options.bootstrap ?? config?.bootstrap ?? []
    const maxConnections = options.maxConnections ?? config?.limits.maxConnections ?? DEFAULT_MAX_CONNECTIONS
    const targetPeers = options.targetPeers ?? config?.discovery.targetPeers ?? DEFAULT_TARGET_PEERS
    const tuned = resolveTuning(options, config)
    const gossipMeshDegree = options.gossipMeshDegree ?? config?.gossip.meshDegree
    const metrics = options.metrics === false ? undefined : new NodeMetrics(options.metrics === true ? {} : options.metrics)
    const libp2p = await createPeer({
      ...(metrics != null ? { metrics, gossipTopicLabels: new Map([[JOBS_TOPIC, 'jobs'], [STATUS_TOPIC, 'status'], [DATA_TOPIC, 'data']]) } : {}),
      privateKey,
      datastore: repo?.datastore,
      listen: options.listen ?? config?.addresses.listen ?? IN_MEMORY_DEFAULT_LISTEN,
      bootstrap,
      mdns: options.mdns ?? config?.discovery.mdns ?? false,
      swarmKey: toSwarmKey(options.swarmKey) ?? repo?.swarmKey,
      maxConnections,
      inboundConnectionThreshold: options.inboundConnectionThreshold ?? config?.limits.inboundConnectionThreshold ?? DEFAULT_INBOUND_CONNECTION_THRESHOLD,
      ...(tuned.gossipLazyPeers != null ? { gossipLazyPeers: tuned.gossipLazyPeers } : {}),
      ...(gossipMeshDegree != null ? { gossipMeshDegree } : {}),
      ...(tuned.handshakeTimeoutMs != null ? { handshakeTimeoutMs: tuned.handshakeTimeoutMs } : {})
    })
    undo.push(async () => { await libp2p.stop() })
    const walker = new PeerWalker(libp2p, { targetPeers, bootstrap, ...(tuned.handshakeTimeoutMs != null ? { dialTimeoutMs: tuned.handshakeTimeoutMs } : {}) })
    const trimmer = new ConnectionTrimmer(libp2p, { maxConnections, targetPeers })
    let blockstore: Parts['blockstore']
    let reclaim: (() => Promise<void>) | undefined
    if (repo != null) {
      const level = new LevelBlockstore(repo.paths.blocks, { maxOpenFiles: BLOCKSTORE_MAX_OPEN_FILES })
      try {
        await level.open()
      } catch (err) {
        throw new RepoFileError(`cannot open the block store ${repo.paths.blocks}: ${(err as Error).message}`)
      }
      undo.push(async () => { await level.close() })
      blockstore = level
      // LevelDB returns a deleted block's space to the filesystem only when it compacts it;
      // `level` is classic-level under Node, whose compactRange its browser-neutral type omits
      const db = level.db as unknown as { compactRange: (start: string, end: string) => Promise<void> }
      reclaim = async () => { await db.compactRange('\x00', '\xff') }
    } else {
      blockstore = createMemoryBlockstore()
    }
    const data = new DataService({
      peerId: libp2p.peerId,
      privateKey,
      logger: libp2p.logger,
      libp2p,
      dht: libp2p.services.dht,
      pubsub: libp2p.services.pubsub,
      blockstore,
      datastore: repo?.datastore,
      reclaim,
      // the job layer keeps its batches and pass states while it needs them (jobs/retention.ts)
      pins: { isPinned: (cid): boolean => jobService.isPinned(cid) },
      shardServer: options.decorate?.shardServer,
      metrics
    }, {
      ...definedOnly({
        replicas: config?.data.replicas,
        chunkSize: config?.data.chunkSize,
        storageMax: config?.limits.storageMax,
        gcIntervalMs: config?.data.gcIntervalMs,
        gcGraceMs: config?.data.gcGraceMs,
        storagePath: repo?.paths.blocks,
        ballastPath: repo != null ? join(repo.paths.root, STORAGE_BALLAST_FILE) : undefined
      }),
      ...options.data,
      ...definedOnly({ repairIntervalMs: tuned.repairIntervalMs, provideRatePerSecond: tuned.provideRatePerSecond })
    })
    const functions = new Functions(new FunctionRegistry(builtinFunctions))
    const jobService: JobService = new JobService({
      peerId: libp2p.peerId,
      privateKey,
      pubsub: libp2p.services.pubsub,
      network: libp2p,
      logger: libp2p.logger,
      data,
      functions: functions.registry,
      datastore: repo?.datastore,
      metrics,
      ...(options.swarm === false ? {} : { runners: () => liveRunners(node as EdgeNode) })
    }, { syncIntervalMs: tuned.jobSyncIntervalMs, ...definedOnly({ keepMs: options.jobKeepMs ?? config?.jobs.keepMs, finishedIdleMs: options.jobFinishedIdleMs }) })
    const { wasmLimits, stealRankStepMs, ...capsOverrides } = options.scheduler ?? {}
    const capabilities = detectCapabilities({
      ...definedOnly({ slots: config?.scheduler.slots, labels: config?.scheduler.labels, gpu: config?.scheduler.gpu }),
      ...capsOverrides
    })
    const taskExecutor = new TaskExecutor({ data, functions: functions.registry, states: jobService, metrics }, { wasmLimits })
    const executor = options.decorate?.taskExecutor?.(taskExecutor) ?? taskExecutor
    const scheduler = new Scheduler({ peerId: libp2p.peerId, jobs: jobService, executor, data, metrics }, { capabilities, stealRankStepMs: tuned.stealRankStepMs })
    const watchdog = new GossipStreamWatchdog(libp2p)
    let node: EdgeNode | undefined
    const swarm = options.swarm === false
      ? undefined
      : new StatusService({
        peerId: libp2p.peerId,
        privateKey,
        pubsub: libp2p.services.pubsub,
        logger: libp2p.logger,
        collect: () => (node as EdgeNode).collectStatus(),
        metrics
      }, options.swarm === true ? {} : options.swarm)
    if (metrics != null) registerNodeMetrics(metrics, () => (node as EdgeNode).startedAt)
    node = new EdgeNode({ libp2p, repo, walker, trimmer, watchdog, blockstore, data, functions, jobService, scheduler, metrics, swarm })
    // from here the node stops everything, in reverse start order
    const started = node
    undo.splice(0, undo.length, async () => { await started.stop() })
    walker.start()
    trimmer.start()
    watchdog.start()
    await data.start()
    await jobService.start()
    scheduler.start()
    swarm?.start()
    return node
  } catch (err) {
    for (const step of undo.reverse()) {
      try { await step() } catch { /* the start's error is the one to report */ }
    }
    throw err
  }
}

/**
 * The settings a tuning profile may hold, each from the option, else the repo's
 * config.json, else the profile (the option's, else the config's); undefined
 * where none sets it: the owning layer's default.
 */
function resolveTuning (options: EdgeNodeOptions, config: EdgeConfig | undefined): TuningProfile {
  const profile = TUNING[options.tuning ?? config?.tuning ?? DEFAULT_TUNING_PROFILE]
  return {
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? config?.limits.handshakeTimeoutMs ?? profile.handshakeTimeoutMs,
    gossipLazyPeers: options.gossipLazyPeers ?? config?.gossip.lazyPeers ?? profile.gossipLazyPeers,
    provideRatePerSecond: options.data?.provideRatePerSecond ?? config?.data.provideRatePerSecond ?? profile.provideRatePerSecond,
    repairIntervalMs: options.data?.repairIntervalMs ?? config?.data.repairIntervalMs ?? profile.repairIntervalMs,
    jobSyncIntervalMs: options.jobSyncIntervalMs ?? config?.jobs.syncIntervalMs ?? profile.jobSyncIntervalMs,
    stealRankStepMs: options.scheduler?.stealRankStepMs ?? config?.scheduler.stealRankStepMs ?? profile.stealRankStepMs
  }
}

function definedOnly<T extends Record<string, unknown>> (obj: T): Partial<T> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as Partial<T>
}
