/**
 * sim/host-protocol: the small typed messages between the coordinator and
 * the processes hosting peers (over Node's IPC channel, or direct calls when
 * the peers live in the coordinator's own process), and their validation.
 *
 * Owns the command set and its schemas: every message crossing the process
 * boundary is parsed here, once, on the side that receives it. Never does
 * anything itself.
 */
import { z } from 'zod'
import { InvalidHostMessageError } from './errors.ts'
import { WORKLOADS } from './options.ts'
import { DeviceConfigSchema } from './tuning.ts'

const index = z.number().int().min(0)
const count = z.number().int().min(0)
const ms = z.number().min(0)
const cid = z.string().min(1).max(200)
const multiaddrText = z.string().min(1).max(1000)
const bytes = z.custom<Uint8Array>(v => v instanceof Uint8Array, { message: 'expected bytes' })

export const PeerStartSchema = z.object({
  index,
  /** The device's repo; none: an in-memory peer (nothing on disk, as the job benchmark runs). */
  repo: z.string().min(1).max(4096).optional(),
  /** Create the repo first (a new device); otherwise restart from it. */
  init: z.boolean(),
  bootstrap: z.array(multiaddrText).max(64)
})
export type PeerStart = z.infer<typeof PeerStartSchema>

export const PeerInfoSchema = z.object({ index, peerId: z.string().min(1).max(200), addrs: z.array(multiaddrText) })
export type PeerInfo = z.infer<typeof PeerInfoSchema>

export const JobSpecWireSchema = z.object({
  fn: z.string().min(1).max(64),
  wasm: cid.optional(),
  inputs: z.array(cid).min(1).max(10_000),
  params: z.record(z.string().max(256), z.string().max(4096)),
  redundancy: z.number().int().min(1),
  leaseMs: z.number().int().min(1)
})

/** A training as `node.jobs.train` takes it, with the fields the simulation and the benchmarks set. */
export const TrainSpecWireSchema = z.object({
  kind: z.string().min(1).max(64),
  inputs: z.array(cid).min(1).max(10_000),
  label: z.string().max(256),
  features: z.array(z.string().max(256)).max(4096).optional(),
  rounds: z.number().int().min(1).optional(),
  lr: z.number().optional(),
  redundancy: z.number().int().min(1).optional(),
  leaseMs: z.number().int().min(1).optional(),
  shardsPerTask: z.number().int().min(1).optional()
})

export const JobProgressSchema = z.object({
  status: z.enum(['queued', 'running', 'done', 'failed', 'canceled']),
  total: count,
  done: count,
  running: count,
  open: count,
  retried: count,
  failedTasks: count,
  reason: z.string().optional()
})
export type JobProgress = z.infer<typeof JobProgressSchema>

export const PeerMetricsSchema = z.object({
  index,
  live: z.boolean(),
  /** Incarnations of this device in this host (restarts and returns add one). */
  starts: count,
  connections: count,
  routingTable: count,
  bytesSent: count,
  bytesReceived: count,
  bytesStored: count,
  shards: count,
  claimed: count,
  executed: count,
  failed: count,
  duplicates: count,
  /** This device's latest failed attempts (up to 50 per incarnation), counted by kind (see failureKind), with the first reason of each kind in full. */
  failureKinds: z.record(z.string(), z.object({ count, example: z.string() })),
  /**
   * The status gossip of its running incarnation, from gossipsub's per-topic
   * counters: status message copies received (duplicates included) and sent
   * (published and forwarded, per peer), the size of its last status, and
   * the seconds they were counted over.
   */
  status: z.object({ copiesIn: count, copiesOut: count, messageBytes: count, seconds: ms }).optional()
})
export type PeerMetrics = z.infer<typeof PeerMetricsSchema>

/** Every command: its arguments and its result. */
export const HostCommandSchemas = {
  /** The config.json sections of every device the host starts (see tuning.ts), the same on every host of a run. */
  configure: {
    args: z.object({
      config: DeviceConfigSchema,
      /** Metrics and the status gossip on (every device, as a daemon runs); off only to measure what they cost. @default true */
      observe: z.boolean().optional()
    }),
    result: z.object({})
  },
  startPeers: { args: z.object({ peers: z.array(PeerStartSchema).min(1).max(1000) }), result: z.object({ peers: z.array(PeerInfoSchema) }) },
  stopPeer: { args: z.object({ index }), result: z.object({}) },
  readiness: {
    args: z.object({ topics: z.array(z.string().max(200)).max(8) }),
    result: z.object({
      peers: z.array(z.object({
        index,
        connections: count,
        subscribers: count,
        /** Connections this incarnation of the device opened, and saw closed. */
        opened: count,
        closed: count,
        /** Median lifetime of its closed connections (0: none closed). */
        closedLifetimeP50Ms: count
      }))
    })
  },
  loadData: {
    args: z.object({
      index, workload: z.enum(WORKLOADS), seed: z.string().max(200), rows: count, chunkSize: z.number().int().min(1), replicas: z.number().int().min(1),
      /** Put the device's held-out readings (a training's evaluation) instead of its readings. */
      heldOut: z.boolean().optional()
    }),
    result: z.object({ cid, bytes: count })
  },
  putBytes: { args: z.object({ index, bytes, replicas: z.number().int().min(1), chunkSize: z.number().int().min(1).optional() }), result: z.object({ cid }) },
  /** Waits for every hosted peer's provider announcements, up to `timeoutMs`; `settled` false when the limit passed first. */
  whenProvided: { args: z.object({ timeoutMs: ms }), result: z.object({ ms, settled: z.boolean() }) },
  submitJob: { args: z.object({ index, spec: JobSpecWireSchema, timeoutMs: ms }), result: z.object({ jobId: cid }) },
  /** Submits a training as a user does (`node.jobs.train`: its tasks grouped as that groups them). */
  trainJob: { args: z.object({ index, spec: TrainSpecWireSchema, timeoutMs: ms }), result: z.object({ jobId: cid, tasks: count }) },
  jobStatus: { args: z.object({ index, jobId: cid }), result: z.object({ progress: JobProgressSchema.nullable() }) },
  jobResult: {
    /** `text`: also the result as text, when it is at most RESULT_TEXT_MAX_BYTES (a training's JSON, whose model a later job takes). */
    args: z.object({ index, jobId: cid, timeoutMs: ms, text: z.boolean().optional() }),
    result: z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/), size: count, preview: z.string(), text: z.string().optional() })
  },
  /** An iterative job's accepted passes as a peer's facts time them, and the runs of its tasks on this host's peers (see pass-timeline.ts). */
  jobTimeline: {
    /** `facts`: also every fact of the job this peer holds, as [kind, stamp, bytes] (see FactRecord). */
    args: z.object({ index, jobId: cid, facts: z.boolean().optional() }),
    result: z.object({
      tasks: count,
      passes: z.array(z.object({ pass: count, at: ms, firstClaimAt: ms, lastResultAt: ms, loss: z.number().optional(), failure: z.string().optional() })),
      runs: z.array(z.tuple([count, ms, ms])),
      facts: z.array(z.tuple([z.string().max(32), ms, count])).optional()
    })
  },
  dhtProvide: { args: z.object({ index, cid, timeoutMs: ms }), result: z.object({ ms }) },
  dhtFind: { args: z.object({ index, cid, timeoutMs: ms }), result: z.object({ ms: ms.nullable(), local: z.boolean() }) },
  gossipPublish: { args: z.object({ index, probe: count }), result: z.object({ at: ms }) },
  gossipReceipts: { args: z.object({ probes: z.array(count).max(10_000) }), result: z.object({ receipts: z.array(z.tuple([count, index, ms])) }) },
  snapshot: {
    args: z.object({}),
    result: z.object({
      pid: z.number().int(),
      /** CPU time the host process has used (all its threads, user and system), ms. */
      cpuMs: ms.optional(),
      rssBytes: count,
      peakRssBytes: count,
      baselineRssBytes: count,
      peakLivePeers: count,
      eventLoopDelayP50Ms: ms,
      eventLoopDelayP99Ms: ms,
      /** Bytes the live peers' connections sent (all protocols, duplicates and control included), when they have metrics. */
      wireSentBytes: count.optional(),
      peers: z.array(PeerMetricsSchema)
    })
  },
  /** Serves device `index`'s dashboard, metrics and health read-only on 127.0.0.1 (any port): the address. */
  serveDashboard: { args: z.object({ index }), result: z.object({ address: z.string().regex(/^127\.0\.0\.1:\d+$/) }) },
  shutdown: { args: z.object({}), result: z.object({}) }
} as const

type Schemas = typeof HostCommandSchemas
export type HostOp = keyof Schemas
export type HostArgs<K extends HostOp> = z.infer<Schemas[K]['args']>
export type HostResult<K extends HostOp> = z.infer<Schemas[K]['result']>
export type HostSnapshot = HostResult<'snapshot'>

/** Where peers live, seen from the coordinator: in this process or in a child. */
export interface PeerHost {
  /** Which host this is (0-based), for messages. */
  readonly id: number
  call<K extends HostOp>(op: K, args: HostArgs<K>): Promise<HostResult<K>>
  /** Stops every peer it hosts and, for a child, ends the process. Safe to call twice. */
  close(): Promise<void>
}

// ------------------------------------------------------------------ envelopes

export interface HostRequest { kind: 'request', id: number, op: HostOp, args: unknown }
export type HostResponse =
  | { kind: 'response', id: number, ok: true, result: unknown }
  | { kind: 'response', id: number, ok: false, error: { name: string, message: string } }
/** Sent by a child once it listens for requests. */
export interface HostReady { kind: 'ready', pid: number }
export type HostToCoordinator = HostResponse | HostReady

const RequestSchema = z.object({
  kind: z.literal('request'),
  id: count,
  op: z.enum(Object.keys(HostCommandSchemas) as [HostOp, ...HostOp[]]),
  args: z.unknown()
})

const FromHostSchema = z.union([
  z.object({ kind: z.literal('ready'), pid: z.number().int() }),
  z.object({ kind: z.literal('response'), id: z.number().int(), ok: z.literal(true), result: z.unknown() }),
  z.object({ kind: z.literal('response'), id: z.number().int(), ok: z.literal(false), error: z.object({ name: z.string().max(200), message: z.string().max(100_000) }) })
])

function describe (error: z.ZodError): string {
  const issue = error.issues[0]
  return `${issue.path.join('.') || 'message'}: ${issue.message}`
}

/** Parses a request arriving at a host: envelope, then the command's arguments. */
export function parseRequest (raw: unknown): { id: number, op: HostOp, args: unknown } {
  const envelope = RequestSchema.safeParse(raw)
  if (!envelope.success) throw new InvalidHostMessageError(`bad request: ${describe(envelope.error)}`)
  const args = HostCommandSchemas[envelope.data.op].args.safeParse(envelope.data.args)
  if (!args.success) throw new InvalidHostMessageError(`bad ${envelope.data.op} arguments: ${describe(args.error)}`)
  return { id: envelope.data.id, op: envelope.data.op, args: args.data }
}

/** Parses a message arriving at the coordinator from a child host. */
export function parseFromHost (raw: unknown): HostToCoordinator {
  const r = FromHostSchema.safeParse(raw)
  if (!r.success) throw new InvalidHostMessageError(`bad message from host: ${describe(r.error)}`)
  return r.data
}

/** Validates a command's result (from a child) against its schema. */
export function parseResult<K extends HostOp> (op: K, raw: unknown): HostResult<K> {
  const r = HostCommandSchemas[op].result.safeParse(raw)
  if (!r.success) throw new InvalidHostMessageError(`bad ${op} result: ${describe(r.error)}`)
  return r.data as HostResult<K>
}
