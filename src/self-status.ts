/**
 * self-status: what a node says about itself: the status it gossips
 * (`collectStatus`, composed from its layers' figures and capabilities for
 * the swarm view) and its own `edgeswarm_node_*` metrics. Reads the node,
 * never changes it.
 */
import { availableParallelism, freemem, loadavg } from 'node:os'
import type { EdgeNode } from './edge-node.ts'
import { eventLoopDelay, type NodeMetrics } from './metrics/index.ts'
import { EDGESWARM_VERSION } from './node/index.ts'
import { MAX_STATUS_FUNCTIONS, MAX_STATUS_LABELS, STATUS_NAME_MAX_CHARS, type PeerStatus } from './status/index.ts'

/** Names a status may carry: 1 to STATUS_NAME_MAX_CHARS characters, at most `max` (longer ones are left out). */
function names (list: string[], max: number): string[] {
  return list.filter(n => n.length > 0 && n.length <= STATUS_NAME_MAX_CHARS).slice(0, max)
}

/** The node's status as it gossips it (all but the time and the interval). */
export function collectStatus (node: EdgeNode): Omit<PeerStatus, 'at' | 'intervalMs'> {
  const caps = node.scheduler.capabilities
  const store = node.data.stored()
  const scheduler = node.scheduler.metrics
  return {
    version: EDGESWARM_VERSION,
    uptimeMs: Date.now() - node.startedAt,
    connections: node.libp2p.getPeers().length,
    routingTable: node.routingTableSize(),
    blocks: store.shards,
    bytes: store.bytes,
    storageUsed: store.bytesForOthers,
    storageMax: node.data.storageMax,
    underReplicated: node.data.metrics.underReplicated,
    slots: caps.slots,
    running: scheduler.running,
    queued: Math.max(0, node.scheduler.held - scheduler.running),
    executed: scheduler.executed,
    failed: scheduler.failed,
    load: Math.round(loadavg()[0] / availableParallelism() * 100) / 100,
    loopDelayMs: Math.round(eventLoopDelay().p99Ms),
    labels: names(caps.labels, MAX_STATUS_LABELS),
    cpus: caps.cpus,
    memoryMB: Math.floor(freemem() / (1024 * 1024)),
    gpu: caps.gpu,
    functions: names(node.functions.list().map(f => f.name), MAX_STATUS_FUNCTIONS)
  }
}

/** The node's own `edgeswarm_node_*` metrics: uptime and the event loop's delay. */
export function registerNodeMetrics (m: NodeMetrics, startedAt: () => number): void {
  m.registerMetric('edgeswarm_node_uptime_seconds', { help: 'Seconds since this node started', calculate: () => (Date.now() - startedAt()) / 1000 })
  m.registerMetricGroup('edgeswarm_node_event_loop_delay_seconds', {
    label: 'stat',
    help: 'Delay of the event loop over the last window: median, 99th percentile and maximum',
    calculate: () => { const d = eventLoopDelay(); return { p50: d.p50Ms / 1000, p99: d.p99Ms / 1000, max: d.maxMs / 1000 } }
  })
}
