/**
 * api/client: the RPC client every short CLI command uses. Finds the daemon
 * through `<repo>/api` and calls its commands over loopback HTTP. Owns turning
 * transport failures and API errors into one clear message. Never talks to
 * anything but the address the daemon wrote, and never loads the peer stack
 * (it imports node/repo.ts, not the node layer's front door).
 */
import { readFile } from 'node:fs/promises'
import { Readable } from 'node:stream'
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

  /** Sends a command; returns the raw response once its status is OK. */
  async request (name: string, args: ApiArgs = {}, body?: Readable | Uint8Array | string, signal?: AbortSignal): Promise<Response> {
    let res: Response
    try {
      const init: RequestInit & { duplex?: 'half' } = { method: 'POST', signal }
      if (body instanceof Readable) {
        init.body = Readable.toWeb(body) as ReadableStream
        init.duplex = 'half'
      } else if (body != null) {
        init.body = body as NonNullable<RequestInit['body']>
      }
      res = await fetch(this.url(name, args), init)
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
