/**
 * jobs/spec: the job model: what a user submits (`JobSpec`), the
 * content-addressed job document every peer works from (`JobDocument`, its
 * CID is the job id), and partitioning (a task reads one input shard, or
 * `shardsPerTask` consecutive shards of one input). An
 * iterative job's document also holds its number of passes: it runs every
 * task once per pass (see passes.ts for how a task of a pass is numbered).
 *
 * Owns validation of job specs and documents. Pure: never does I/O.
 */
import { z } from 'zod'
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import {
  DEFAULT_LEASE_MS, DEFAULT_MAX_ATTEMPTS, MAX_ATTEMPTS_LIMIT, MAX_DEADLINE_MS, MAX_INPUTS_PER_JOB, MAX_JOB_DOCUMENT_BYTES,
  MAX_LEASE_MS, MAX_PASSES_PER_JOB, MAX_REDUNDANCY, MAX_SHARDS_PER_TASK, MAX_SHARDS_PER_JOB, MIN_DEADLINE_MS, MIN_LEASE_MS
} from './constants.ts'
import { InvalidJobError } from './errors.ts'

export type Priority = 'realtime' | 'batch'

export interface Requirements {
  /** Free memory a peer needs, in MB. */
  minMemoryMB?: number
  /** Only peers with a GPU. */
  gpu?: boolean
  /** Only peers with all these labels. */
  labels?: string[]
}

/** What a user submits. */
export interface JobSpec {
  /** A built-in or registered function name; with `wasm`, the program name passed as argv[0]. */
  fn: string
  /** CID of a WebAssembly module in the swarm: run it (sandboxed) instead of a named function. */
  wasm?: string
  /** Root CIDs of the input files. */
  inputs: string[]
  params?: Record<string, string>
  /** Distinct peers that run each task; a result is accepted by majority. @default 1 */
  redundancy?: number
  requirements?: Requirements
  /** `realtime` jobs are pulled before `batch` jobs. @default 'batch' */
  priority?: Priority
  /** Failures a task may have before the job fails. @default DEFAULT_MAX_ATTEMPTS */
  maxAttempts?: number
  /** Claim lease in ms. @default DEFAULT_LEASE_MS */
  leaseMs?: number
  /**
   * How long (ms, MIN_DEADLINE_MS..MAX_DEADLINE_MS) the job may take from its submit: past
   * it, a job not done fails (see ending.ts). @default none
   */
  deadlineMs?: number
  /**
   * Consecutive shards of an input one task reads (1..MAX_SHARDS_PER_TASK): fewer, larger tasks,
   * so fewer results to gossip, for functions whose result over the shards' concatenation is
   * what the job wants (the last task of an input may read fewer). @default 1
   */
  shardsPerTask?: number
}

/** One input shard of a job: shard `s` of input `i`, whose bytes hash to `cid`. */
export interface TaskRef {
  i: number
  s: number
  cid: string
}

/** The content-addressed document every peer schedules from. */
export interface JobDocument {
  type: 'edgeswarm/job'
  version: 1
  fn: string
  wasm: string | null
  inputs: string[]
  /** Shards per input, for record alignment across shard boundaries. */
  inputShards: number[]
  /**
   * Per input, one character per shard: '1' when the shard ends with '\n' (so
   * the next one starts a line), '0' when not; null when the input's manifest
   * does not say (then an executor reads the neighbouring shards to find its
   * records' bounds). May be absent: a document without it is valid.
   */
  lineEnds?: Array<string | null>
  params: Record<string, string>
  redundancy: number
  requirements: { minMemoryMB: number, gpu: boolean, labels: string[] }
  priority: Priority
  maxAttempts: number
  leaseMs: number
  submitter: string
  createdAt: number
  /**
   * Every input shard, in input then shard order. A task reads `shardsPerTask` consecutive
   * ones of one input (see taskShards); with one shard a task, entry k is task k.
   */
  tasks: TaskRef[]
  /** Shards a task reads, at least 2; absent: 1 (see JobSpec.shardsPerTask). */
  shardsPerTask?: number
  /**
   * Of an iterative job (a function with `passes`): how many passes it runs, each over every
   * task, at least 1. Absent for a job of one map and one reduce.
   */
  passes?: number
  /** When the job fails unless done (ms since the epoch, the submitter's clock: `createdAt + deadlineMs`); absent: never. */
  deadline?: number
}

const cidString = z.string().min(1).max(200).refine(s => {
  try { CID.parse(s); return true } catch { return false }
}, { message: 'not a valid CID' })

const nameRe = /^[a-z0-9][a-z0-9._-]{0,63}$/

export const JobSpecSchema = z.object({
  fn: z.string().regex(nameRe, 'function names are 1-64 of a-z 0-9 . _ - '),
  wasm: cidString.optional(),
  inputs: z.array(cidString).min(1, 'a job needs at least one input CID').max(MAX_INPUTS_PER_JOB),
  params: z.record(z.string().max(256), z.string().max(4096)).default({}),
  redundancy: z.number().int().min(1).max(MAX_REDUNDANCY).default(1),
  requirements: z.object({
    minMemoryMB: z.number().min(0).max(1e7).default(0),
    gpu: z.boolean().default(false),
    labels: z.array(z.string().max(64)).max(32).default([])
  }).prefault({}),
  priority: z.enum(['realtime', 'batch']).default('batch'),
  maxAttempts: z.number().int().min(1).max(MAX_ATTEMPTS_LIMIT).default(DEFAULT_MAX_ATTEMPTS),
  leaseMs: z.number().int().min(MIN_LEASE_MS).max(MAX_LEASE_MS).default(DEFAULT_LEASE_MS),
  deadlineMs: z.number().int().min(MIN_DEADLINE_MS, `a deadline is at least ${MIN_DEADLINE_MS} ms`).max(MAX_DEADLINE_MS, `a deadline is at most ${MAX_DEADLINE_MS} ms`).optional(),
  shardsPerTask: z.number().int().min(1, 'a task reads at least 1 shard').max(MAX_SHARDS_PER_TASK, `a task reads at most ${MAX_SHARDS_PER_TASK} shards`).optional()
}).strict()

export type ValidSpec = z.infer<typeof JobSpecSchema>

const JobDocumentSchema = z.object({
  type: z.literal('edgeswarm/job'),
  version: z.literal(1),
  fn: z.string().regex(nameRe),
  wasm: cidString.nullable(),
  inputs: z.array(cidString).min(1).max(MAX_INPUTS_PER_JOB),
  inputShards: z.array(z.number().int().min(0)),
  lineEnds: z.array(z.string().regex(/^[01]*$/).nullable()).optional(),
  params: z.record(z.string(), z.string()),
  redundancy: z.number().int().min(1).max(MAX_REDUNDANCY),
  requirements: z.object({ minMemoryMB: z.number().min(0), gpu: z.boolean(), labels: z.array(z.string()) }),
  priority: z.enum(['realtime', 'batch']),
  maxAttempts: z.number().int().min(1).max(MAX_ATTEMPTS_LIMIT),
  leaseMs: z.number().int().min(MIN_LEASE_MS).max(MAX_LEASE_MS),
  submitter: z.string().max(100),
  createdAt: z.number(),
  // checked by `checkTasks`, by hand: zod's refinement parsed each of thousands of CIDs in
  // a closure per task, and every peer decodes every document
  tasks: z.array(z.unknown()).max(MAX_SHARDS_PER_JOB),
  passes: z.number().int().min(1).max(MAX_PASSES_PER_JOB).optional(),
  // 1 is never written, so a document of one shard a task is the same bytes (and id) as without the field
  shardsPerTask: z.number().int().min(2).max(MAX_SHARDS_PER_TASK).optional(),
  deadline: z.number().int().min(0).optional()
}).strict()

/** The parsed CIDs of a decoded (or built) document's shard entries, by document. */
const shardCids = new WeakMap<JobDocument, CID[]>()

/**
 * The CID of entry `entry` of `doc`'s shards (its `tasks`), parsed once per document (the
 * scheduler and the executor ask for every one, on every peer).
 */
export function shardCid (doc: JobDocument, entry: number): CID {
  let cids = shardCids.get(doc)
  if (cids == null) {
    cids = doc.tasks.map(t => CID.parse(t.cid))
    shardCids.set(doc, cids)
  }
  const cid = cids[entry]
  if (cid === undefined) throw new RangeError(`shard ${entry} is not in the job (${doc.tasks.length} shards)`)
  return cid
}

/** A task's shards: entries `first` .. `first + count - 1` of the document's `tasks`, of one input. */
export interface TaskShards {
  first: number
  count: number
}

/** The first shard entry of each task, and one more entry past the last, by document. */
const taskStarts = new WeakMap<JobDocument, Uint32Array>()

/**
 * Where each task of `doc` starts: per input, a task every `shardsPerTask` shards (the last
 * one of an input may read fewer), never across two inputs; one more entry marks the end.
 */
function startsOf (doc: JobDocument): Uint32Array {
  let starts = taskStarts.get(doc)
  if (starts != null) return starts
  const group = doc.shardsPerTask ?? 1
  const list: number[] = []
  let entry = 0
  for (const shards of doc.inputShards) {
    for (let s = 0; s < shards; s += group) list.push(entry + s)
    entry += shards
  }
  list.push(entry)
  starts = Uint32Array.from(list)
  taskStarts.set(doc, starts)
  return starts
}

/** Tasks in one pass of `doc`: one per shard, or per `shardsPerTask` shards of an input. */
export function taskCount (doc: JobDocument): number {
  return startsOf(doc).length - 1
}

/** The shards task `task` (of one pass) of `doc` reads. */
export function taskShards (doc: JobDocument, task: number): TaskShards {
  const starts = startsOf(doc)
  if (!Number.isInteger(task) || task < 0 || task >= starts.length - 1) throw new RangeError(`task ${task} is not in the job (${starts.length - 1} tasks)`)
  return { first: starts[task], count: starts[task + 1] - starts[task] }
}

/** The tasks of a document from the network: each `{i, s, cid}` exactly; their CIDs parsed, or the path and reason. */
function checkTasks (tasks: unknown[]): { tasks: TaskRef[], cids: CID[] } | { error: string } {
  const out: TaskRef[] = new Array(tasks.length)
  const cids: CID[] = new Array(tasks.length)
  const count = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0
  for (let k = 0; k < tasks.length; k++) {
    const t = tasks[k] as Record<string, unknown> | null
    if (typeof t !== 'object' || t === null || Array.isArray(t)) return { error: `tasks.${k}: not an object` }
    const keys = Object.keys(t)
    if (keys.length !== 3 || !('i' in t) || !('s' in t) || !('cid' in t)) return { error: `tasks.${k}: must have exactly i, s and cid` }
    if (!count(t.i)) return { error: `tasks.${k}.i: not a whole number >= 0` }
    if (!count(t.s)) return { error: `tasks.${k}.s: not a whole number >= 0` }
    if (typeof t.cid !== 'string' || t.cid.length === 0 || t.cid.length > 200) return { error: `tasks.${k}.cid: not a valid CID` }
    try { cids[k] = CID.parse(t.cid) } catch { return { error: `tasks.${k}.cid: not a valid CID` } }
    out[k] = { i: t.i, s: t.s, cid: t.cid }
  }
  return { tasks: out, cids }
}

function firstIssue (error: z.ZodError): string {
  const issue = error.issues[0]
  return `${issue.path.join('.') || 'job'}: ${issue.message}`
}

/** Validates a user's spec, filling defaults; throws InvalidJobError naming the bad field. */
export function validateSpec (spec: unknown): ValidSpec {
  const r = JobSpecSchema.safeParse(spec)
  if (!r.success) throw new InvalidJobError(`invalid job: ${firstIssue(r.error)}`)
  return r.data
}

/** What partitioning needs to know of each input: its shards in order, and whether each ends with '\n' when known. */
export interface InputLayout {
  shards: Array<{ cid: { toString: () => string }, nl?: boolean }>
}

/** An input's `lineEnds` entry: '1'/'0' per shard, or null unless every shard's `nl` is known. */
function lineEndsOf (layout: InputLayout): string | null {
  let out = ''
  for (const shard of layout.shards) {
    if (shard.nl === undefined) return null
    out += shard.nl ? '1' : '0'
  }
  return out
}

/**
 * Whether a line starts at shard `s` of input `i`: the file's first shard
 * always; another when the shard before it ends with '\n'. Undefined when
 * the document does not say (the executor then reads the shard before).
 */
export function shardStartsLine (doc: JobDocument, i: number, s: number): boolean | undefined {
  if (s === 0) return true
  const ends = doc.lineEnds?.[i]
  return ends == null ? undefined : ends[s - 1] === '1'
}

/** Whether shard `s` of input `i` ends with '\n' (no later shard is needed to finish its lines); undefined when unknown. */
export function shardEndsLine (doc: JobDocument, i: number, s: number): boolean | undefined {
  const ends = doc.lineEnds?.[i]
  return ends == null ? undefined : ends[s] === '1'
}

/** Every shard of each input, in input order then shard order: the document's `tasks`. */
export function partition (layouts: InputLayout[]): TaskRef[] {
  const tasks: TaskRef[] = []
  layouts.forEach((layout, i) => {
    layout.shards.forEach((shard, s) => { tasks.push({ i, s, cid: shard.cid.toString() }) })
  })
  if (tasks.length > MAX_SHARDS_PER_JOB) {
    throw new InvalidJobError(`job would have ${tasks.length} input shards; at most ${MAX_SHARDS_PER_JOB} (use a larger chunk size for the inputs)`)
  }
  return tasks
}

/**
 * The document of `spec` over inputs laid out as `layouts`, submitted by `submitter`; `passes`
 * only for an iterative function (its `passes.count` of the params).
 */
export function buildDocument (spec: ValidSpec, layouts: InputLayout[], submitter: string, createdAt = Date.now(), passes?: number): JobDocument {
  if (passes != null && (!Number.isSafeInteger(passes) || passes < 1 || passes > MAX_PASSES_PER_JOB)) {
    throw new InvalidJobError(`a job runs 1 to ${MAX_PASSES_PER_JOB} passes, its function asks for ${String(passes)}`)
  }
  const doc: JobDocument = {
    type: 'edgeswarm/job',
    version: 1,
    fn: spec.fn,
    wasm: spec.wasm ?? null,
    inputs: spec.inputs,
    inputShards: layouts.map(l => l.shards.length),
    lineEnds: layouts.map(lineEndsOf),
    params: spec.params,
    redundancy: spec.redundancy,
    requirements: spec.requirements,
    priority: spec.priority,
    maxAttempts: spec.maxAttempts,
    leaseMs: spec.leaseMs,
    submitter,
    createdAt,
    tasks: partition(layouts)
  }
  if ((spec.shardsPerTask ?? 1) > 1) doc.shardsPerTask = spec.shardsPerTask
  if (passes != null) doc.passes = passes
  if (spec.deadlineMs != null) doc.deadline = createdAt + spec.deadlineMs
  return doc
}

export function encodeDocument (doc: JobDocument): Uint8Array {
  const bytes = dagCbor.encode(doc)
  if (bytes.length > MAX_JOB_DOCUMENT_BYTES) {
    throw new InvalidJobError(`job document is ${bytes.length} bytes; at most ${MAX_JOB_DOCUMENT_BYTES}`)
  }
  return bytes
}

/** The job id: the CIDv1 (dag-cbor, sha2-256) of the encoded document. */
export async function documentId (bytes: Uint8Array): Promise<CID> {
  return CID.createV1(dagCbor.code, await sha256.digest(bytes))
}

/**
 * Whether the tasks are exactly one per shard of each input, in input and
 * shard order (what `partition` makes). Executors rely on it: the shards of
 * input i are the CIDs of its consecutive tasks, so a task finds its
 * neighbouring shards and its file's first shard without reading the root.
 */
function tasksInPartitionOrder (doc: JobDocument): boolean {
  let k = 0
  for (let i = 0; i < doc.inputShards.length; i++) {
    for (let s = 0; s < doc.inputShards[i]; s++, k++) {
      const t = doc.tasks[k]
      if (t === undefined || t.i !== i || t.s !== s) return false
    }
  }
  return k === doc.tasks.length
}

/** Decodes and validates a document received from the network. */
export function decodeDocument (bytes: Uint8Array): JobDocument {
  if (bytes.length > MAX_JOB_DOCUMENT_BYTES) throw new InvalidJobError('job document too large')
  let raw: unknown
  try { raw = dagCbor.decode(bytes) } catch (err) { throw new InvalidJobError(`job document is not dag-cbor: ${(err as Error).message}`) }
  const r = JobDocumentSchema.safeParse(raw)
  if (!r.success) throw new InvalidJobError(`invalid job document: ${firstIssue(r.error)}`)
  const checked = checkTasks(r.data.tasks)
  if ('error' in checked) throw new InvalidJobError(`invalid job document: ${checked.error}`)
  const doc: JobDocument = { ...r.data, tasks: checked.tasks }
  shardCids.set(doc, checked.cids)
  if (doc.inputShards.length !== doc.inputs.length || !tasksInPartitionOrder(doc)) {
    throw new InvalidJobError('invalid job document: tasks do not match inputs')
  }
  if (doc.lineEnds !== undefined && (doc.lineEnds.length !== doc.inputs.length || doc.lineEnds.some((ends, i) => ends !== null && ends.length !== doc.inputShards[i]))) {
    throw new InvalidJobError('invalid job document: lineEnds do not match inputShards')
  }
  return doc
}
