/**
 * api/server: the daemon's RPC API, Kubo-style `POST /api/v0/<command>` on
 * loopback HTTP. Owns the HTTP surface: routing, argument parsing, JSON and
 * streamed responses, error mapping, and DNS-rebinding protection (requests
 * whose Host or Origin is not loopback are refused). Never binds to a
 * non-loopback address and never runs a command without going through its
 * handler's validation.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { API_PREFIX, MAX_JSON_BODY_BYTES } from './constants.ts'
import { InvalidArgumentError } from './errors.ts'
import { statusOf } from './error-status.ts'

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1'])

export interface ApiRequest {
  /** Query-string arguments; repeated keys collect into arrays. */
  args: URLSearchParams
  /** The raw request, for handlers that stream an upload. */
  raw: IncomingMessage
  /** Aborts when the client goes away. */
  signal: AbortSignal
}

/**
 * A handler returns a JSON-serialisable value, or writes the response itself
 * (streaming) and returns `undefined` after `res.end()`.
 */
export type ApiHandler = (req: ApiRequest, res: ServerResponse) => Promise<unknown>

/** Is `host` (a Host header value, or an Origin's host) a loopback name? */
export function isLoopbackHost (host: string | undefined): boolean {
  if (host == null || host === '') return false
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(host)
  if (m == null) return false
  const name = m[1].toLowerCase()
  return LOOPBACK_HOSTS.has(name) || /^127\.\d+\.\d+\.\d+$/.test(name)
}

function checkOrigin (req: IncomingMessage): string | undefined {
  if (!isLoopbackHost(req.headers.host)) {
    return `refused: Host header "${req.headers.host ?? ''}" is not loopback`
  }
  const origin = req.headers.origin
  if (origin != null) {
    let host: string | undefined
    try { host = new URL(origin).host } catch { host = undefined }
    if (!isLoopbackHost(host)) return `refused: Origin "${origin}" is not loopback`
  }
  return undefined
}

function sendJson (res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

/** Reads a small JSON body, bounded by MAX_JSON_BODY_BYTES. */
export async function readJsonBody (req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > MAX_JSON_BODY_BYTES) throw new InvalidArgumentError(`request body larger than ${MAX_JSON_BODY_BYTES} bytes`)
    chunks.push(chunk as Buffer)
  }
  if (size === 0) return {}
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    throw new InvalidArgumentError('request body is not valid JSON')
  }
}

export class ApiServer {
  private readonly routes = new Map<string, ApiHandler>()
  private server?: Server

  /** Adds a command, e.g. `route('id', handler)` serves `POST /api/v0/id`. */
  route (name: string, handler: ApiHandler): this {
    this.routes.set(name, handler)
    return this
  }

  /** Listens on `host:port` (must be loopback); resolves with the bound `host:port`. */
  async listen (hostPort: string): Promise<string> {
    const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(hostPort)
    if (m == null) throw new InvalidArgumentError(`API address "${hostPort}" must be HOST:PORT`)
    const host = m[1].replace(/^\[|\]$/g, '')
    if (!isLoopbackHost(m[1])) throw new InvalidArgumentError(`API address "${hostPort}" must be loopback (127.0.0.1 or localhost)`)
    const server = createServer((req, res) => { void this.handle(req, res) })
    this.server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(Number(m[2]), host, () => { server.off('error', reject); resolve() })
    })
    const addr = server.address() as AddressInfo
    return `${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`
  }

  private async handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const refused = checkOrigin(req)
    if (refused != null) {
      sendJson(res, 403, { error: { name: 'ForbiddenError', message: refused } })
      req.resume()
      return
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    if (!url.pathname.startsWith(API_PREFIX)) {
      sendJson(res, 404, { error: { name: 'NotFoundError', message: `no such endpoint ${url.pathname}` } })
      req.resume()
      return
    }
    if (req.method !== 'POST') {
      // like Kubo: commands are POST only, so a web page cannot trigger them with a plain GET
      sendJson(res, 405, { error: { name: 'MethodNotAllowedError', message: 'commands must be sent with POST' } })
      req.resume()
      return
    }
    const name = url.pathname.slice(API_PREFIX.length)
    const handler = this.routes.get(name)
    if (handler == null) {
      sendJson(res, 404, { error: { name: 'NotFoundError', message: `unknown command "${name}"` } })
      req.resume()
      return
    }
    const controller = new AbortController()
    res.on('close', () => { if (!res.writableFinished) controller.abort() })
    try {
      const value = await handler({ args: url.searchParams, raw: req, signal: controller.signal }, res)
      if (!res.headersSent) sendJson(res, 200, value ?? {})
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err))
      if (!res.headersSent) {
        sendJson(res, statusOf(e), { error: { name: e.name, message: e.message } })
      } else {
        // a streamed response already started: report in-band then end
        res.end(JSON.stringify({ type: 'error', error: { name: e.name, message: e.message } }) + '\n')
      }
    }
  }

  async close (): Promise<void> {
    const server = this.server
    if (server == null) return
    server.closeAllConnections()
    await new Promise<void>(resolve => server.close(() => resolve()))
  }
}
