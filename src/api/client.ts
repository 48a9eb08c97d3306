/**
 * api/client: the RPC client every short CLI command uses. Finds the daemon
 * through `<repo>/api` and calls its commands over loopback HTTP. Owns turning
 * transport failures and API errors into one clear message. Never talks to
 * anything but the address the daemon wrote, and never loads the peer stack
 * (it imports node/repo.ts, not the node layer's front door).
 */
import { readFile } from 'node:fs/promises'
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { ApiError, DaemonNotRunningError } from './errors.ts'
import { API_PREFIX } from './constants.ts'
import { repoPaths } from '../node/repo.ts'

export type ApiArgs = Record<string, string | number | boolean | string[] | undefined>

/** Converts `/ip4/127.0.0.1/tcp/5001` (or `127.0.0.1:5001`) to an HTTP base URL. */
function apiUrl (address: string): string {
  const ma = /^\/ip([46])\/([^/]+)\/tcp\/(\d+)/.exec(address.trim())
  if (ma != null) return `http://${ma[1] === '6' ? `[${ma[2]}]` : ma[2]}:${ma[3]}`
  return `http://${address.trim()}`
}

/** `127.0.0.1:5001` → `/ip4/127.0.0.1/tcp/5001`, the form written to `<repo>/api` (as Kubo does). */
export function apiMultiaddr (hostPort: string): string {
  const m = /^(\[([^\]]+)\]|[^:]+):(\d+)$/.exec(hostPort)
  if (m == null) throw new Error(`bad API address ${hostPort}`)
  return m[2] != null ? `/ip6/${m[2]}/tcp/${m[3]}` : `/ip4/${m[1]}/tcp/${m[3]}`
}

export class ApiClient {
  readonly base: string
  readonly repo: string

  constructor (base: string, repo: string) {
    this.base = base
    this.repo = repo
  }

  /** A client for the daemon of `repo`; DaemonNotRunningError if there is none. */
  static async forRepo (repo: string): Promise<ApiClient> {
    let address: string
    try {
      address = await readFile(repoPaths(repo).api, 'utf8')
    } catch {
      throw new DaemonNotRunningError(`no edgeswarm daemon is running for repo ${repo} (start one with \`edgeswarm daemon\`)`)
    }
    return new ApiClient(apiUrl(address), repo)
  }

  private url (name: string, args: ApiArgs): string {
    const q = new URLSearchParams()
    for (const [k, v] of Object.entries(args)) {
      if (v == null) continue
      if (Array.isArray(v)) v.forEach(x => q.append(k, x))
      else q.append(k, String(v))
    }
    const qs = q.toString()
    return `${this.base}${API_PREFIX}${name}${qs !== '' ? `?${qs}` : ''}`
  }

  /**
   * Sends a command; returns the raw response once its status is OK. An
   * upload (a Readable) and the answer both stream with backpressure
   * (node:http, piped), so neither is held in memory whole: fetch's request
   * bodies read their source as fast as it gives, whatever the daemon takes.
   */
  async request (name: string, args: ApiArgs = {}, body?: Readable | Uint8Array | string, signal?: AbortSignal): Promise<Response> {
    let res: Response
    try {
      res = await this.send(name, args, body, signal)
    } catch (err) {
      if (signal?.aborted === true) throw err
      throw new DaemonNotRunningError(`cannot reach the edgeswarm daemon of repo ${this.repo} at ${this.base} (is it running? start one with \`edgeswarm daemon\`)`)
    }
    if (!res.ok) {
      let name = 'ApiError'
      let message = `${res.status} ${res.statusText}`
      try {
        const body = await res.json() as { error?: { name?: string, message?: string } }
        name = body.error?.name ?? name
        message = body.error?.message ?? message
      } catch {}
      throw new ApiError(message, res.status, name)
    }
    return res
  }

  /** One POST over node:http: the body piped (a stream) or written; resolves with the answer's head, its body streaming. */
  private async send (name: string, args: ApiArgs, body: Readable | Uint8Array | string | undefined, signal?: AbortSignal): Promise<Response> {
    const answer = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = httpRequest(this.url(name, args), { method: 'POST', signal }, resolve)
      req.once('error', reject)
      if (body instanceof Readable) {
        // the daemon may answer (an error) before it has read the whole upload: the answer counts, not the broken pipe
        pipeline(body, req).catch(reject)
      } else {
        req.end(body)
      }
    })
    const headers = new Headers()
    for (const [key, value] of Object.entries(answer.headers)) {
      if (typeof value === 'string') headers.set(key, value)
    }
    return new Response(Readable.toWeb(answer) as ReadableStream, { status: answer.statusCode ?? 500, statusText: answer.statusMessage, headers })
  }

  /** A command with a JSON answer. */
  async call<T = unknown> (name: string, args: ApiArgs = {}, body?: Readable | Uint8Array | string, signal?: AbortSignal): Promise<T> {
    const res = await this.request(name, args, body, signal)
    return await res.json() as T
  }

  /** A command whose answer is newline-delimited JSON events; in-band errors throw. */
  async * events<T = unknown> (name: string, args: ApiArgs = {}, body?: Readable | Uint8Array | string, signal?: AbortSignal): AsyncGenerator<T> {
    const res = await this.request(name, args, body, signal)
    if (res.body == null) return
    let buffered = ''
    const decoder = new TextDecoder()
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffered += decoder.decode(chunk, { stream: true })
      let nl: number
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).trim()
        buffered = buffered.slice(nl + 1)
        if (line === '') continue
        const ev = JSON.parse(line) as T & { type?: string, error?: { name: string, message: string } }
        if (ev.type === 'error' && ev.error != null) throw new ApiError(ev.error.message, 500, ev.error.name)
        yield ev as Awaited<T>
      }
    }
  }
}
