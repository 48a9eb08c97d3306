/**
 * sim/peer-host: hosts a share of the swarm's peers in the current process
 * (the coordinator's own, or a child started by child-host.ts) and carries
 * out the coordinator's commands on them: start, kill, restart, load a
 * device's readings, submit and watch jobs, time DHT and gossip operations,
 * and report memory and metrics.
 *
 * Owns the peers it started: every one is stopped by `close()`. Never listens
 * on anything but 127.0.0.1 and never turns mDNS on. Times are stamped with
 * the machine clock (`machineNow`) so hosts in different processes agree.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { CID } from 'multiformats/cid'
import { createEdgeNode, initRepo, type EdgeNode } from '../index.ts'
import { raceAbort } from '../async/index.ts'
import { MAX_RECENT_FAILURES } from '../scheduler/index.ts'
import { RESULT_PREVIEW_CHARS, RSS_SAMPLE_MS, SIM_SUBMIT_ROOT_ATTEMPTS } from './constants.ts'
import { SimHostError } from './errors.ts'
import type { HostArgs, HostOp, HostResult, PeerHost, PeerMetrics, Tuning } from './host-protocol.ts'
import { deviceData, sha256Hex } from './workload.ts'
import { percentiles } from './percentiles.ts'
import { failureKind } from './report.ts'

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

interface Counters {
  starts: number
  bytesSent: number
  bytesReceived: number
  claimed: number
  executed: number
  failed: number
  duplicates: number
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

type RunCounters = Omit<Counters, 'starts'>

const noCounters = (): Counters => ({ starts: 0, bytesSent: 0, bytesReceived: 0, claimed: 0, executed: 0, failed: 0, duplicates: 0 })

/** Adds a running incarnation's counters to `into`. */
function addCounters (into: RunCounters, now: RunCounters): void {
  for (const key of Object.keys(now) as Array<keyof RunCounters>) into[key] += now[key]
}

function countersOf (node: EdgeNode): RunCounters {
  const s = node.scheduler.metrics
  return {
    bytesSent: node.data.metrics.bytesSent,
    bytesReceived: node.data.metrics.bytesReceived,
    claimed: s.claimed,
    executed: s.executed,
    failed: s.failed,
    duplicates: s.duplicates
  }
}

function routingTableSize (node: EdgeNode): number {
  const dht = node.libp2p.services.dht as unknown as { routingTable?: { size?: number } }
  return dht.routingTable?.size ?? 0
}

/** Peers hosted in this process. */
export class LocalPeerHost implements PeerHost {
  readonly id: number
  private tuning?: Tuning
  private readonly peers = new Map<number, Hosted>()
  /** Counters of incarnations that were stopped, per device. */
  private readonly past = new Map<number, Counters>()
  /** Failure reasons of each device's stopped incarnations. */
  private readonly pastFailures = new Map<number, string[]>()
  private readonly receipts = new Map<number, Map<number, number>>()
  private readonly baselineRss = process.memoryUsage().rss
  private peakRss = this.baselineRss
  private peakLive = 0
  private readonly loopDelay = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS })
  private readonly sampler: ReturnType<typeof setInterval>
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

  private get config (): Tuning {
    if (this.tuning == null) throw new SimHostError(`host ${this.id} was not configured`)
    return this.tuning
  }

  private async startPeer (index: number, repo: string | undefined, init: boolean, bootstrap: string[]): Promise<EdgeNode> {
    if (this.peers.has(index)) throw new SimHostError(`peer ${index} is already running`)
    const t = this.config
    if (repo != null && init) await initRepo(repo, { listen: LOOPBACK_LISTEN })
    const node = await createEdgeNode({
      ...(repo != null ? { repo } : {}),
      listen: LOOPBACK_LISTEN,
      bootstrap,
      mdns: false,
      targetPeers: t.targetPeers,
      maxConnections: t.maxConnections,
      inboundConnectionThreshold: t.inboundConnectionThreshold,
      ...(t.gossipLazyPeers != null ? { gossipLazyPeers: t.gossipLazyPeers } : {}),
      ...(t.gossipMeshDegree != null ? { gossipMeshDegree: t.gossipMeshDegree } : {}),
      ...(t.handshakeTimeoutMs != null ? { handshakeTimeoutMs: t.handshakeTimeoutMs } : {}),
      data: { replicas: t.replicas, provideRatePerSecond: t.provideRatePerSecond, repairIntervalMs: t.repairIntervalMs },
      scheduler: { slots: t.slots, stealRankStepMs: t.stealRankStepMs },
      jobSyncIntervalMs: t.jobSyncIntervalMs
    })
    const pubsub = node.libp2p.services.pubsub
    const onMessage = (evt: Event): void => {
      const at = machineNow()
      const msg = (evt as CustomEvent<{ topic: string, data: Uint8Array }>).detail
      if (msg.topic !== t.gossipTopic || msg.data.length !== PROBE_BYTES) return
      const probe = new DataView(msg.data.buffer, msg.data.byteOffset, PROBE_BYTES).getUint32(0)
      let seen = this.receipts.get(probe)
      if (seen == null) { seen = new Map(); this.receipts.set(probe, seen) }
      if (!seen.has(index)) seen.set(index, at)
    }
    pubsub.addEventListener('message', onMessage)
    pubsub.subscribe(t.gossipTopic)
    const links = { opened: 0, closed: 0, lifetimes: [] as number[] }
    node.libp2p.addEventListener('connection:open', () => { links.opened++ })
    node.libp2p.addEventListener('connection:close', (evt) => {
      links.closed++
      links.lifetimes.push(Date.now() - evt.detail.timeline.open)
      if (links.lifetimes.length > MAX_LIFETIMES) links.lifetimes.shift()
    })
    this.peers.set(index, { node, onMessage, links })
    const past = this.past.get(index) ?? noCounters()
    past.starts++
    this.past.set(index, past)
    this.peakLive = Math.max(this.peakLive, this.peers.size)
    return node
  }

  private async stopPeer (index: number): Promise<void> {
    const hosted = this.peers.get(index)
    if (hosted == null) return
    this.peers.delete(index)
    const past = this.past.get(index)
    const now = countersOf(hosted.node)
    if (past != null) addCounters(past, now)
    this.pastFailures.set(index, [...(this.pastFailures.get(index) ?? []), ...hosted.node.scheduler.recentFailures].slice(-MAX_RECENT_FAILURES))
    hosted.node.libp2p.services.pubsub.removeEventListener('message', hosted.onMessage)
    // a device that dies or leaves drops its connections; it does not close them politely: a
    // graceful close awaits every peer's answer, and a host of 100 peers under load (one turn of
    // its event loop took 40 s at 200 peers) took longer than the job to stop one peer
    for (const connection of hosted.node.libp2p.getConnections()) {
      try { connection.abort(new Error('device went away')) } catch { /* already closed */ }
    }
    await hosted.node.stop()
  }

  private async metrics (index: number): Promise<PeerMetrics> {
    const past = this.past.get(index) ?? noCounters()
    const hosted = this.peers.get(index)
    const reasons = [...(this.pastFailures.get(index) ?? []), ...(hosted?.node.scheduler.recentFailures ?? [])].slice(-MAX_RECENT_FAILURES)
    const failureKinds: Record<string, { count: number, example: string }> = {}
    for (const r of reasons) {
      const kind = failureKind(r)
      const seen = failureKinds[kind]
      if (seen == null) failureKinds[kind] = { count: 1, example: r }
      else seen.count++
    }
    const m: PeerMetrics = { index, live: hosted != null, starts: past.starts, connections: 0, routingTable: 0, bytesSent: past.bytesSent, bytesReceived: past.bytesReceived, bytesStored: 0, shards: 0, claimed: past.claimed, executed: past.executed, failed: past.failed, duplicates: past.duplicates, failureKinds }
    if (hosted != null) {
      const now = countersOf(hosted.node)
      const local = await hosted.node.data.localStats()
      m.connections = hosted.node.libp2p.getConnections().length
      m.routingTable = routingTableSize(hosted.node)
      addCounters(m, now)
      m.bytesStored = local.bytes
      m.shards = local.shards
    }
    return m
  }

  private readonly handlers: Handlers = {
    configure: async ({ tuning }) => {
      this.tuning = tuning
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
    loadData: async ({ index, workload, seed, rows, chunkSize, replicas }) => {
      const bytes = new TextEncoder().encode(deviceData(workload, seed, index, rows))
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
    jobResult: async ({ index, jobId, timeoutMs }) => {
      const signal = AbortSignal.timeout(timeoutMs)
      const node = this.node(index)
      const job = await node.jobs.get(jobId, { signal })
      const bytes = await job.result({ signal })
      return { sha256: sha256Hex(bytes), size: bytes.length, preview: new TextDecoder().decode(bytes.subarray(0, RESULT_PREVIEW_CHARS * 4)).slice(0, RESULT_PREVIEW_CHARS) }
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
      await this.node(index).libp2p.services.pubsub.publish(this.config.gossipTopic, data)
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
      const indexes = new Set([...this.past.keys(), ...this.peers.keys()])
      const peers: PeerMetrics[] = []
      for (const index of [...indexes].sort((a, b) => a - b)) peers.push(await this.metrics(index))
      return {
        pid: process.pid,
        rssBytes: process.memoryUsage().rss,
        peakRssBytes: this.peakRss,
        baselineRssBytes: this.baselineRss,
        peakLivePeers: this.peakLive,
        eventLoopDelayP50Ms: this.loopDelay.percentile(50) / NS_PER_MS,
        eventLoopDelayP99Ms: this.loopDelay.percentile(99) / NS_PER_MS,
        peers
      }
    },
    shutdown: async () => {
      await this.close()
      return {}
    }
  }
}
