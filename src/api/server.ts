/**
 * api/server: the daemon's HTTP surface: Kubo-style `POST /api/v0/<command>`
 * commands on loopback, and read-only `GET` pages (the dashboard, its data,
 * metrics, health). Owns routing, argument parsing, JSON and streamed
 * responses, error mapping, and DNS-rebinding protection (a request whose
 * Host or Origin is not allowed is refused, whatever its path). A server
 * made with `commands: false` (the read-only listener) serves pages only and
 * may bind any address; one with commands never binds a non-loopback address
 * and never runs a command without going through its handler's validation.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { isIP, type AddressInfo } from 'node:net'
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

/**
 * Is `host` (a Host header value, or an Origin's host) a loopback name or an
 * IP address? A DNS-rebinding page reaches a listener under a DNS name of its
 * own, never under an IP literal, so a read-only listener open to the LAN
 * accepts these and nothing else.
 */
export function isLoopbackOrIpHost (host: string | undefined): boolean {
  if (isLoopbackHost(host)) return true
  if (host == null) return false
  const m = /^(\[([0-9a-fA-F:.]+)\]|[^:]+)(?::(\d+))?$/.exec(host)
  if (m == null) return false
  return m[2] != null ? isIP(m[2]) === 6 : isIP(m[1]) === 4
}

function checkOrigin (req: IncomingMessage, allowed: (host: string | undefined) => boolean): string | undefined {
  if (!allowed(req.headers.host)) {
    return `refused: Host header "${req.headers.host ?? ''}" is not allowed`
  }
  const origin = req.headers.origin
  if (origin != null) {
    let host: string | undefined
    try { host = new URL(origin).host } catch { host = undefined }
    if (!allowed(host)) return `refused: Origin "${origin}" is not allowed`
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

export interface ApiServerInit {
  /**
   * Serve commands (`POST /api/v0/...`): the RPC API, which binds loopback
   * only and accepts loopback Host and Origin headers only. Without, the
   * server is read-only: pages only, any address, and Host and Origin must be
   * loopback or an IP address (see isLoopbackOrIpHost). @default true
   */
  commands?: boolean
}

export class ApiServer {
  private readonly routes = new Map<string, ApiHandler>()
  private readonly pages = new Map<string, ApiHandler>()
  private readonly commands: boolean
  private readonly allowed: (host: string | undefined) => boolean
  private server?: Server

  constructor (init: ApiServerInit = {}) {
    this.commands = init.commands ?? true
    this.allowed = this.commands ? isLoopbackHost : isLoopbackOrIpHost
  }

  /** Adds a command, e.g. `route('id', handler)` serves `POST /api/v0/id`. */
  route (name: string, handler: ApiHandler): this {
    this.routes.set(name, handler)
    return this
  }

  /** Adds a read-only page, e.g. `page('/healthz', handler)` serves `GET /healthz`. */
  page (path: string, handler: ApiHandler): this {
    this.pages.set(path, handler)
    return this
  }

  /** Listens on `host:port` (loopback, unless read-only); resolves with the bound `host:port`. */
  async listen (hostPort: string): Promise<string> {
    const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(hostPort)
    if (m == null) throw new InvalidArgumentError(`API address "${hostPort}" must be HOST:PORT`)
    const host = m[1].replace(/^\[|\]$/g, '')
    if (this.commands && !isLoopbackHost(m[1])) throw new InvalidArgumentError(`API address "${hostPort}" must be loopback (127.0.0.1 or localhost)`)
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
    const refused = checkOrigin(req, this.allowed)
    if (refused != null) {
      sendJson(res, 403, { error: { name: 'ForbiddenError', message: refused } })
      req.resume()
      return
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const page = this.pages.get(url.pathname)
    if (page != null && (req.method === 'GET' || req.method === 'HEAD')) {
      await this.run(page, url, req, res)
      return
    }
    if (!this.commands || !url.pathname.startsWith(API_PREFIX)) {
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
    await this.run(handler, url, req, res)
  }

  private async run (handler: ApiHandler, url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
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
