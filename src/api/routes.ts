/**
 * api/routes: the commands the daemon serves, each a thin adapter from HTTP
 * arguments to the EdgeNode API. Owns argument validation for the RPC
 * surface; never holds state of its own.
 */
import type { ServerResponse } from 'node:http'
import { z } from 'zod'
import type { EdgeNode } from '../edge-node.ts'
import { InvalidArgumentError } from './errors.ts'
import { ApiServer, readJsonBody, type ApiRequest } from './server.ts'
import { addPages } from './pages.ts'
import { swarmView } from './views.ts'

/** The `id --json` shape: addresses carry the /p2p/ suffix, ready to bootstrap from. */
export interface IdResponse {
  id: string
  addresses: string[]
}

function idOf (node: EdgeNode): IdResponse {
  const id = node.peerId.toString()
  return {
    id,
    addresses: node.multiaddrs.map(ma => {
      const s = ma.toString()
      return s.includes('/p2p/') ? s : `${s}/p2p/${id}`
    })
  }
}

function arg (req: ApiRequest, name = 'arg'): string {
  const v = req.args.get(name)
  if (v == null || v === '') throw new InvalidArgumentError(`missing argument "${name}"`)
  return v
}

function optionalString (req: ApiRequest, name: string): string | undefined {
  const v = req.args.get(name)
  return v == null || v === '' ? undefined : v
}

function flag (req: ApiRequest, name: string): boolean {
  const v = req.args.get(name)
  if (v == null || v === '' || v === 'false') return false
  if (v === 'true') return true
  throw new InvalidArgumentError(`"${name}" must be true or false, got "${v}"`)
}

function optionalInt (req: ApiRequest, name: string): number | undefined {
  const v = req.args.get(name)
  if (v == null || v === '') return undefined
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`"${name}" must be a whole number, got "${v}"`)
  return Number(v)
}

/** Starts a newline-delimited JSON event stream. */
function ndjson (res: ServerResponse): (ev: unknown) => void {
  res.writeHead(200, { 'content-type': 'application/x-ndjson' })
  return (ev) => { res.write(JSON.stringify(ev) + '\n') }
}

/** Streams bytes; errors before the first chunk still become a JSON error answer. */
async function sendBytes (res: ServerResponse, source: AsyncIterable<Uint8Array>): Promise<void> {
  const it = source[Symbol.asyncIterator]()
  const first = await it.next()
  res.writeHead(200, { 'content-type': 'application/octet-stream' })
  if (first.done !== true) {
    res.write(first.value)
    for (let r = await it.next(); r.done !== true; r = await it.next()) {
      if (!res.write(r.value)) await new Promise(resolve => res.once('drain', resolve))
    }
  }
  res.end()
}

const TrainBody = z.object({
  kind: z.string(),
  inputs: z.array(z.string()),
  label: z.string(),
  features: z.array(z.string()).optional(),
  rounds: z.number().optional(),
  lr: z.number().optional(),
  l2: z.number().optional(),
  standardize: z.boolean().optional(),
  localSteps: z.number().optional(),
  batchSize: z.number().optional(),
  aggregate: z.string().optional(),
  trim: z.number().optional(),
  redundancy: z.number().optional(),
  leaseMs: z.number().optional(),
  maxAttempts: z.number().optional(),
  priority: z.enum(['realtime', 'batch']).optional(),
  requirements: z.object({ minMemoryMB: z.number().optional(), gpu: z.boolean().optional(), labels: z.array(z.string()).optional() }).optional(),
  deadlineMs: z.number().optional(),
  shardsPerTask: z.number().optional()
}).strict()

const SubmitBody = z.object({
  fn: z.string(),
  wasm: z.string().optional(),
  inputs: z.array(z.string()),
  params: z.record(z.string(), z.string()).optional(),
  redundancy: z.number().optional(),
  requirements: z.object({ minMemoryMB: z.number().optional(), gpu: z.boolean().optional(), labels: z.array(z.string()).optional() }).optional(),
  priority: z.enum(['realtime', 'batch']).optional(),
  maxAttempts: z.number().optional(),
  leaseMs: z.number().optional(),
  deadlineMs: z.number().optional(),
  shardsPerTask: z.number().optional()
})

/** An API server with every command and read-only page of `node` routed. */
export function createApiServer (node: EdgeNode): ApiServer {
  const api = new ApiServer()
  addPages(api, node)
  api.route('id', async () => idOf(node))
  api.route('peers', async () => node.peers())
  api.route('status', async () => await node.status())
  api.route('swarm', async () => swarmView(node).peers)

  // data
  api.route('put', async (req, res) => {
    const replicas = optionalInt(req, 'replicas')
    const chunkSize = optionalInt(req, 'chunk-size')
    const name = optionalString(req, 'name')
    const listed = req.args.has('listed') ? flag(req, 'listed') : undefined
    const send = ndjson(res)
    const cid = await node.data.put(req.raw as AsyncIterable<Uint8Array>, {
      replicas,
      chunkSize,
      name,
      listed,
      signal: req.signal,
      onProgress: (ev) => { send(ev.type === 'done' ? { ...ev, type: 'placed' } : { type: 'progress', shardsDone: ev.shardsDone, bytesDone: ev.bytesDone }) }
    })
    send({ type: 'done', cid: cid.toString() })
    res.end()
  })
  api.route('get', async (req, res) => {
    await sendBytes(res, node.data.get(arg(req), { signal: req.signal }))
  })
  api.route('stat', async (req, res) => {
    const cid = arg(req)
    if (!flag(req, 'progress')) return await node.data.stat(cid, { signal: req.signal })
    // progress as newline-delimited events, the stat last; started once the root is read, so a bad CID is still a plain error
    let send: ((ev: unknown) => void) | undefined
    const stat = await node.data.stat(cid, {
      signal: req.signal,
      onProgress: (p) => { send ??= ndjson(res); send({ type: 'progress', ...p }) }
    })
    send ??= ndjson(res)
    send({ type: 'done', stat })
    res.end()
  })
  api.route('ls', async (req) => flag(req, 'all') ? await node.data.lsAll() : await node.data.ls())
  api.route('rm', async (req) => await node.data.rm(arg(req)))
  api.route('gc', async (req) => await node.gc({ signal: req.signal }))

  // functions and jobs
  api.route('fn/ls', async () => node.functions.list())
  api.route('submit', async (req) => {
    const parsed = SubmitBody.safeParse(await readJsonBody(req.raw))
    if (!parsed.success) throw new InvalidArgumentError(`bad job: ${parsed.error.issues[0].path.join('.')}: ${parsed.error.issues[0].message}`)
    const job = await node.jobs.submit(parsed.data, { signal: req.signal })
    return { id: job.id, state: job.status().status }
  })
  api.route('job/status', async (req) => (await node.jobs.get(arg(req), { signal: req.signal })).status())
  api.route('job/watch', async (req, res) => {
    const job = await node.jobs.get(arg(req), { signal: req.signal })
    const send = ndjson(res)
    for await (const view of job.events({ signal: req.signal })) send({ type: 'progress', ...view })
    res.end()
  })
  api.route('job/result', async (req, res) => {
    const job = await node.jobs.get(arg(req), { signal: req.signal })
    const bytes = await job.result({ signal: req.signal })
    await sendBytes(res, (async function * () { yield bytes })())
  })
  api.route('job/ls', async () => node.jobs.list())
  api.route('job/cancel', async (req) => await node.jobs.cancel(arg(req), { signal: req.signal }))

  // training
  api.route('train', async (req) => {
    const parsed = TrainBody.safeParse(await readJsonBody(req.raw))
    if (!parsed.success) throw new InvalidArgumentError(`bad training: ${parsed.error.issues[0].path.join('.')}: ${parsed.error.issues[0].message}`)
    const job = await node.jobs.train(parsed.data, { signal: req.signal })
    return { id: job.id, state: job.status().status }
  })
  api.route('model/show', async (req) => await node.jobs.model(arg(req), { signal: req.signal }))
  return api
}

/** The read-only server of `daemon --metrics-listen`: the pages only (dashboard, metrics, health), never a command. */
export function createReadOnlyServer (node: EdgeNode): ApiServer {
  const api = new ApiServer({ commands: false })
  addPages(api, node)
  return api
}
