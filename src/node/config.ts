/**
 * node/config: the repo's `config.json`: its schema, defaults and validation.
 *
 * Owns the one JSON file an operator edits. Every section is validated here,
 * once, with bounds and a message that names the bad field; the rest of
 * edgeswarm only sees a typed `EdgeConfig`. Never applies a setting itself
 * (`createEdgeNode` does: an option wins over config.json, which wins over the
 * tuning profile, which wins over each layer's default).
 */
import { z } from 'zod'
import { multiaddr } from '@multiformats/multiaddr'
import {
  DEFAULT_API, DEFAULT_INBOUND_CONNECTION_THRESHOLD, DEFAULT_LISTEN,
  DEFAULT_MAX_CONNECTIONS, DEFAULT_TARGET_PEERS, MAX_GOSSIP_MESH_DEGREE
} from './constants.ts'
import { DEFAULT_TUNING_PROFILE, TUNING_PROFILES } from './tuning.ts'

/** Shortest connection set-up limit accepted: below a second a loaded peer fails healthy handshakes. */
const MIN_HANDSHAKE_TIMEOUT_MS = 1_000
/** Longest connection set-up limit accepted. */
const MAX_HANDSHAKE_TIMEOUT_MS = 600_000
/** Most peers a heartbeat's lazy gossip may go to (gossipsub's own is 6). */
const MAX_GOSSIP_LAZY_PEERS = 64
/** Most provider announcements started per second. */
const MAX_PROVIDE_RATE_PER_S = 1_000
/** Shortest job anti-entropy interval: each sync costs both peers a walk of their job state. */
const MIN_JOB_SYNC_INTERVAL_MS = 100
/** Longest job anti-entropy interval: a peer that missed a fact waits this long for it. */
const MAX_JOB_SYNC_INTERVAL_MS = 600_000
/** Longest stagger per rendezvous rank: ten ranks of it are a task's longest wait for a steal. */
const MAX_STEAL_RANK_STEP_MS = 60_000
/** Shortest garbage collection period: each pass walks every block held. */
const MIN_GC_INTERVAL_MS = 1_000
/** Longest garbage collection period (a day): Node's timers hold at most about 24.8 days, and a device should not wait longer to free space. */
const MAX_GC_INTERVAL_MS = 24 * 60 * 60 * 1000
/** Shortest garbage grace: a put's shards reach their holders before its root record, so a shorter grace could collect a put in progress. */
const MIN_GC_GRACE_MS = 60_000
/** Longest garbage grace (30 days). */
const MAX_GC_GRACE_MS = 30 * 24 * 60 * 60 * 1000

export class InvalidConfigError extends Error {
  override name = 'InvalidConfigError'
}

const multiaddrString = z.string().refine(s => {
  try { multiaddr(s); return s.startsWith('/') } catch { return false }
}, { message: 'not a valid multiaddr' })

const hostPort = z.string().regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/, 'must be HOST:PORT')

export const ConfigSchema = z.object({
  version: z.literal(1).default(1),
  /** The tuning profile (see node/tuning.ts): `crowded` for hosts whose event loop takes seconds a turn. */
  tuning: z.enum(TUNING_PROFILES).default(DEFAULT_TUNING_PROFILE),
  identity: z.object({ peerId: z.string() }),
  addresses: z.object({
    listen: z.array(multiaddrString).default(DEFAULT_LISTEN),
    /** HOST:PORT of the RPC API; must be loopback. */
    api: hostPort.default(DEFAULT_API)
  }).prefault({}),
  bootstrap: z.array(multiaddrString).default([]),
  discovery: z.object({
    mdns: z.boolean().default(true),
    targetPeers: z.number().int().min(0).default(DEFAULT_TARGET_PEERS)
  }).prefault({}),
  limits: z.object({
    maxConnections: z.number().int().min(1).default(DEFAULT_MAX_CONNECTIONS),
    inboundConnectionThreshold: z.number().min(1).default(DEFAULT_INBOUND_CONNECTION_THRESHOLD),
    /** Bytes this peer stores for others at most; absent: a share of the repo filesystem's space (the data layer's rule). The disk's kept free space applies either way. */
    storageMax: z.number().int().min(0).optional(),
    /** How long (ms) a connection may take to be set up, dialling and answering; absent: the profile's, else libp2p's. */
    handshakeTimeoutMs: z.number().int().min(MIN_HANDSHAKE_TIMEOUT_MS).max(MAX_HANDSHAKE_TIMEOUT_MS).optional()
  }).prefault({}),
  gossip: z.object({
    /** Mesh peers per topic (gossipsub's D); absent: gossipsub's. */
    meshDegree: z.number().int().min(1).max(MAX_GOSSIP_MESH_DEGREE).optional(),
    /** Peers outside the mesh sent IHAVE lists each heartbeat (D_lazy), 0: none; absent: the profile's, else gossipsub's. */
    lazyPeers: z.number().int().min(0).max(MAX_GOSSIP_LAZY_PEERS).optional()
  }).prefault({}),
  data: z.object({
    replicas: z.number().int().min(1).max(20).optional(),
    /** Absent: the profile's, else the data layer's default. */
    repairIntervalMs: z.number().int().min(100).optional(),
    chunkSize: z.number().int().optional(),
    /** Provider announcements started per second; absent: the profile's, else the data layer's default. */
    provideRatePerSecond: z.number().positive().max(MAX_PROVIDE_RATE_PER_S).optional(),
    /** Garbage collection period (ms), 0: only on `edgeswarm gc`; absent: the data layer's default. */
    gcIntervalMs: z.union([z.literal(0), z.number().int().min(MIN_GC_INTERVAL_MS).max(MAX_GC_INTERVAL_MS)]).optional(),
    /** How long (ms) a block no live root lists is kept before it is garbage; absent: the data layer's default. */
    gcGraceMs: z.number().int().min(MIN_GC_GRACE_MS).max(MAX_GC_GRACE_MS).optional()
  }).prefault({}),
  jobs: z.object({
    /** Job anti-entropy interval (ms); absent: the profile's, else the job layer's default. */
    syncIntervalMs: z.number().int().min(MIN_JOB_SYNC_INTERVAL_MS).max(MAX_JOB_SYNC_INTERVAL_MS).optional()
  }).prefault({}),
  scheduler: z.object({
    slots: z.number().int().min(0).optional(),
    /** Stagger (ms) of stealing per rendezvous rank; absent: the profile's, else the scheduler's default. */
    stealRankStepMs: z.number().int().min(1).max(MAX_STEAL_RANK_STEP_MS).optional(),
    labels: z.array(z.string()).default([]),
    gpu: z.boolean().default(false)
  }).prefault({})
})

export type EdgeConfig = z.infer<typeof ConfigSchema>

/** Parses and validates config JSON text; throws InvalidConfigError naming the field. */
export function parseConfig (text: string, source = 'config.json'): EdgeConfig {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (err) {
    throw new InvalidConfigError(`${source} is not valid JSON: ${(err as Error).message}`)
  }
  const result = ConfigSchema.safeParse(raw)
  if (!result.success) {
    const issue = result.error.issues[0]
    throw new InvalidConfigError(`${source}: ${issue.path.join('.') || '(root)'}: ${issue.message}`)
  }
  return result.data
}

/** A fresh config for a new repo. */
export function defaultConfig (peerId: string, overrides: { listen?: string[], bootstrap?: string[], api?: string } = {}): EdgeConfig {
  return ConfigSchema.parse({
    identity: { peerId },
    addresses: { listen: overrides.listen ?? DEFAULT_LISTEN, api: overrides.api ?? DEFAULT_API },
    bootstrap: overrides.bootstrap ?? []
  })
}
