/**
 * sim/peer-host: hosts a share of the swarm's peers in the current process
 * (the coordinator's own, or a child started by child-host.ts) and carries
 * out the coordinator's commands on them: start, kill, restart, load a
 * device's readings, submit and watch jobs, time DHT and gossip operations,
 * and report memory and metrics.
 *
 * A device with a repo starts as a daemon does: `initRepo`, then the run's
 * configuration written into its config.json, then `createEdgeNode({ repo })`
 * with only its bootstrap list as an option. Owns the peers it started: every
 * one is stopped by `close()`. Never listens on anything but 127.0.0.1 and
 * never turns mDNS on. Times are stamped with the machine clock
 * (`machineNow`) so hosts in different processes agree.
 */
import { writeFile } from 'node:fs/promises'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { CID } from 'multiformats/cid'
import { createEdgeNode, initRepo, type EdgeNode } from '../index.ts'
import type { TaskRunner } from '../scheduler/index.ts'
import { taskCount } from '../jobs/index.ts'
import { repoPaths } from '../node/index.ts'
import { raceAbort } from '../async/index.ts'
import { RESULT_PREVIEW_CHARS, RESULT_TEXT_MAX_BYTES, RSS_SAMPLE_MS, SIM_GOSSIP_TOPIC, SIM_SUBMIT_ROOT_ATTEMPTS } from './constants.ts'
import { DeviceCounters } from './device-counters.ts'
import { SimHostError } from './errors.ts'
import type { HostArgs, HostOp, HostResult, PeerHost, PeerMetrics } from './host-protocol.ts'
import { inMemoryOptions, type DeviceConfig } from './tuning.ts'
import { deviceData, heldOutData, sha256Hex } from './workload.ts'
import { TaskClock, factRecords, passTimeline } from './pass-timeline.ts'
import { percentiles } from './percentiles.ts'
import { createReadOnlyServer } from '../api/routes.ts'
import type { ApiServer } from '../api/server.ts'

/** The only address a simulated peer listens on: loopback, any port. */
export const LOOPBACK_LISTEN = ['/ip4/127.0.0.1/tcp/0']
/** Bytes of a gossip probe: its number, big-endian. */
const PROBE_BYTES = 4
/** Resolution of the event-loop delay histogram. */
const EVENT_LOOP_RESOLUTION_MS = 20
const NS_PER_MS = 1e6

/** Milliseconds since the epoch with sub-millisecond precision, comparable across processes on one machine. */
export function machineNow (): number {
  return performance.timeOrigin + performance.now()
}

interface Hosted {
  node: EdgeNode
  onMessage: (evt: Event) => void
  /** Connections this incarnation opened and saw closed, and how long the closed ones lived (ms), for a failure's reason. */
  links: { opened: number, closed: number, lifetimes: number[] }
}

/** Lifetimes of closed connections kept per device (the latest). */
const MAX_LIFETIMES = 1000

type Handlers = { [K in HostOp]: (args: HostArgs<K>) => Promise<HostResult<K>> }

/**
 * Creates a device's repo as `edgeswarm init --listen` does, then writes the
 * run's configuration into its config.json, as an operator edits it; the node
 * validates the file when it opens the repo.
 */
async function initDeviceRepo (repo: string, config: DeviceConfig): Promise<void> {
  const initial = await initRepo(repo, { listen: LOOPBACK_LISTEN })
  await writeFile(repoPaths(repo).config, JSON.stringify({ ...initial, ...config }, null, 2) + '\n')
}

/** Peers hosted in this process. */
export class LocalPeerHost implements PeerHost {
  readonly id: number
  private deviceConfig?: DeviceConfig
  /** Metrics and the status gossip on (see the `configure` command). */
  private observe = true
  private readonly peers = new Map<number, Hosted>()
  private readonly counters = new DeviceCounters()
  private readonly receipts = new Map<number, Map<number, number>>()
  private readonly baselineRss = process.memoryUsage().rss
  private peakRss = this.baselineRss
  private peakLive = 0
  private readonly loopDelay = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS })
  /** The runs of tasks on this host's peers, for job timelines. */
  private readonly clock = new TaskClock(machineNow)
  private readonly sampler: ReturnType<typeof setInterval>
  /** Read-only dashboards served, by device: closed with their device. */
  private readonly dashboards = new Map<number, ApiServer>()
  private closing?: Promise<void>

  constructor (id = 0) {
    this.id = id
    this.loopDelay.enable()
    this.sampler = setInterval(() => { this.sampleRss() }, RSS_SAMPLE_MS)
    this.sampler.unref()
  }

  async call<K extends HostOp> (op: K, args: HostArgs<K>): Promise<HostResult<K>> {
    if (this.closing != null && op !== 'shutdown') throw new SimHostError(`host ${this.id} is closed`)
    const handler = this.handlers[op] as (a: HostArgs<K>) => Promise<HostResult<K>>
    return await handler(args)
  }

  async close (): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.sampler)
      this.loopDelay.disable()
      await Promise.allSettled([...this.dashboards.values()].map(async d => { await d.close() }))
      this.dashboards.clear()
      const nodes = [...this.peers.values()]
      this.peers.clear()
      await Promise.allSettled(nodes.map(async h => { await h.node.stop() }))
    })()
    await this.closing
  }

  private sampleRss (): void {
    this.peakRss = Math.max(this.peakRss, process.memoryUsage().rss)
  }

  private node (index: number): EdgeNode {
    const hosted = this.peers.get(index)
    if (hosted == null) throw new SimHostError(`peer ${index} is not running on host ${this.id}`)
    return hosted.node
  }

  private get config (): DeviceConfig {
    if (this.deviceConfig == null) throw new SimHostError(`host ${this.id} was not configured`)
    return this.deviceConfig
  }

  private async startPeer (index: number, repo: string | undefined, init: boolean, bootstrap: string[]): Promise<EdgeNode> {
    if (this.peers.has(index)) throw new SimHostError(`peer ${index} is already running`)
    if (repo != null && init) await initDeviceRepo(repo, this.config)
    const decorate = { taskExecutor: (executor: TaskRunner) => this.clock.wrap(executor) }
    const observe = { metrics: this.observe, swarm: this.observe }
    const node = await createEdgeNode(repo != null
      ? { repo, bootstrap, decorate, ...observe }
      : { ...inMemoryOptions(this.config), listen: LOOPBACK_LISTEN, bootstrap, decorate, ...observe })
    const pubsub = node.libp2p.services.pubsub
    const onMessage = (evt: Event): void => {
      const at = machineNow()
      const msg = (evt as CustomEvent<{ topic: string, data: Uint8Array }>).detail
      if (msg.topic !== SIM_GOSSIP_TOPIC || msg.data.length !== PROBE_BYTES) return
      const probe = new DataView(msg.data.buffer, msg.data.byteOffset, PROBE_BYTES).getUint32(0)
      let seen = this.receipts.get(probe)
      if (seen == null) { seen = new Map(); this.receipts.set(probe, seen) }
      if (!seen.has(index)) seen.set(index, at)
    }
    pubsub.addEventListener('message', onMessage)
    pubsub.subscribe(SIM_GOSSIP_TOPIC)
    const links = { opened: 0, closed: 0, lifetimes: [] as number[] }
    node.libp2p.addEventListener('connection:open', () => { links.opened++ })
    node.libp2p.addEventListener('connection:close', (evt) => {
      links.closed++
      links.lifetimes.push(Date.now() - evt.detail.timeline.open)
      if (links.lifetimes.length > MAX_LIFETIMES) links.lifetimes.shift()
    })
    this.peers.set(index, { node, onMessage, links })
    this.counters.started(index)
    this.peakLive = Math.max(this.peakLive, this.peers.size)
    return node
  }

  private async stopPeer (index: number): Promise<void> {
    const hosted = this.peers.get(index)
    if (hosted == null) return
    this.peers.delete(index)
    await this.dashboards.get(index)?.close()
    this.dashboards.delete(index)
    this.counters.stopped(index, hosted.node)
    hosted.node.libp2p.services.pubsub.removeEventListener('message', hosted.onMessage)
    // a device that dies or leaves drops its connections; it does not close them politely: a
    // graceful close awaits every peer's answer, which on saturated hosts outlasts the job
    for (const connection of hosted.node.libp2p.getConnections()) {
      try { connection.abort(new Error('device went away')) } catch { /* already closed */ }
    }
    await hosted.node.stop()
  }

  private readonly handlers: Handlers = {
    configure: async ({ config, observe }) => {
      this.deviceConfig = config
      this.observe = observe ?? true
      return {}
    },
    startPeers: async ({ peers }) => {
      const started = await Promise.allSettled(peers.map(async p => await this.startPeer(p.index, p.repo, p.init, p.bootstrap)))
      this.sampleRss()
      const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected')
      if (failed != null) throw failed.reason
      return {
        peers: started.map((r, i) => {
          const node = (r as PromiseFulfilledResult<EdgeNode>).value
          return { index: peers[i].index, peerId: node.peerId.toString(), addrs: node.multiaddrs.map(String) }
        })
      }
    },
    stopPeer: async ({ index }) => {
      await this.stopPeer(index)
      return {}
    },
    readiness: async ({ topics }) => ({
      peers: [...this.peers].map(([index, { node, links }]) => ({
        index,
        connections: node.libp2p.getPeers().length,
        opened: links.opened,
        closed: links.closed,
        closedLifetimeP50Ms: Math.round(percentiles(links.lifetimes).p50 ?? 0),
        subscribers: Math.min(...topics.map(topic => node.libp2p.services.pubsub.getSubscribers(topic).length))
      }))
    }),
    loadData: async ({ index, workload, seed, rows, chunkSize, replicas, heldOut }) => {
      const bytes = new TextEncoder().encode(heldOut === true ? heldOutData(seed, index, rows) : deviceData(workload, seed, index, rows))
      const cid = await this.node(index).data.put(bytes, { chunkSize, replicas })
      return { cid: cid.toString(), bytes: bytes.length }
    },
    putBytes: async ({ index, bytes, replicas, chunkSize }) => {
      const cid = await this.node(index).data.put(bytes, { replicas, ...(chunkSize != null ? { chunkSize } : {}) })
      return { cid: cid.toString() }
    },
    submitJob: async ({ index, spec, timeoutMs }) => {
      // a root not found yet on a loaded swarm is asked for again until the job phase's limit
      const job = await this.node(index).jobs.submit(spec, { signal: AbortSignal.timeout(timeoutMs), rootAttempts: SIM_SUBMIT_ROOT_ATTEMPTS })
      return { jobId: job.id }
    },
    trainJob: async ({ index, spec, timeoutMs }) => {
      const job = await this.node(index).jobs.train(spec, { signal: AbortSignal.timeout(timeoutMs), rootAttempts: SIM_SUBMIT_ROOT_ATTEMPTS })
      const doc = (await this.node(index).jobs.service.restore(job.id))?.doc
      return { jobId: job.id, tasks: doc != null ? taskCount(doc) : 0 }
    },
    whenProvided: async ({ timeoutMs }) => {
      const start = performance.now()
      const signal = AbortSignal.timeout(timeoutMs)
      const all = Promise.all([...this.peers.values()].map(async ({ node }) => { await node.data.whenProvided() }))
      const settled = await raceAbort(all, signal).then(() => true, (err: unknown) => {
        if (signal.aborted) return false
        throw err
      })
      return { ms: performance.now() - start, settled }
    },
    jobStatus: async ({ index, jobId }) => {
      const view = this.node(index).jobs.list().find(j => j.id === jobId)
      if (view == null) return { progress: null }
      const { status, total, done, running, open, retried, failedTasks, reason } = view
      return { progress: { status, total, done, running, open, retried, failedTasks, ...(reason != null ? { reason } : {}) } }
    },
    jobResult: async ({ index, jobId, timeoutMs, text }) => {
      const signal = AbortSignal.timeout(timeoutMs)
      const node = this.node(index)
      const job = await node.jobs.get(jobId, { signal })
      const bytes = await job.result({ signal })
      return {
        sha256: sha256Hex(bytes),
        size: bytes.length,
        preview: new TextDecoder().decode(bytes.subarray(0, RESULT_PREVIEW_CHARS * 4)).slice(0, RESULT_PREVIEW_CHARS),
        ...(text === true && bytes.length <= RESULT_TEXT_MAX_BYTES ? { text: new TextDecoder().decode(bytes) } : {})
      }
    },
    jobTimeline: async ({ index, jobId, facts }) => {
      const state = await this.node(index).jobs.service.restore(jobId)
      return {
        tasks: state?.doc != null ? taskCount(state.doc) : 0,
        passes: state != null ? passTimeline(state) : [],
        runs: this.clock.of(jobId),
        ...(facts === true && state != null ? { facts: factRecords(state) } : {})
      }
    },
    dhtProvide: async ({ index, cid, timeoutMs }) => {
      const dht = this.node(index).libp2p.services.dht
      const signal = AbortSignal.timeout(timeoutMs)
      const start = performance.now()
      for await (const ev of dht.provide(CID.parse(cid), { signal })) { void ev }
      return { ms: performance.now() - start }
    },
    dhtFind: async ({ index, cid, timeoutMs }) => {
      const node = this.node(index)
      const signal = AbortSignal.timeout(timeoutMs)
      const start = performance.now()
      for await (const ev of node.libp2p.services.dht.findProviders(CID.parse(cid), { signal })) {
        if (ev.name === 'PROVIDER' && ev.providers.some(p => !p.id.equals(node.peerId))) {
          return { ms: performance.now() - start, local: ev.from.equals(node.peerId) }
        }
      }
      return { ms: null, local: false }
    },
    gossipPublish: async ({ index, probe }) => {
      const data = new Uint8Array(PROBE_BYTES)
      new DataView(data.buffer).setUint32(0, probe)
      const at = machineNow()
      await this.node(index).libp2p.services.pubsub.publish(SIM_GOSSIP_TOPIC, data)
      return { at }
    },
    gossipReceipts: async ({ probes }) => {
      const receipts: Array<[number, number, number]> = []
      for (const probe of probes) {
        for (const [index, at] of this.receipts.get(probe) ?? []) receipts.push([probe, index, at])
      }
      return { receipts }
    },
    snapshot: async () => {
      this.sampleRss()
      const peers: PeerMetrics[] = []
      for (const index of this.counters.indexes()) peers.push(await this.counters.metrics(index, this.peers.get(index)?.node))
      return {
        pid: process.pid,
        cpuMs: (process.cpuUsage().user + process.cpuUsage().system) / 1000,
        rssBytes: process.memoryUsage().rss,
        peakRssBytes: this.peakRss,
        baselineRssBytes: this.baselineRss,
        peakLivePeers: this.peakLive,
        eventLoopDelayP50Ms: this.loopDelay.percentile(50) / NS_PER_MS,
        eventLoopDelayP99Ms: this.loopDelay.percentile(99) / NS_PER_MS,
        wireSentBytes: [...this.peers.values()].reduce((sum, p) => sum + (p.node.metrics?.bytes().sent ?? 0), 0),
        peers
      }
    },
    serveDashboard: async ({ index }) => {
      const existing = this.dashboards.get(index)
      if (existing != null) await existing.close()
      const server = createReadOnlyServer(this.node(index))
      const address = await server.listen('127.0.0.1:0')
      this.dashboards.set(index, server)
      return { address }
    },
    shutdown: async () => {
      await this.close()
      return {}
    }
  }
}
