/**
 * sim/device-counters: what each device hosted in this process did over all
 * its incarnations (a restart or a return starts a new node from the same
 * repo): bytes moved, tasks claimed, run and failed, the latest failure
 * reasons, and its metrics for a snapshot.
 *
 * Owns the bookkeeping across incarnations, nothing else: it reads a node's
 * counters, never changes the node.
 */
import type { EdgeNode } from '../index.ts'
import { MAX_RECENT_FAILURES } from '../scheduler/index.ts'
import type { PeerMetrics } from './host-protocol.ts'
import { failureKind } from './report.ts'

/** The counters of one incarnation, summed over a device's incarnations. */
interface RunCounters {
  bytesSent: number
  bytesReceived: number
  claimed: number
  executed: number
  failed: number
  duplicates: number
}

interface DeviceRecord extends RunCounters {
  /** Incarnations started on this host. */
  starts: number
  /** Failure reasons of its stopped incarnations (the latest MAX_RECENT_FAILURES). */
  failures: string[]
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

/** Adds one incarnation's counters to `into`. */
function addCounters (into: RunCounters, now: RunCounters): void {
  for (const key of Object.keys(now) as Array<keyof RunCounters>) into[key] += now[key]
}

/** The value of a counter of gossipsub's in `node`'s registry for the status topic (label `status`), 0 when absent. */
async function statusCount (node: EdgeNode, name: string): Promise<number> {
  const metric = node.metrics?.registry.getSingleMetric(name)
  if (metric == null) return 0
  const { values } = await metric.get()
  return values.filter(v => v.labels.topic === 'status').reduce((a, v) => a + v.value, 0)
}

function routingTableSize (node: EdgeNode): number {
  const dht = node.libp2p.services.dht as unknown as { routingTable?: { size?: number } }
  return dht.routingTable?.size ?? 0
}

/** The devices this host has started, by index. */
export class DeviceCounters {
  private readonly records = new Map<number, DeviceRecord>()

  /** Every device that ever started here, in index order. */
  indexes (): number[] {
    return [...this.records.keys()].sort((a, b) => a - b)
  }

  /** Counts a new incarnation of device `index`. */
  started (index: number): void {
    const record = this.records.get(index) ?? { starts: 0, bytesSent: 0, bytesReceived: 0, claimed: 0, executed: 0, failed: 0, duplicates: 0, failures: [] }
    record.starts++
    this.records.set(index, record)
  }

  /** Keeps what the stopping incarnation `node` of device `index` did. */
  stopped (index: number, node: EdgeNode): void {
    const record = this.records.get(index)
    if (record == null) return
    addCounters(record, countersOf(node))
    record.failures = [...record.failures, ...node.scheduler.recentFailures].slice(-MAX_RECENT_FAILURES)
  }

  /** Device `index`'s metrics: its stopped incarnations plus `node`, the running one if any. */
  async metrics (index: number, node: EdgeNode | undefined): Promise<PeerMetrics> {
    const record = this.records.get(index)
    const reasons = [...(record?.failures ?? []), ...(node?.scheduler.recentFailures ?? [])].slice(-MAX_RECENT_FAILURES)
    const failureKinds: Record<string, { count: number, example: string }> = {}
    for (const r of reasons) {
      const kind = failureKind(r)
      const seen = failureKinds[kind]
      if (seen == null) failureKinds[kind] = { count: 1, example: r }
      else seen.count++
    }
    const m: PeerMetrics = {
      index,
      live: node != null,
      starts: record?.starts ?? 0,
      connections: 0,
      routingTable: 0,
      bytesSent: record?.bytesSent ?? 0,
      bytesReceived: record?.bytesReceived ?? 0,
      bytesStored: 0,
      shards: 0,
      claimed: record?.claimed ?? 0,
      executed: record?.executed ?? 0,
      failed: record?.failed ?? 0,
      duplicates: record?.duplicates ?? 0,
      failureKinds
    }
    if (node != null) {
      const local = await node.data.localStats()
      m.connections = node.libp2p.getConnections().length
      m.routingTable = routingTableSize(node)
      addCounters(m, countersOf(node))
      m.bytesStored = local.bytes
      m.shards = local.shards
      if (node.swarm != null && node.metrics != null) {
        m.status = {
          copiesIn: await statusCount(node, 'gossipsub_msg_received_prevalidation_total'),
          copiesOut: await statusCount(node, 'gossipsub_msg_publish_peers_total') + await statusCount(node, 'gossipsub_msg_forward_peers_total'),
          messageBytes: node.swarm.lastSize,
          seconds: (Date.now() - node.startedAt) / 1000
        }
      }
    }
    return m
  }
}
