/**
 * Test fixture: every field of config.json with the values it must accept and
 * refuse, as fast-check arbitraries, for the config property tests (parseConfig
 * in-process, and the real `daemon` command). The bounds come from the layers'
 * constants, so a bound that changes there is tested as it is.
 */
import fc from 'fast-check'
import {
  MAX_CONFIG_BOOTSTRAP_ADDRESSES, MAX_CONFIG_GOSSIP_LAZY_PEERS, MAX_CONFIG_HANDSHAKE_TIMEOUT_MS,
  MAX_CONFIG_INBOUND_CONNECTION_THRESHOLD, MAX_CONFIG_JOB_SYNC_INTERVAL_MS, MAX_CONFIG_LABEL_LENGTH, MAX_CONFIG_LABELS,
  MAX_CONFIG_LISTEN_ADDRESSES, MAX_CONFIG_MAX_CONNECTIONS, MAX_CONFIG_PROVIDE_RATE_PER_S, MAX_CONFIG_REPAIR_INTERVAL_MS,
  MAX_CONFIG_SLOTS, MAX_CONFIG_STEAL_RANK_STEP_MS, MAX_GOSSIP_MESH_DEGREE, MAX_TIMER_DELAY_MS,
  MIN_CONFIG_HANDSHAKE_TIMEOUT_MS, MIN_CONFIG_JOB_SYNC_INTERVAL_MS, MIN_CONFIG_PROVIDE_RATE_PER_S,
  MIN_CONFIG_REPAIR_INTERVAL_MS, MIN_CONFIG_GC_INTERVAL_MS, MAX_CONFIG_GC_INTERVAL_MS, MIN_CONFIG_GC_GRACE_MS, MAX_CONFIG_GC_GRACE_MS,
  MIN_CONFIG_JOB_KEEP_MS, MAX_CONFIG_JOB_KEEP_MS
} from '../../src/node/constants.ts'
import { MAX_CHUNK_SIZE, MAX_REPLICAS, MIN_CHUNK_SIZE } from '../../src/data/constants.ts'

/** A peer id that parses, for bootstrap addresses. */
export const SOME_PEER_ID = '12D3KooWH4kw4qxHJLCLBVTr2zGkKBGP3KwTCmtrYmjJQe47xjgm'

interface NumericField { path: string, min: number, max: number, integer: boolean, /** 0 is accepted too (off) */ zero?: boolean }

/** Every numeric field and its bounds (the data layer's for its own fields). */
export const NUMERIC_FIELDS: NumericField[] = [
  { path: 'discovery.targetPeers', min: 0, max: MAX_CONFIG_MAX_CONNECTIONS, integer: true },
  { path: 'limits.maxConnections', min: 1, max: MAX_CONFIG_MAX_CONNECTIONS, integer: true },
  { path: 'limits.inboundConnectionThreshold', min: 1, max: MAX_CONFIG_INBOUND_CONNECTION_THRESHOLD, integer: false },
  { path: 'limits.storageMax', min: 0, max: Number.MAX_SAFE_INTEGER, integer: true },
  { path: 'limits.handshakeTimeoutMs', min: MIN_CONFIG_HANDSHAKE_TIMEOUT_MS, max: MAX_CONFIG_HANDSHAKE_TIMEOUT_MS, integer: true },
  { path: 'gossip.meshDegree', min: 1, max: MAX_GOSSIP_MESH_DEGREE, integer: true },
  { path: 'gossip.lazyPeers', min: 0, max: MAX_CONFIG_GOSSIP_LAZY_PEERS, integer: true },
  { path: 'data.replicas', min: 1, max: MAX_REPLICAS, integer: true },
  { path: 'data.repairIntervalMs', min: MIN_CONFIG_REPAIR_INTERVAL_MS, max: MAX_CONFIG_REPAIR_INTERVAL_MS, integer: true },
  { path: 'data.chunkSize', min: MIN_CHUNK_SIZE, max: MAX_CHUNK_SIZE, integer: true },
  { path: 'data.provideRatePerSecond', min: MIN_CONFIG_PROVIDE_RATE_PER_S, max: MAX_CONFIG_PROVIDE_RATE_PER_S, integer: false },
  { path: 'data.gcIntervalMs', min: MIN_CONFIG_GC_INTERVAL_MS, max: MAX_CONFIG_GC_INTERVAL_MS, integer: true, zero: true },
  { path: 'data.gcGraceMs', min: MIN_CONFIG_GC_GRACE_MS, max: MAX_CONFIG_GC_GRACE_MS, integer: true },
  { path: 'jobs.syncIntervalMs', min: MIN_CONFIG_JOB_SYNC_INTERVAL_MS, max: MAX_CONFIG_JOB_SYNC_INTERVAL_MS, integer: true },
  { path: 'jobs.keepMs', min: MIN_CONFIG_JOB_KEEP_MS, max: MAX_CONFIG_JOB_KEEP_MS, integer: true, zero: true },
  { path: 'scheduler.slots', min: 0, max: MAX_CONFIG_SLOTS, integer: true },
  { path: 'scheduler.stealRankStepMs', min: 1, max: MAX_CONFIG_STEAL_RANK_STEP_MS, integer: true }
]

/** Durations among them: all must stay below Node's timer limit. */
export const DURATION_FIELDS = NUMERIC_FIELDS.filter(f => f.path.endsWith('Ms'))
export { MAX_TIMER_DELAY_MS }

/** The sections (objects) of config.json and their keys. */
export const SECTIONS: Record<string, string[]> = {
  '': ['version', 'tuning', 'identity', 'addresses', 'bootstrap', 'discovery', 'limits', 'gossip', 'data', 'jobs', 'scheduler'],
  identity: ['peerId'],
  addresses: ['listen', 'api'],
  discovery: ['mdns', 'targetPeers'],
  limits: ['maxConnections', 'inboundConnectionThreshold', 'storageMax', 'handshakeTimeoutMs'],
  gossip: ['meshDegree', 'lazyPeers'],
  data: ['replicas', 'repairIntervalMs', 'chunkSize', 'provideRatePerSecond', 'gcIntervalMs', 'gcGraceMs'],
  jobs: ['syncIntervalMs', 'keepMs'],
  scheduler: ['slots', 'stealRankStepMs', 'labels', 'gpu']
}

/** Values of the wrong JSON type for a number, string or list field (never an empty list, which a list field takes). */
const wrongType = fc.oneof(
  fc.string({ maxLength: 8 }), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { minLength: 1, maxLength: 2 }),
  fc.dictionary(fc.string({ minLength: 1, maxLength: 4 }), fc.integer(), { maxKeys: 2 })
)

function validNumber (f: NumericField): fc.Arbitrary<number> {
  const within = f.integer ? fc.integer({ min: f.min, max: Math.min(f.max, Number.MAX_SAFE_INTEGER) }) : fc.double({ min: f.min, max: f.max, noNaN: true })
  return f.zero === true ? fc.oneof(fc.constant(0), within) : within
}

/** A valid value of the numeric field at `path`. */
function valid (path: string): fc.Arbitrary<number> {
  const f = NUMERIC_FIELDS.find(n => n.path === path)
  if (f == null) throw new Error(`no numeric field ${path}`)
  return validNumber(f)
}

function badNumber (f: NumericField): fc.Arbitrary<unknown> {
  const options: Array<fc.Arbitrary<unknown>> = [
    fc.integer({ min: -1e9, max: Math.ceil(f.min) - 1 }).filter(n => n < f.min && !(f.zero === true && n === 0)),
    fc.double({ min: f.max * 2 + 1, max: 1e300, noNaN: true }),
    wrongType
  ]
  if (f.max < 1e12) options.push(fc.constant(1e12))
  if (f.integer) options.push(fc.double({ min: f.min, max: Math.min(f.max, 1e9), noNaN: true }).filter(x => !Number.isInteger(x)))
  return fc.oneof(...options)
}

/** Sets `value` at the dotted `path` of a copy of `config`. */
export function withValue (config: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const copy = structuredClone(config)
  const keys = path.split('.')
  let at = copy
  for (const k of keys.slice(0, -1)) {
    if (at[k] == null || typeof at[k] !== 'object' || Array.isArray(at[k])) at[k] = {}
    at = at[k] as Record<string, unknown>
  }
  at[keys.at(-1) as string] = value
  return copy
}

/** A valid config.json's settings (no identity): every field within its bounds, on 127.0.0.1, mDNS off. */
export const validSettings: fc.Arbitrary<Record<string, unknown>> = fc.record({
  tuning: fc.constantFrom('default', 'crowded'),
  limits: fc.record({
    maxConnections: fc.integer({ min: 1, max: MAX_CONFIG_MAX_CONNECTIONS }),
    inboundConnectionThreshold: valid('limits.inboundConnectionThreshold'),
    storageMax: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    handshakeTimeoutMs: valid('limits.handshakeTimeoutMs')
  }, { requiredKeys: ['maxConnections'] }),
  gossip: fc.record({ meshDegree: valid('gossip.meshDegree'), lazyPeers: valid('gossip.lazyPeers') }, { requiredKeys: [] }),
  data: fc.record({
    replicas: valid('data.replicas'),
    repairIntervalMs: valid('data.repairIntervalMs'),
    chunkSize: valid('data.chunkSize'),
    provideRatePerSecond: valid('data.provideRatePerSecond'),
    gcIntervalMs: valid('data.gcIntervalMs'),
    gcGraceMs: valid('data.gcGraceMs')
  }, { requiredKeys: [] }),
  jobs: fc.record({ syncIntervalMs: valid('jobs.syncIntervalMs'), keepMs: valid('jobs.keepMs') }, { requiredKeys: [] }),
  scheduler: fc.record({
    slots: fc.integer({ min: 0, max: 8 }),
    stealRankStepMs: valid('scheduler.stealRankStepMs'),
    labels: fc.array(fc.string({ minLength: 1, maxLength: MAX_CONFIG_LABEL_LENGTH }), { maxLength: 4 }),
    gpu: fc.boolean()
  }, { requiredKeys: [] })
}).chain(s => fc.integer({ min: 0, max: (s.limits as { maxConnections: number }).maxConnections })
  .map(targetPeers => ({ ...s, discovery: { mdns: false, targetPeers } })))

/** A bad value somewhere in config.json, and the field the message must name. */
export interface BadField { field: string, value: unknown, unknownKey?: boolean }

const unknownKey: fc.Arbitrary<BadField> = fc.tuple(
  fc.constantFrom(...Object.keys(SECTIONS)),
  fc.stringMatching(/^[a-z][a-zA-Z0-9]{0,11}$/)
).filter(([section, key]) => !SECTIONS[section].includes(key))
  .map(([section, key]) => ({ field: section === '' ? key : `${section}.${key}`, value: 1, unknownKey: true }))

const badOther: fc.Arbitrary<BadField> = fc.oneof(
  fc.record({ field: fc.constant('version'), value: fc.oneof(fc.integer({ min: 2, max: 9 }), wrongType) }),
  fc.record({ field: fc.constant('tuning'), value: fc.oneof(fc.string({ maxLength: 8 }).filter(s => s !== 'default' && s !== 'crowded'), fc.integer()) }),
  fc.record({ field: fc.constantFrom('discovery.mdns', 'scheduler.gpu'), value: fc.oneof(fc.integer(), fc.string({ maxLength: 4 }), fc.constant(null)) }),
  fc.record({
    field: fc.constant('scheduler.labels'),
    value: fc.oneof(
      fc.constant(['']), fc.constant(['x'.repeat(MAX_CONFIG_LABEL_LENGTH + 1)]),
      fc.constant(Array.from({ length: MAX_CONFIG_LABELS + 1 }, (_, i) => `l${i}`)), fc.integer(), fc.constant([7]))
  }),
  fc.record({
    field: fc.constant('addresses.listen'),
    value: fc.oneof(
      fc.constant(['/ip4/127.0.0.1/udp/0']), fc.constant(['127.0.0.1:4010']), fc.constant(['/ip4/127.0.0.1/tcp/70000']),
      fc.constant(Array.from({ length: MAX_CONFIG_LISTEN_ADDRESSES + 1 }, () => '/ip4/127.0.0.1/tcp/0')),
      fc.string({ maxLength: 12 }).map(s => [s]), wrongType)
  }),
  fc.record({
    field: fc.constant('addresses.api'),
    value: fc.oneof(fc.constant('0.0.0.0:5001'), fc.constant('127.0.0.1:70000'), fc.constant('127.0.0.1'), fc.constant('192.0.2.1:5001'), fc.integer())
  }),
  fc.record({
    field: fc.constant('bootstrap'),
    value: fc.oneof(
      fc.constant(['/ip4/127.0.0.1/tcp/4001']), fc.constant(['/ip4/127.0.0.1/tcp/4001/p2p/QmNotAPeer']),
      fc.constant(['/ip4/127.0.0.1/tcp/4001/p2p/xyz']), fc.constant([`/ip4/127.0.0.1/udp/4001/p2p/${SOME_PEER_ID}`]),
      fc.constant(Array.from({ length: MAX_CONFIG_BOOTSTRAP_ADDRESSES + 1 }, () => `/ip4/127.0.0.1/tcp/4001/p2p/${SOME_PEER_ID}`)),
      fc.string({ maxLength: 12 }).map(s => [s]), wrongType)
  }),
  fc.record({ field: fc.constantFrom('addresses', 'discovery', 'limits', 'gossip', 'data', 'jobs', 'scheduler'), value: fc.oneof(fc.integer(), fc.constant(null), fc.string({ maxLength: 4 }), fc.constant([])) })
)

/** One bad value: a number out of its bounds or of the wrong type, a bad address, list or enum, or an unknown key. */
export const badField: fc.Arbitrary<BadField> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NUMERIC_FIELDS).chain(f => badNumber(f).map(value => ({ field: f.path, value }))) },
  { weight: 2, arbitrary: badOther },
  { weight: 1, arbitrary: unknownKey }
)
