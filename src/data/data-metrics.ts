/**
 * data/data-metrics: the data layer's `edgeswarm_data_*` metrics, registered
 * through libp2p's Metrics component: blocks and bytes held (own and for
 * others), the storage budget, under-replicated blocks, repair passes and
 * copies, swarm fetches and their latency, provider announcements queued and
 * failed, block bytes moved. Most are read from the layer's counters at each
 * scrape, so the hot paths only bump numbers they already keep. Never labels
 * a figure with a CID or a peer id.
 */
import type { Metrics } from '@libp2p/interface'
import type { ProviderQueue } from './provider-queue.ts'
import type { ShardStore } from './shard-store.ts'
import type { DataMetrics } from './types.ts'

export interface DataMetricSources {
  metrics: DataMetrics
  store: ShardStore
  providers: ProviderQueue
}

export function registerDataMetrics (m: Metrics, { metrics, store, providers }: DataMetricSources): void {
  const held = (): { own: number, others: number, ownBytes: number, othersBytes: number } => {
    const s = store.stats()
    return { own: s.shards - s.shardsForOthers, others: s.shardsForOthers, ownBytes: s.bytes - s.bytesForOthers, othersBytes: s.bytesForOthers }
  }
  m.registerMetricGroup('edgeswarm_data_blocks', { label: 'holder', help: 'Blocks held here: this peer\'s own, and held for other peers', calculate: () => { const h = held(); return { own: h.own, others: h.others } } })
  m.registerMetricGroup('edgeswarm_data_stored_bytes', { label: 'holder', help: 'Bytes of the blocks held here, own and for other peers', calculate: () => { const h = held(); return { own: h.ownBytes, others: h.othersBytes } } })
  m.registerMetric('edgeswarm_data_storage_max_bytes', { help: 'Bytes this peer stores for other peers at most', calculate: () => store.storageMax })
  m.registerMetric('edgeswarm_data_under_replicated_blocks', { help: 'Blocks held here that the last repair pass left below their replica count', calculate: () => metrics.underReplicated })
  m.registerCounter('edgeswarm_data_repair_passes_total', { help: 'Repair passes completed', calculate: () => metrics.repairPasses })
  m.registerCounter('edgeswarm_data_repair_copies_total', { help: 'Copies pushed by repair passes', calculate: () => metrics.repairCopies })
  m.registerCounterGroup('edgeswarm_data_fetches_total', { label: 'outcome', help: 'Blocks fetched from the swarm (found) and fetches that ended without the block (missed)', calculate: () => ({ found: metrics.fetches, missed: metrics.fetchMisses }) })
  metrics.fetchSeconds = m.registerHistogram('edgeswarm_data_fetch_seconds', { help: 'Time of each block fetch from the swarm that found its block' })
  m.registerMetric('edgeswarm_data_provides_queued', { help: 'Provider announcements queued or running', calculate: () => providers.queued })
  m.registerCounterGroup('edgeswarm_data_provides_total', { label: 'outcome', help: 'Provider announcements made (done) and attempts that failed', calculate: () => ({ done: metrics.provides, failed: metrics.provideFailures }) })
  m.registerCounterGroup('edgeswarm_data_block_bytes_total', { label: 'direction', help: 'Block bytes sent (pushes, served gets) and received (fetches, accepted pushes)', calculate: () => ({ sent: metrics.bytesSent, received: metrics.bytesReceived }) })
  m.registerCounter('edgeswarm_data_adopted_blocks_total', { help: 'Blocks kept from facts as one of their closest peers', calculate: () => metrics.adopted })
  m.registerMetric('edgeswarm_data_bad_peers', { help: 'Peers found serving bytes that do not match their CID (never asked again)', calculate: () => metrics.badPeers.size })
}
