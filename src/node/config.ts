/**
 * node/config: the repo's `config.json`: its schema, defaults and validation.
 *
 * Owns the one JSON file an operator edits. Every field is validated here,
 * once: each has bounds (every duration below Node's timer limit), an unknown
 * key is refused at every level, and the message names the file and the field
 * (`config.json: data.chunkSize: must be ...`). The bounds of a field another
 * layer owns come from that layer through `ConfigFieldBounds`, since this layer
 * imports none above it. The rest of edgeswarm sees only a typed `EdgeConfig`.
 * Never applies a setting itself (`createEdgeNode` does: an option wins over
 * config.json, which wins over the tuning profile, which wins over each layer's
 * default).
 */
import { z } from 'zod'
import { apiAddressProblem, bootstrapAddressProblem, listenAddressProblem, metricsAddressProblem } from './addresses.ts'
import {
  DEFAULT_API, DEFAULT_INBOUND_CONNECTION_THRESHOLD, DEFAULT_LISTEN, DEFAULT_MAX_CONNECTIONS, DEFAULT_TARGET_PEERS,
  MAX_CONFIG_BOOTSTRAP_ADDRESSES, MAX_CONFIG_GOSSIP_LAZY_PEERS, MAX_CONFIG_HANDSHAKE_TIMEOUT_MS,
  MAX_CONFIG_INBOUND_CONNECTION_THRESHOLD, MAX_CONFIG_JOB_SYNC_INTERVAL_MS, MAX_CONFIG_LABEL_LENGTH, MAX_CONFIG_LABELS,
  MAX_CONFIG_LISTEN_ADDRESSES, MAX_CONFIG_MAX_CONNECTIONS, MAX_CONFIG_PROVIDE_RATE_PER_S, MAX_CONFIG_REPAIR_INTERVAL_MS,
  MAX_CONFIG_SLOTS, MAX_CONFIG_STEAL_RANK_STEP_MS, MAX_GOSSIP_MESH_DEGREE, MAX_TIMER_DELAY_MS,
  MIN_CONFIG_HANDSHAKE_TIMEOUT_MS, MIN_CONFIG_JOB_SYNC_INTERVAL_MS, MIN_CONFIG_PROVIDE_RATE_PER_S,
  MIN_CONFIG_REPAIR_INTERVAL_MS, MIN_CONFIG_JOB_KEEP_MS, MAX_CONFIG_JOB_KEEP_MS, MIN_CONFIG_GC_INTERVAL_MS, MAX_CONFIG_GC_INTERVAL_MS, MIN_CONFIG_GC_GRACE_MS, MAX_CONFIG_GC_GRACE_MS
} from './constants.ts'
import { DEFAULT_TUNING_PROFILE, TUNING_PROFILES } from './tuning.ts'

/** config.json cannot be used; the message names the file and the field. */
export class InvalidConfigError extends Error {
  override name = 'InvalidConfigError'
  /** The field at fault, dotted (`data.chunkSize`), or `(root)`. */
  readonly field: string
  constructor (message: string, field: string) {
    super(message)
    this.field = field
  }
}

/** Bounds of a numeric config.json field, set by the layer that owns the setting. */
export interface FieldBounds {
  min: number
  max: number
  /** Whole numbers only. @default true */
  integer?: boolean
}

/**
 * Bounds by dotted field path (`data.chunkSize`): what the layers above this one
 * accept for their own settings, checked with the rest of config.json.
 */
export type ConfigFieldBounds = Readonly<Record<string, FieldBounds>>

/** A value as a message shows it: JSON, at most 60 characters. */
function shown (value: unknown): string {
  const text = value === undefined ? 'nothing' : JSON.stringify(value) ?? String(value)
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}

function boundsText (b: FieldBounds, unit = ''): string {
  return `${b.integer === false ? 'a number' : 'a whole number'}${unit} from ${b.min} to ${b.max}`
}

function inBounds (value: unknown, b: FieldBounds): boolean {
  return typeof value === 'number' && Number.isFinite(value) && value >= b.min && value <= b.max &&
    (b.integer === false || Number.isInteger(value))
}

/** A number within `bounds`, with one message for every way to miss them. */
function bounded (b: FieldBounds, unit = ''): z.ZodType<number> {
  return z.custom<number>(v => inBounds(v, b), { error: iss => `must be ${boundsText(b, unit)}, got ${shown(iss.input)}` })
}

/** A duration in ms: bounded, and always below Node's timer limit. */
function durationMs (min: number, max: number): z.ZodType<number> {
  if (max > MAX_TIMER_DELAY_MS) throw new RangeError(`a config duration may not exceed ${MAX_TIMER_DELAY_MS} ms`)
  return bounded({ min, max }, ' of ms')
}

/** 0 (off) or a duration in ms within bounds. */
function offOrDurationMs (min: number, max: number): z.ZodType<number> {
  if (max > MAX_TIMER_DELAY_MS) throw new RangeError(`a config duration may not exceed ${MAX_TIMER_DELAY_MS} ms`)
  return z.custom<number>(v => v === 0 || inBounds(v, { min, max }), { error: iss => `must be ${boundsText({ min, max }, ' of ms')}, or 0 (off), got ${shown(iss.input)}` })
}

const bool = z.custom<boolean>(v => typeof v === 'boolean', { error: iss => `must be true or false, got ${shown(iss.input)}` })

/** A string `problem` accepts (it returns undefined), else refused with its phrase. */
function checkedString (problem: (s: string) => string | undefined): z.ZodType<string> {
  return z.string({ error: iss => `must be a string, got ${shown(iss.input)}` })
    .check(ctx => {
      const p = problem(ctx.value)
      if (p != null) ctx.issues.push({ code: 'custom', message: `${shown(ctx.value)}: ${p}`, input: ctx.value })
    })
}

function list<T extends z.ZodType> (item: T, max: number): z.ZodArray<T> {
  return z.array(item, { error: iss => `must be a list, got ${shown(iss.input)}` })
    .max(max, { error: `must hold at most ${max} entries` })
}

/** Longest peer id text accepted (an Ed25519 peer id has 52 characters); the key it must match is checked on open. */
const MAX_PEER_ID_CHARS = 128

function peerIdProblem (s: string): string | undefined {
  return s.length >= 1 && s.length <= MAX_PEER_ID_CHARS ? undefined : `a peer id has 1 to ${MAX_PEER_ID_CHARS} characters`
}

function labelProblem (s: string): string | undefined {
  return s.length >= 1 && s.length <= MAX_CONFIG_LABEL_LENGTH ? undefined : `a label has 1 to ${MAX_CONFIG_LABEL_LENGTH} characters`
}

export const ConfigSchema = z.strictObject({
  version: z.literal(1, { error: iss => `must be 1 (the config format this edgeswarm reads), got ${shown(iss.input)}` }).default(1),
  /** The tuning profile (see node/tuning.ts): `crowded` for hosts whose event loop takes seconds a turn. */
  tuning: z.enum(TUNING_PROFILES, { error: iss => `must be one of ${TUNING_PROFILES.join(', ')}, got ${shown(iss.input)}` }).default(DEFAULT_TUNING_PROFILE),
  identity: z.strictObject({ peerId: checkedString(peerIdProblem) }),
  addresses: z.strictObject({
    listen: list(checkedString(listenAddressProblem), MAX_CONFIG_LISTEN_ADDRESSES).default(DEFAULT_LISTEN),
    /** HOST:PORT of the RPC API; must be loopback. */
    api: checkedString(apiAddressProblem).default(DEFAULT_API),
    /** HOST:PORT of the read-only listener (dashboard, metrics, health; never a command); any address; absent: off. */
    metricsListen: checkedString(metricsAddressProblem).optional()
  }).prefault({}),
  bootstrap: list(checkedString(bootstrapAddressProblem), MAX_CONFIG_BOOTSTRAP_ADDRESSES).default([]),
  discovery: z.strictObject({
    mdns: bool.default(true),
    /** Connections to keep before random walks stop; at most `limits.maxConnections`. */
    targetPeers: bounded({ min: 0, max: MAX_CONFIG_MAX_CONNECTIONS }).default(DEFAULT_TARGET_PEERS)
  }).prefault({}),
  limits: z.strictObject({
    maxConnections: bounded({ min: 1, max: MAX_CONFIG_MAX_CONNECTIONS }).default(DEFAULT_MAX_CONNECTIONS),
    inboundConnectionThreshold: bounded({ min: 1, max: MAX_CONFIG_INBOUND_CONNECTION_THRESHOLD, integer: false }).default(DEFAULT_INBOUND_CONNECTION_THRESHOLD),
    /** Bytes this peer stores for others at most; absent: a share of the repo filesystem's space (the data layer's rule). The disk's kept free space applies either way. */
    storageMax: bounded({ min: 0, max: Number.MAX_SAFE_INTEGER }).optional(),
    /** How long (ms) a connection may take to be set up, dialling and answering; absent: the profile's, else libp2p's. */
    handshakeTimeoutMs: durationMs(MIN_CONFIG_HANDSHAKE_TIMEOUT_MS, MAX_CONFIG_HANDSHAKE_TIMEOUT_MS).optional()
  }).prefault({}),
  gossip: z.strictObject({
    /** Mesh peers per topic (gossipsub's D); absent: gossipsub's. */
    meshDegree: bounded({ min: 1, max: MAX_GOSSIP_MESH_DEGREE }).optional(),
    /** Peers outside the mesh sent IHAVE lists each heartbeat (D_lazy), 0: none; absent: the profile's, else gossipsub's. */
    lazyPeers: bounded({ min: 0, max: MAX_CONFIG_GOSSIP_LAZY_PEERS }).optional()
  }).prefault({}),
  data: z.strictObject({
    /** Copies of each block; the data layer bounds it (ConfigFieldBounds). */
    replicas: bounded({ min: 1, max: Number.MAX_SAFE_INTEGER }).optional(),
    /** Absent: the profile's, else the data layer's default. */
    repairIntervalMs: durationMs(MIN_CONFIG_REPAIR_INTERVAL_MS, MAX_CONFIG_REPAIR_INTERVAL_MS).optional(),
    /** Bytes per shard of a put; the data layer bounds it (ConfigFieldBounds). */
    chunkSize: bounded({ min: 1, max: Number.MAX_SAFE_INTEGER }).optional(),
    /** Provider announcements started per second; absent: the profile's, else the data layer's default. */
    provideRatePerSecond: bounded({ min: MIN_CONFIG_PROVIDE_RATE_PER_S, max: MAX_CONFIG_PROVIDE_RATE_PER_S, integer: false }).optional(),
    /** Garbage collection period (ms), 0: only on `edgeswarm gc`; absent: the data layer's default. */
    gcIntervalMs: offOrDurationMs(MIN_CONFIG_GC_INTERVAL_MS, MAX_CONFIG_GC_INTERVAL_MS).optional(),
    /** How long (ms) a block no live root lists is kept before it is garbage; absent: the data layer's default. */
    gcGraceMs: durationMs(MIN_CONFIG_GC_GRACE_MS, MAX_CONFIG_GC_GRACE_MS).optional()
  }).prefault({}),
  jobs: z.strictObject({
    /** Job anti-entropy interval (ms); absent: the profile's, else the job layer's default. */
    syncIntervalMs: durationMs(MIN_CONFIG_JOB_SYNC_INTERVAL_MS, MAX_CONFIG_JOB_SYNC_INTERVAL_MS).optional(),
    /** How long (ms) a finished job's facts, document and results are kept, 0: forever; absent: the job layer's default. */
    keepMs: offOrDurationMs(MIN_CONFIG_JOB_KEEP_MS, MAX_CONFIG_JOB_KEEP_MS).optional()
  }).prefault({}),
  scheduler: z.strictObject({
    /** Tasks run at once; 0 runs none (a peer that only stores). Absent: one per CPU. */
    slots: bounded({ min: 0, max: MAX_CONFIG_SLOTS }).optional(),
    /** Stagger (ms) of stealing per rendezvous rank; absent: the profile's, else the scheduler's default. */
    stealRankStepMs: durationMs(1, MAX_CONFIG_STEAL_RANK_STEP_MS).optional(),
    labels: list(checkedString(labelProblem), MAX_CONFIG_LABELS).default([]),
    gpu: bool.default(false)
  }).prefault({})
})

export type EdgeConfig = z.infer<typeof ConfigSchema>

/**
 * The one-line message of a zod issue: the field, then what is wrong; a field
 * the layers above bound is described by their bounds.
 */
function describeIssue (issue: z.core.$ZodIssue, raw: unknown, source: string, bounds: ConfigFieldBounds): InvalidConfigError {
  const path = issue.path.map(String)
  if (issue.code === 'unrecognized_keys') {
    const field = [...path, issue.keys[0]].join('.')
    return new InvalidConfigError(`${source}: ${field}: unknown field`, field)
  }
  const field = path.join('.') || '(root)'
  const value = path.length === 0 ? raw : valueAt(raw, field)
  let message = issue.message
  if (bounds[field] != null) message = `must be ${boundsText(bounds[field])}, got ${shown(value)}`
  else if (issue.code === 'invalid_type' && issue.expected === 'object') message = `must be a JSON object, got ${shown(value)}`
  return new InvalidConfigError(`${source}: ${field}: ${message}`, field)
}

function valueAt (config: unknown, path: string): unknown {
  let v = config
  for (const key of path.split('.')) v = v != null && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined
  return v
}

/**
 * Checks the fields the layers above bound (`bounds`) in a parsed config;
 * throws InvalidConfigError naming the first out of bounds.
 */
export function checkFieldBounds (config: EdgeConfig, bounds: ConfigFieldBounds, source = 'config.json'): void {
  for (const [field, b] of Object.entries(bounds)) {
    const value = valueAt(config, field)
    if (value !== undefined && !inBounds(value, b)) {
      throw new InvalidConfigError(`${source}: ${field}: must be ${boundsText(b)}, got ${shown(value)}`, field)
    }
  }
}

/**
 * Parses and validates config JSON text, with the layers' `bounds` when given;
 * throws InvalidConfigError naming the file and the first bad field.
 */
export function parseConfig (text: string, source = 'config.json', bounds: ConfigFieldBounds = {}): EdgeConfig {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (err) {
    throw new InvalidConfigError(`${source} is not valid JSON: ${(err as Error).message}`, '(root)')
  }
  const result = ConfigSchema.safeParse(raw)
  if (!result.success) throw describeIssue(result.error.issues[0], raw, source, bounds)
  const config = result.data
  if (config.discovery.targetPeers > config.limits.maxConnections) {
    throw new InvalidConfigError(`${source}: discovery.targetPeers: must not exceed limits.maxConnections (${config.limits.maxConnections}), got ${config.discovery.targetPeers}`, 'discovery.targetPeers')
  }
  checkFieldBounds(config, bounds, source)
  return config
}

/** A fresh config for a new repo; throws InvalidConfigError naming a bad override. */
export function defaultConfig (peerId: string, overrides: { listen?: string[], bootstrap?: string[], api?: string } = {}): EdgeConfig {
  const raw = {
    identity: { peerId },
    addresses: { listen: overrides.listen ?? DEFAULT_LISTEN, api: overrides.api ?? DEFAULT_API },
    bootstrap: overrides.bootstrap ?? []
  }
  const result = ConfigSchema.safeParse(raw)
  if (!result.success) throw describeIssue(result.error.issues[0], raw, 'config', {})
  return result.data
}
