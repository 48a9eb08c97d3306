/**
 * api/views: the read-only views the dashboard and `GET /view/v0/...` show,
 * built from an EdgeNode: this peer, the swarm table, the data it put and
 * the health of its blocks, the jobs it knows with their progress, and one
 * job's tasks as a timeline by peer (from its facts). Plain JSON values with
 * stable shapes; never changes the node.
 */
import type { EdgeNode } from '../edge-node.ts'
import type { KnownJob, RoundView } from '../jobs/index.ts'
import type { SwarmPeer } from '../status/index.ts'
import { eventLoopDelay } from '../metrics/index.ts'
import { EDGESWARM_VERSION } from '../node/index.ts'
import { JobNotFoundError } from '../jobs/index.ts'
import { HEALTH_EVENT_LOOP_STALL_MS, MAX_TIMELINE_SPANS } from './constants.ts'
import { assessHealth, type Health } from './health.ts'

export interface SelfView {
  id: string
  addresses: string[]
  version: string
  uptimeMs: number
  connections: number
  routingTable: number
  /** Bytes all connections moved since the start (block bytes when the node has no metrics). */
  bandwidth: { sent: number, received: number }
  blocks: {
    held: number
    bytes: number
    bytesForOthers: number
    storageMax: number
    underReplicated: number
    providesQueued: number
    repairCopies: number
    lastRepair: { at: number, checked: number, copies: number, underReplicated: number, durationMs: number } | null
  }
  tasks: { slots: number, running: number, queued: number, claimed: number, run: number, failed: number, duplicated: number, leasesExpired: number }
  eventLoop: { p50Ms: number, p99Ms: number, maxMs: number }
  health: Health
}

/** A job as the dashboard lists it. */
export interface JobSummary {
  id: string
  fn: string
  status: string
  total: number
  done: number
  running: number
  open: number
  retried: number
  /** Claims that lost a race: work done twice. */
  duplicates: number
  failedTasks: number
  createdAt: number
  submitter: string
  reason?: string
  /** Of a training: each round's mean loss and the CID of the model it produced (see RoundView). */
  rounds?: RoundView[]
}

/** One task run by one peer: [task, peer index, start ms, end ms, outcome]. */
export type TimelineSpan = [number, number, number, number, 'result' | 'failed' | 'running' | 'lapsed']

export interface JobDetail extends JobSummary {
  /** Peers in `spans`, by index. */
  peers: string[]
  spans: TimelineSpan[]
  /** More spans existed than MAX_TIMELINE_SPANS. */
  truncated: boolean
}

function bandwidth (node: EdgeNode): { sent: number, received: number } {
  if (node.metrics != null) return node.metrics.bytes('global')
  return { sent: node.data.metrics.bytesSent, received: node.data.metrics.bytesReceived }
}

export function healthOf (node: EdgeNode): Health {
  const m = node.data.metrics
  const stored = node.data.stored()
  return assessHealth({
    connections: node.libp2p.getPeers().length,
    routingTable: node.routingTableSize(),
    underReplicated: m.underReplicated,
    underReplicatedSince: m.underReplicatedSince,
    storageUsed: stored.bytesForOthers,
    storageMax: node.data.storageMax,
    eventLoopMaxMs: eventLoopDelay().maxMs
  })
}

export function selfView (node: EdgeNode): SelfView {
  const id = node.peerId.toString()
  const stored = node.data.stored()
  const m = node.data.metrics
  const s = node.scheduler.metrics
  const loop = eventLoopDelay()
  return {
    id,
    addresses: node.multiaddrs.map(ma => { const a = ma.toString(); return a.includes('/p2p/') ? a : `${a}/p2p/${id}` }),
    version: EDGESWARM_VERSION,
    uptimeMs: Date.now() - node.startedAt,
    connections: node.libp2p.getPeers().length,
    routingTable: node.routingTableSize(),
    bandwidth: bandwidth(node),
    blocks: {
      held: stored.shards,
      bytes: stored.bytes,
      bytesForOthers: stored.bytesForOthers,
      storageMax: node.data.storageMax,
      underReplicated: m.underReplicated,
      providesQueued: node.data.providesQueued,
      repairCopies: m.repairCopies,
      lastRepair: m.lastRepair ?? null
    },
    tasks: {
      slots: node.scheduler.capabilities.slots,
      running: s.running,
      queued: Math.max(0, node.scheduler.held - s.running),
      claimed: s.claimed,
      run: s.executed,
      failed: s.failed,
      duplicated: s.duplicates,
      leasesExpired: s.leasesExpired
    },
    eventLoop: { p50Ms: Math.round(loop.p50Ms), p99Ms: Math.round(loop.p99Ms), maxMs: Math.round(loop.maxMs) },
    health: healthOf(node)
  }
}

/** The swarm table as the dashboard shows it, with the event-loop delay past which a peer is unhealthy (its cells are marked). */
export function swarmView (node: EdgeNode): { intervalMs: number, loopStallMs: number, peers: SwarmPeer[] } {
  return { intervalMs: node.swarm?.interval ?? 0, loopStallMs: HEALTH_EVENT_LOOP_STALL_MS, peers: node.swarm?.table() ?? [] }
}

function summaryOf (state: KnownJob, now: number): JobSummary {
  const doc = state.doc
  const v = state.view(now)
  return {
    id: v.id,
    fn: doc?.fn ?? '',
    status: v.status,
    total: v.total,
    done: v.done,
    running: v.running,
    open: v.open,
    retried: v.retried,
    duplicates: state.lostClaims(),
    failedTasks: v.failedTasks,
    createdAt: doc?.createdAt ?? 0,
    submitter: doc?.submitter ?? '',
    ...(v.reason != null ? { reason: v.reason } : {}),
    ...(v.rounds != null ? { rounds: v.rounds } : {})
  }
}

/** Every job this peer knows, newest first. */
export function jobsView (node: EdgeNode, now = Date.now()): JobSummary[] {
  return node.jobs.service.known().map(s => summaryOf(s, now)).sort((a, b) => b.createdAt - a.createdAt)
}

/**
 * One job with its tasks by peer: each (task, peer) a span from its claim
 * (or a result given without one) to its result or failure, else to the end
 * of its lease (`running` while alive, `lapsed` after).
 */
export async function jobView (node: EdgeNode, id: string, now = Date.now()): Promise<JobDetail> {
  // a finished job's facts may be on disk only: the timeline reads them back
  const state = await node.jobs.service.restore(id)
  if (state?.doc == null) throw new JobNotFoundError(`unknown job ${id}`)
  const peers: string[] = []
  const peerIndex = new Map<string, number>()
  const indexOf = (p: string): number => {
    let i = peerIndex.get(p)
    if (i == null) { i = peers.length; peers.push(p); peerIndex.set(p, i) }
    return i
  }
  interface Open { task: number, peer: number, start: number, until: number }
  const open = new Map<string, Open>()
  const spans: TimelineSpan[] = []
  let truncated = false
  const close = (o: Open, end: number, outcome: TimelineSpan[4]): void => {
    if (spans.length >= MAX_TIMELINE_SPANS) { truncated = true; return }
    spans.push([o.task, o.peer, o.start, Math.max(o.start, end), outcome])
  }
  const facts = state.allFacts().sort((a, b) => ('at' in a.fact ? a.fact.at : 0) - ('at' in b.fact ? b.fact.at : 0))
  for (const sf of facts) {
    const f = sf.fact
    if (f.t === 'job' || f.t === 'done') continue
    const peer = indexOf(sf.from)
    const held = (task: number, lease: number, claim: boolean): void => {
      const key = `${task}/${peer}`
      const o = open.get(key)
      if (o != null) o.until = Math.max(o.until, f.at + lease)
      else if (claim) open.set(key, { task, peer, start: f.at, until: f.at + lease })
    }
    const ended = (task: number, outcome: 'result' | 'failed'): void => {
      const key = `${task}/${peer}`
      close(open.get(key) ?? { task, peer, start: f.at, until: f.at }, f.at, outcome)
      open.delete(key)
    }
    if (f.t === 'claim' || f.t === 'renew') for (const task of f.tasks) held(task, f.lease, f.t === 'claim')
    else if (f.t === 'result') {
      if (f.claim != null) for (const task of f.claim.tasks) held(task, f.claim.lease, true)
      if (f.renew != null) for (const task of f.renew.tasks) held(task, f.renew.lease, false)
      for (const r of f.results) ended(r.task, 'result')
    } else if (f.t === 'fail') ended(f.task, 'failed')
  }
  for (const o of open.values()) close(o, Math.min(o.until, now), o.until >= now ? 'running' : 'lapsed')
  return { ...summaryOf(state, now), peers, spans, truncated }
}
