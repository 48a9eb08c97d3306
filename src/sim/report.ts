/**
 * sim/report: what a simulation run found (`SimReport`, also its JSON shape):
 * building it from the phases' measurements and the hosts' snapshots, and
 * its human-readable rendering. Pure.
 */
import type { DhtSamples, GossipSamples } from './probes.ts'
import type { FaultSummary } from './fault-runner.ts'
import type { HostSnapshot, PeerMetrics } from './host-protocol.ts'
import { percentiles, type Percentiles } from './percentiles.ts'
import type { ResolvedSimOptions, Workload } from './options.ts'

export type FaultKind = 'kill' | 'restart' | 'leave' | 'return' | 'join' | 'skip-leave'

/** One fault as it happened. */
export interface FaultRecord {
  /** Time after the first job was submitted. */
  atMs: number
  kind: FaultKind
  /** Device index. */
  peer: number
  /** Fraction of all tasks done when it happened. */
  doneFraction: number
}

/** The status of a job whose submit failed (it never reached the swarm). */
export const NOT_SUBMITTED = 'not submitted'

export interface JobReport {
  name: string
  id: string
  fn: string
  params: Record<string, string>
  tasks: number
  status: string
  /** How long `submit` took (reading every input's root, storing and announcing the job); null if it failed. */
  submitMs: number | null
  retried: number
  /** sha-256 of the swarm's result and of the single-machine result. */
  resultSha256: string | null
  expectedSha256: string
  resultBytes: number
  preview: string
  correct: boolean
  reason?: string
}

export interface SimReport {
  seed: string
  workload: Workload
  peers: number
  processes: number
  /**
   * One-device processes started besides them: with child processes, every
   * kill target runs alone so that its kill is a SIGKILL (a restart starts
   * another). Their peers count everywhere but in the memory per peer.
   */
  soloProcesses: number
  replicas: number
  redundancy: number
  /** Tasks of all jobs. */
  tasks: number
  /** From the first submit until every job was seen done. */
  durationMs: number
  tasksPerSecond: number
  /** Start-up: peers started, connected and meshed. */
  setupMs: number
  /** Every device putting its readings into the swarm. */
  dataLoadMs: number
  /** Waiting after the load for the devices' provider announcements (bounded; see announcementsSettled). */
  announceMs: number
  /** Whether every announcement was made within the wait's limit (otherwise they went on during the run). */
  announcementsSettled: boolean
  /** The whole run, set-up to teardown. */
  wallMs: number
  /** `dht.provide(cid)` from one peer, whole operation. */
  dhtPutMs: Percentiles
  /** `dht.findProviders(cid)` from another peer, until the first provider. */
  dhtGetMs: Percentiles
  dht: { samples: number, putFailures: number, getFailures: number, getLocalHits: number }
  /** Publish → receipt, over every (probe, live peer) pair. */
  gossipMs: Percentiles
  /** Publish → receipt at the last live peer, per probe. */
  gossipToAllMs: Percentiles
  gossip: { probes: number, expected: number, received: number }
  tasksRetried: number
  duplicateExecutions: number
  tasksExecuted: number
  /** Runs that ended in a failure fact (an input not found in time, a sandbox limit, an error), over all peers. */
  failedAttempts: number
  /** The most frequent kinds of failed attempts (see failureKind), over the devices' latest 50 each, with one reason of each kind in full. */
  failureReasons: Array<{ reason: string, count: number, example: string }>
  /** The devices' readings, as generated. */
  bytesInput: number
  /** Bytes held by live peers at the end (all replicas, job documents, results). */
  bytesStored: number
  /** Block bytes sent between peers (puts, replication, fetches, repair). */
  bytesMoved: number
  killed: number
  restarted: number
  churn: { left: number, returned: number, joined: number, skipped: number }
  submitterKilled: boolean
  /** Restarted or returned peers that fetched the result themselves, and how many got the right bytes. */
  refetch: { peers: number, ok: number, /** why each failed fetch failed */ failures: string[] }
  faults: FaultRecord[]
  /** Resident memory of the processes that share peers, at peak, per peer (process baseline included). */
  rssPerPeerMB: number
  /** Same, without each process's memory before its first peer started. */
  rssMarginalPerPeerMB: number
  rssTotalMB: number
  eventLoopDelayMs: { p50: number, p99: number }
  connectionsPerPeer: { min: number, mean: number, max: number }
  /**
   * The status gossip's cost per live peer, medians: status bytes received
   * and sent a second (message payloads, duplicates included, from
   * gossipsub's per-topic counters times the status size), and the size of
   * one status.
   */
  status: { inBytesPerSecond: number, outBytesPerSecond: number, messageBytes: number, peers: number }
  jobs: JobReport[]
  /** Faults that could not be carried out (a restart that failed, ...). */
  errors: string[]
  correct: boolean
}

function ms (x: number | null): string {
  if (x == null) return 'n/a'
  return x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(1)} ms`
}

function pct (p: Percentiles): string {
  return `p50 ${ms(p.p50)}  p95 ${ms(p.p95)}  p99 ${ms(p.p99)}`
}

function bytes (n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MiB`
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`
  return `${n} B`
}

/** The report as text, one fact per line. */
export function formatReport (r: SimReport): string {
  const lines: string[] = []
  const row = (label: string, value: string): void => { lines.push(`  ${label.padEnd(22)} ${value}`) }
  const solo = r.soloProcesses > 0 ? ` (+${r.soloProcesses} one-device process${r.soloProcesses === 1 ? '' : 'es'} for the kill targets)` : ''
  lines.push(`edgeswarm simulation: ${r.peers} peers in ${r.processes} process${r.processes === 1 ? '' : 'es'}${solo}, workload ${r.workload}, seed ${r.seed}`)
  const unsubmitted = r.jobs.some(j => j.status === NOT_SUBMITTED)
  row('result', r.correct
    ? 'CORRECT (equal to the single-machine computation)'
    : unsubmitted ? 'NOT CARRIED OUT (a job could not be submitted: see its line)' : 'WRONG (differs from the single-machine computation)')
  for (const j of r.jobs) {
    row(`  job ${j.name}`, `${j.correct ? 'ok' : 'WRONG'}  ${j.tasks} tasks, ${j.status}${j.reason != null ? ` (${j.reason})` : ''}, submitted in ${ms(j.submitMs)}, ${bytes(j.resultBytes)}: ${j.preview.replace(/\s+/g, ' ').slice(0, 90)}${j.preview.length > 90 ? '…' : ''}`)
  }
  row('job time', `${ms(r.durationMs)} for ${r.tasks} tasks (${r.tasksPerSecond.toFixed(1)} tasks/s)`)
  row('set-up / data load', `${ms(r.setupMs)} / ${ms(r.dataLoadMs)}, announced ${r.announcementsSettled ? 'in' : 'in part after'} ${ms(r.announceMs)}   (whole run ${ms(r.wallMs)})`)
  row('DHT put (provide)', `${pct(r.dhtPutMs)}   (${r.dht.samples} samples, ${r.dht.putFailures} failed)`)
  row('DHT get (find)', `${pct(r.dhtGetMs)}   (${r.dht.getFailures} failed, ${r.dht.getLocalHits} answered from the finder's own store)`)
  row('gossip to a peer', pct(r.gossipMs))
  row('gossip to all peers', `${pct(r.gossipToAllMs)}   (${r.gossip.received}/${r.gossip.expected} receipts of ${r.gossip.probes} probes)`)
  row('faults', `killed ${r.killed}, restarted ${r.restarted}${r.submitterKilled ? ' (the submitter was killed)' : ''}; churn: left ${r.churn.left}, returned ${r.churn.returned}, joined ${r.churn.joined}, skipped ${r.churn.skipped}`)
  for (const f of r.faults) row('', `${ms(f.atMs).padStart(9)}  ${f.kind.padEnd(10)} peer ${f.peer}  (${(f.doneFraction * 100).toFixed(0)}% of tasks done)`)
  row('refetch after return', `${r.refetch.ok}/${r.refetch.peers} returned peers fetched the right result`)
  for (const f of r.refetch.failures) row('', `failed: ${f}`)
  row('tasks', `executed ${r.tasksExecuted}, failed attempts ${r.failedAttempts}, retried ${r.tasksRetried}, duplicate executions ${r.duplicateExecutions}`)
  for (const f of r.failureReasons) row('', `${String(f.count).padStart(5)} × ${f.reason}`)
  row('bytes', `input ${bytes(r.bytesInput)}, stored ${bytes(r.bytesStored)} (replicas ${r.replicas}), moved ${bytes(r.bytesMoved)}`)
  row('memory', `${r.rssPerPeerMB.toFixed(1)} MB RSS per peer (${r.rssMarginalPerPeerMB.toFixed(1)} MB without process baseline; ${r.rssTotalMB.toFixed(0)} MB total${r.soloProcesses > 0 ? ', over the processes that share peers' : ''})`)
  row('event loop delay', `p50 ${r.eventLoopDelayMs.p50.toFixed(0)} ms, p99 ${r.eventLoopDelayMs.p99.toFixed(0)} ms (worst host)`)
  row('connections per peer', `min ${r.connectionsPerPeer.min}, mean ${r.connectionsPerPeer.mean.toFixed(1)}, max ${r.connectionsPerPeer.max}`)
  if (r.status.peers > 0) row('status gossip', `${bytes(r.status.inBytesPerSecond)}/s in, ${bytes(r.status.outBytesPerSecond)}/s out per peer (median of ${r.status.peers}; ${r.status.messageBytes} B a status)`)
  for (const e of r.errors) row('error', e)
  return lines.join('\n') + '\n'
}

/** The status gossip's cost per live peer (see SimReport.status). */
function statusCost (live: PeerMetrics[]): SimReport['status'] {
  const counted = live.flatMap(p => p.status != null && p.status.seconds > 0 ? [p.status] : [])
  const median = (xs: number[]): number => percentiles(xs).p50 ?? 0
  return {
    inBytesPerSecond: Math.round(median(counted.map(s => s.copiesIn * s.messageBytes / s.seconds))),
    outBytesPerSecond: Math.round(median(counted.map(s => s.copiesOut * s.messageBytes / s.seconds))),
    messageBytes: Math.round(median(counted.map(s => s.messageBytes))),
    peers: counted.length
  }
}

/** Characters of a failure kind kept. */
const FAILURE_KIND_CHARS = 200

/**
 * A failed attempt's reason with what differs between attempts of the same
 * kind masked (CIDs, peer ids, numbers), so they can be counted together.
 */
export function failureKind (reason: string): string {
  return reason
    .replace(/\b(baf[a-z2-7]{20,}|Qm[1-9A-HJ-NP-Za-km-z]{40,})\b/g, '<cid>')
    .replace(/\b(12D3Koo|Qm)[1-9A-HJ-NP-Za-km-z]{30,}\b/g, '<peer>')
    .replace(/\d+(\.\d+)?/g, 'N')
    .slice(0, FAILURE_KIND_CHARS)
}

/** Kinds of failed attempts shown in the report. */
const FAILURE_KINDS_SHOWN = 5
const BYTES_PER_MB = 1024 * 1024

/** The most frequent kinds of failed attempts over every device, each with one reason in full. */
function topFailureKinds (peers: PeerMetrics[]): SimReport['failureReasons'] {
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

/** What the phases of a run measured, for `buildReport`. */
export interface RunMeasurements {
  setupMs: number
  dataLoadMs: number
  announce: { ms: number, settled: boolean }
  bytesInput: number
  dht: DhtSamples
  gossip: GossipSamples
  /** Of the job phase (see JobPhaseResult.durationMs). */
  durationMs: number
  jobs: JobReport[]
  refetch: SimReport['refetch']
  faults: FaultSummary
  /** One-device processes started. */
  soloProcesses: number
  /** Snapshots of the hosts that share the peers. */
  shared: HostSnapshot[]
  /** Snapshots of the one-device processes, the crashed ones' taken just before their kill. */
  solo: HostSnapshot[]
  /** The whole run, ms. */
  wallMs: number
}

/** The report of a run: `correct` when every job equals the single-machine result and every returned device fetched it. */
export function buildReport (o: ResolvedSimOptions, m: RunMeasurements): SimReport {
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
    soloProcesses: m.soloProcesses,
    replicas: o.replicas,
    redundancy: o.redundancy,
    tasks,
    durationMs: Math.round(m.durationMs),
    tasksPerSecond: m.durationMs > 0 ? round(tasks / (m.durationMs / 1000)) : 0,
    setupMs: Math.round(m.setupMs),
    dataLoadMs: Math.round(m.dataLoadMs),
    announceMs: Math.round(m.announce.ms),
    announcementsSettled: m.announce.settled,
    wallMs: Math.round(m.wallMs),
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
    killed: m.faults.killed,
    restarted: m.faults.restarted,
    churn: m.faults.churn,
    submitterKilled: m.faults.submitterKilled,
    refetch: m.refetch,
    faults: m.faults.faults,
    rssPerPeerMB: peakPeers > 0 ? round(rssTotal / BYTES_PER_MB / peakPeers) : 0,
    rssMarginalPerPeerMB: peakPeers > 0 ? round(rssMarginal / BYTES_PER_MB / peakPeers) : 0,
    rssTotalMB: round(rssTotal / BYTES_PER_MB, 0),
    eventLoopDelayMs: {
      p50: round(Math.max(0, ...snapshots.map(s => s.eventLoopDelayP50Ms))),
      p99: round(Math.max(0, ...snapshots.map(s => s.eventLoopDelayP99Ms)))
    },
    status: statusCost(live),
    connectionsPerPeer: {
      min: conns.length > 0 ? Math.min(...conns) : 0,
      mean: conns.length > 0 ? round(conns.reduce((a, b) => a + b, 0) / conns.length) : 0,
      max: conns.length > 0 ? Math.max(...conns) : 0
    },
    jobs: m.jobs,
    errors: m.faults.errors.map(e => `${e.name}: ${e.message}`),
    correct
  }
}
