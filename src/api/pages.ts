/**
 * api/pages: the read-only pages every daemon serves, on its API listener and
 * on the read-only listener: the dashboard (`GET /`, its script and style,
 * uPlot from the installed package), its data (`GET /view/v0/self`,
 * `swarm`, `data`, `jobs`, `job?id=`), one Server-Sent Events stream per
 * page (`GET /view/v0/events`), Prometheus metrics (`GET /metrics`, and
 * `GET /debug/metrics/prometheus` as Kubo names it) and health
 * (`GET /healthz`: 200, or 503 with the reasons).
 *
 * Never changes the node, never serves a file outside its fixed list, and
 * never asks the page to load anything from elsewhere (its
 * Content-Security-Policy allows this origin only).
 */
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import type { ServerResponse } from 'node:http'
import type { EdgeNode } from '../edge-node.ts'
import { ApiError, InvalidArgumentError } from './errors.ts'
import { DASHBOARD_SWARM_MS, DASHBOARD_TICK_MS, MAX_EVENT_STREAMS } from './constants.ts'
import { healthOf, jobView, jobsView, selfView, swarmView } from './views.ts'
import type { ApiServer } from './server.ts'

/** The dashboard's folder: `dashboard/` at the package's top, beside `src/` and `dist/`. */
const DASHBOARD_DIR = new URL('../../dashboard/', import.meta.url)

/** The files the dashboard is made of, by path: nothing else is served. */
function staticFiles (): Map<string, { file: URL | string, type: string }> {
  const uplot = createRequire(import.meta.url).resolve('uplot/dist/uPlot.iife.min.js')
  return new Map<string, { file: URL | string, type: string }>([
    ['/', { file: new URL('index.html', DASHBOARD_DIR), type: 'text/html; charset=utf-8' }],
    ['/dashboard/app.js', { file: new URL('app.js', DASHBOARD_DIR), type: 'text/javascript; charset=utf-8' }],
    ['/dashboard/style.css', { file: new URL('style.css', DASHBOARD_DIR), type: 'text/css; charset=utf-8' }],
    ['/vendor/uplot.js', { file: uplot, type: 'text/javascript; charset=utf-8' }],
    ['/vendor/uplot.css', { file: uplot.replace(/uPlot\.iife\.min\.js$/, 'uPlot.min.css'), type: 'text/css; charset=utf-8' }]
  ])
}

/** The page may load and connect to this origin only: nothing leaves the daemon. */
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

function sendJson (res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' })
  res.end(text)
}

/** Adds every read-only page of `node` to `api`. */
export function addPages (api: ApiServer, node: EdgeNode): void {
  const cache = new Map<string, Buffer>()
  for (const [path, { file, type }] of staticFiles()) {
    api.page(path, async (_req, res) => {
      let body = cache.get(path)
      if (body == null) {
        body = await readFile(file)
        cache.set(path, body)
      }
      res.writeHead(200, { 'content-type': type, 'content-length': body.length, 'content-security-policy': CSP, 'x-content-type-options': 'nosniff', 'cache-control': 'no-cache' })
      res.end(body)
    })
  }

  const metrics = async (_req: unknown, res: ServerResponse): Promise<void> => {
    if (node.metrics == null) throw new ApiError('this node runs without metrics', 404, 'NotFoundError')
    const { contentType, text } = await node.metrics.exposition()
    res.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' })
    res.end(text)
  }
  api.page('/metrics', metrics)
  api.page('/debug/metrics/prometheus', metrics)

  api.page('/healthz', async (_req, res) => {
    const health = healthOf(node)
    sendJson(res, health.status === 'ok' ? 200 : 503, {
      ...health,
      id: node.peerId.toString(),
      uptimeMs: Date.now() - node.startedAt,
      connections: node.libp2p.getPeers().length,
      routingTable: node.routingTableSize()
    })
  })

  api.page('/view/v0/self', async () => selfView(node))
  api.page('/view/v0/swarm', async () => swarmView(node))
  api.page('/view/v0/jobs', async () => jobsView(node))
  api.page('/view/v0/job', async (req) => {
    const id = req.args.get('id')
    if (id == null || id === '') throw new InvalidArgumentError('missing argument "id"')
    return await jobView(node, id)
  })
  api.page('/view/v0/data', async () => ({ roots: await node.data.ls(), self: selfView(node).blocks }))

  let streams = 0
  api.page('/view/v0/events', async (req, res) => {
    if (streams >= MAX_EVENT_STREAMS) throw new ApiError(`too many dashboards open (${MAX_EVENT_STREAMS})`, 503, 'BusyError')
    streams++
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' })
    const send = (event: string, data: unknown): void => { res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`) }
    const rates = rateTracker(node)
    const tick = (): void => {
      const jobs = jobsView(node)
      send('tick', { at: Date.now(), self: selfView(node), rates: rates(jobs), jobs })
    }
    const swarm = (): void => { send('swarm', swarmView(node)) }
    tick()
    swarm()
    const timers = [setInterval(tick, DASHBOARD_TICK_MS), setInterval(swarm, DASHBOARD_SWARM_MS)]
    await new Promise<void>(resolve => {
      if (req.signal.aborted) resolve()
      else req.signal.addEventListener('abort', () => { resolve() }, { once: true })
    })
    for (const t of timers) clearInterval(t)
    streams--
    res.end()
  })
}

/**
 * Rates since the last call: tasks accepted per second over the jobs this
 * peer knows, bytes per second over its connections, and the mean time of
 * the block fetches made meanwhile (null when none).
 */
function rateTracker (node: EdgeNode): (jobs: Array<{ done: number, id: string }>) => { tasksPerSecond: number, sentPerSecond: number, receivedPerSecond: number, fetchMs: number | null } {
  let last: { at: number, done: Map<string, number>, sent: number, received: number, fetches: number, fetchMs: number } | undefined
  return (jobs) => {
    const at = Date.now()
    const bw = selfView(node).bandwidth
    const done = new Map(jobs.map(j => [j.id, j.done]))
    const m = node.data.metrics
    const now = { at, done, sent: bw.sent, received: bw.received, fetches: m.fetches, fetchMs: m.fetchMsTotal }
    const prev = last
    last = now
    if (prev == null) return { tasksPerSecond: 0, sentPerSecond: 0, receivedPerSecond: 0, fetchMs: null }
    const s = Math.max(0.001, (at - prev.at) / 1000)
    let tasks = 0
    for (const [id, d] of done) tasks += Math.max(0, d - (prev.done.get(id) ?? 0))
    const fetched = now.fetches - prev.fetches
    return {
      tasksPerSecond: tasks / s,
      sentPerSecond: Math.max(0, now.sent - prev.sent) / s,
      receivedPerSecond: Math.max(0, now.received - prev.received) / s,
      fetchMs: fetched > 0 ? (now.fetchMs - prev.fetchMs) / fetched : null
    }
  }
}
