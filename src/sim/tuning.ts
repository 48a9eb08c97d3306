/**
 * sim/tuning: what every simulated device is configured with, by the size of
 * the swarm, and the run's own size-dependent choices (the jobs' claim lease,
 * the job phase's limit).
 *
 * A device's configuration is a config.json fragment: a tuning profile
 * (node/tuning.ts) and fields, validated by the node's own ConfigSchema and
 * written into the device's repo, so the swarm a run validates is one that
 * daemons can run. Owns the choice, never its application (the node applies
 * config.json). Pure.
 */
import type { z } from 'zod'
import { ConfigSchema, DEFAULT_MAX_CONNECTIONS, TUNING } from '../node/index.ts'
import type { EdgeNodeOptions } from '../edge-node.ts'
import {
  CROWDED_SWARM_JOB_TIMEOUT_MS, CROWDED_SWARM_LEASE_MS, CROWDED_SWARM_PEERS, DEFAULT_JOB_TIMEOUT_MS,
  LARGE_SWARM_CONNECTION_FRACTION, LARGE_SWARM_LEASE_MS, LARGE_SWARM_MAX_CONNECTIONS, LARGE_SWARM_PEERS,
  LARGE_SWARM_PROVIDE_RATE_PER_S, LARGE_SWARM_TARGET_PEERS, SIM_INBOUND_CONNECTION_THRESHOLD, SIM_LEASE_MS,
  SLOTS_PER_PEER, SMALL_SWARM_GOSSIP_MESH_DEGREE, SMALL_SWARM_PEERS
} from './constants.ts'

/** The sections of config.json a device's configuration sets: all but its identity, addresses and bootstrap list. */
export const DeviceConfigSchema = ConfigSchema.pick({ tuning: true, discovery: true, limits: true, gossip: true, data: true, jobs: true, scheduler: true })
export type DeviceConfig = z.output<typeof DeviceConfigSchema>

/** Connections a peer keeps at most in a swarm of `peers`: the node's default, bounded above LARGE_SWARM_PEERS. */
export function maxConnectionsFor (peers: number): number {
  if (peers <= LARGE_SWARM_PEERS) return DEFAULT_MAX_CONNECTIONS
  return Math.max(LARGE_SWARM_MAX_CONNECTIONS, Math.round(peers * LARGE_SWARM_CONNECTION_FRACTION))
}

/**
 * The configuration of every device in a swarm of `peers` on one machine:
 *  - all sizes: mDNS off, one task slot, `replicas` copies, and no limit on
 *    inbound connections from one IP (every peer is 127.0.0.1);
 *  - up to SMALL_SWARM_PEERS: gossipsub's mesh degree 1;
 *  - above LARGE_SWARM_PEERS: bounded connections, and the `crowded`
 *    profile's repair and job sync intervals with fewer announcements;
 *  - above CROWDED_SWARM_PEERS: the `crowded` profile itself.
 */
export function deviceConfigFor (peers: number, replicas: number): DeviceConfig {
  const crowded = peers > CROWDED_SWARM_PEERS
  const large = peers > LARGE_SWARM_PEERS
  const largeOnly = large && !crowded
  return DeviceConfigSchema.parse({
    tuning: crowded ? 'crowded' : 'default',
    discovery: { mdns: false, ...(large ? { targetPeers: LARGE_SWARM_TARGET_PEERS } : {}) },
    limits: { maxConnections: maxConnectionsFor(peers), inboundConnectionThreshold: SIM_INBOUND_CONNECTION_THRESHOLD },
    gossip: peers <= SMALL_SWARM_PEERS ? { meshDegree: SMALL_SWARM_GOSSIP_MESH_DEGREE } : {},
    data: {
      replicas,
      ...(largeOnly ? { provideRatePerSecond: LARGE_SWARM_PROVIDE_RATE_PER_S, repairIntervalMs: TUNING.crowded.repairIntervalMs } : {})
    },
    jobs: largeOnly ? { syncIntervalMs: TUNING.crowded.jobSyncIntervalMs } : {},
    scheduler: { slots: SLOTS_PER_PEER }
  })
}

/**
 * The same configuration as `createEdgeNode` options, for a device with no
 * repo (an in-memory peer, as the job benchmark runs): each field is the
 * option of the setting the node would read from config.json.
 */
export function inMemoryOptions (c: DeviceConfig): EdgeNodeOptions {
  return {
    tuning: c.tuning,
    mdns: c.discovery.mdns,
    targetPeers: c.discovery.targetPeers,
    maxConnections: c.limits.maxConnections,
    inboundConnectionThreshold: c.limits.inboundConnectionThreshold,
    handshakeTimeoutMs: c.limits.handshakeTimeoutMs,
    gossipLazyPeers: c.gossip.lazyPeers,
    gossipMeshDegree: c.gossip.meshDegree,
    jobSyncIntervalMs: c.jobs.syncIntervalMs,
    data: {
      replicas: c.data.replicas,
      chunkSize: c.data.chunkSize,
      repairIntervalMs: c.data.repairIntervalMs,
      provideRatePerSecond: c.data.provideRatePerSecond,
      storageMax: c.limits.storageMax
    },
    // capabilities are spread over the detected ones: only the fields set
    scheduler: {
      labels: c.scheduler.labels,
      gpu: c.scheduler.gpu,
      ...(c.scheduler.slots != null ? { slots: c.scheduler.slots } : {}),
      ...(c.scheduler.stealRankStepMs != null ? { stealRankStepMs: c.scheduler.stealRankStepMs } : {})
    }
  }
}

/** Claim lease of the jobs in a swarm of `peers`: longer where shared hosts' event loops stall longer. */
export function leaseFor (peers: number): number {
  return peers > CROWDED_SWARM_PEERS ? CROWDED_SWARM_LEASE_MS : peers > LARGE_SWARM_PEERS ? LARGE_SWARM_LEASE_MS : SIM_LEASE_MS
}

/** Limit of the job phase in a swarm of `peers`. */
export function jobTimeoutFor (peers: number): number {
  return peers > CROWDED_SWARM_PEERS ? CROWDED_SWARM_JOB_TIMEOUT_MS : DEFAULT_JOB_TIMEOUT_MS
}
