/**
 * node/connection-diagnostics: why this peer cannot connect, in words an
 * operator can act on, without `DEBUG`. Three causes are recognised:
 *
 * - `swarm-key`: a handshake failed the private-swarm gate. The gate is the
 *   Noise prologue (swarm-key.ts), which both ends mix into the handshake hash:
 *   the dialler fails to decrypt the answer ("handshake stage 1 validation
 *   fail"), and the answerer sees the dialler hang up after its answer. Any
 *   peer, either direction.
 * - `wrong-peer`: a bootstrap address answered as another peer than its /p2p/
 *   part names.
 * - `unreachable`: a bootstrap address could not be dialled (refused, no
 *   route, no answer).
 *
 * Failures arrive from the connection encrypter (`diagnosedEncrypter`, every
 * handshake) and from the walker's dials of the bootstrap list
 * (`dialFailed`). Each cause is kept by kind and address, reported as a
 * `problem` event when first seen and again at most every
 * `reportIntervalMs` while it recurs (the daemon logs these), and forgotten
 * `problemTtlMs` after it last occurred or as soon as its peer connects.
 * Owns no connection and never dials; its table and its reports are bounded.
 */
import type { ConnectionEncrypter, Libp2pEvents, MultiaddrConnection, PeerId, SecureConnectionOptions, Startable, TypedEventTarget } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { multiaddr } from '@multiformats/multiaddr'
import {
  CONNECTION_PROBLEM_TTL_MS, CONNECTION_PROBLEM_REPORT_INTERVAL_MS, MAX_CONNECTION_PROBLEMS, MAX_CONNECTION_PROBLEM_REPORTS_PER_MINUTE
} from './constants.ts'

export type ConnectionProblemKind = 'swarm-key' | 'wrong-peer' | 'unreachable'

/** One current cause of a failing connection. */
export interface ConnectionProblem {
  kind: ConnectionProblemKind
  /** The address dialled (with /p2p/), or, for a connection that came in, the remote host. */
  address: string
  /** The peer the address names, when it names one. */
  peer?: string
  /** One line for an operator: what happened and the likely cause. */
  message: string
  /** Times it occurred since first seen. */
  count: number
  /** When it first and last occurred (ms since the epoch). */
  firstSeen: number
  lastSeen: number
}

export interface DiagnosticsInit {
  /** The bootstrap list: unreachable and wrong-peer causes are kept for these addresses only. */
  bootstrap?: string[]
  /** This peer has a swarm key (a failed handshake then most likely means another key). @default false */
  privateSwarm?: boolean
  /** How long a cause stays current after it last occurred. @default CONNECTION_PROBLEM_TTL_MS */
  problemTtlMs?: number
  /** Least time between two reports of the same cause. @default CONNECTION_PROBLEM_REPORT_INTERVAL_MS */
  reportIntervalMs?: number
}

/** The parts of libp2p the diagnostics use: connection events, which clear a peer's causes. */
export interface DiagnosticsComponents {
  events: TypedEventTarget<Libp2pEvents>
}

interface Entry extends ConnectionProblem {
  reportedAt: number
}

const MESSAGE_MAX_CHARS = 200

/** The first line of an error's message, at most MESSAGE_MAX_CHARS. */
function firstLine (err: unknown): string {
  const text = String((err as Error)?.message ?? err).split('\n').find(l => l.trim() !== '') ?? ''
  return text.length > MESSAGE_MAX_CHARS ? `${text.slice(0, MESSAGE_MAX_CHARS - 3)}...` : text
}

function isAbort (err: unknown): boolean {
  const name = (err as Error)?.name
  return name === 'AbortError' || name === 'TimeoutError'
}

/** Noise's dialler could not decrypt the answer: the two ends mixed different prologues (swarm keys). */
function isPrologueMismatch (err: unknown): boolean {
  return /handshake stage \d validation fail/.test(firstLine(err))
}

/** Noise found another identity than the one the address names. */
function answeredAs (err: unknown): string | undefined {
  if ((err as Error)?.name !== 'UnexpectedPeerError' && !/does not match expected remote identity/.test(firstLine(err))) return undefined
  return /identity key (\S+) does not match/.exec(firstLine(err))?.[1] ?? 'another peer'
}

/** Why a dial failed, as a phrase. */
function unreachableReason (err: unknown): string {
  const text = firstLine(err)
  if (isAbort(err) || /ETIMEDOUT|timed out|timeout/i.test(text)) return 'no answer (timed out)'
  if (/ECONNREFUSED/.test(text)) return 'connection refused: nothing listens there'
  if (/EHOSTUNREACH|ENETUNREACH/.test(text)) return 'no route to that host'
  if (/ENOTFOUND|EAI_AGAIN/.test(text)) return 'its host name does not resolve'
  return text
}

/** The host part of an address (`/ip4/127.0.0.1`), for connections that came in from ephemeral ports. */
function hostOf (addr: Multiaddr): string {
  const [host] = addr.getComponents()
  return host != null ? `/${host.name}/${host.value ?? ''}` : addr.toString()
}

function peerOf (addr: Multiaddr): string | undefined {
  return addr.getComponents().findLast(c => c.name === 'p2p')?.value
}

export class ConnectionDiagnostics extends EventTarget implements Startable {
  private readonly components: DiagnosticsComponents
  private readonly bootstrap: Set<string>
  private readonly privateSwarm: boolean
  private readonly ttlMs: number
  private readonly reportIntervalMs: number
  private readonly entries = new Map<string, Entry>()
  private reportsThisMinute = 0
  private minuteStartedAt = 0

  private readonly onConnect = (evt: CustomEvent<{ remotePeer: PeerId }>): void => {
    this.forgetPeer(evt.detail.remotePeer.toString())
  }

  constructor (components: DiagnosticsComponents, init: DiagnosticsInit = {}) {
    super()
    this.components = components
    this.bootstrap = new Set((init.bootstrap ?? []).map(a => multiaddr(a).toString()))
    this.privateSwarm = init.privateSwarm ?? false
    this.ttlMs = init.problemTtlMs ?? CONNECTION_PROBLEM_TTL_MS
    this.reportIntervalMs = init.reportIntervalMs ?? CONNECTION_PROBLEM_REPORT_INTERVAL_MS
  }

  start (): void {
    this.components.events.addEventListener('connection:open', this.onConnect)
  }

  stop (): void {
    this.components.events.removeEventListener('connection:open', this.onConnect)
  }

  /** The current causes, most recent first. */
  problems (): ConnectionProblem[] {
    this.expire(Date.now())
    return [...this.entries.values()]
      .sort((a, b) => b.lastSeen - a.lastSeen)
      .map(({ reportedAt, ...p }) => p)
  }

  /** A handshake (Noise) failed; `remoteAddr` is the dialled address or the address a connection came from. */
  handshakeFailed (direction: 'inbound' | 'outbound', remoteAddr: Multiaddr | undefined, err: unknown): void {
    if (remoteAddr == null || isAbort(err)) return
    if (direction === 'outbound') {
      if (isPrologueMismatch(err)) this.recordSwarmKey(remoteAddr)
      else this.recordBootstrap(remoteAddr, err)
      return
    }
    if (answeredAs(err) != null) return
    const host = hostOf(remoteAddr)
    const cause = this.privateSwarm ? 'a different swarm key, or it expected another peer id here?' : 'it has a swarm key, or it expected another peer id here?'
    this.record('swarm-key', host, undefined, `a peer at ${host} hung up during the handshake (${cause})`)
  }

  /** A dial of `target` failed; kept only for bootstrap addresses (other peers come and go). */
  dialFailed (target: Multiaddr | string, err: unknown): void {
    const addr = typeof target === 'string' ? multiaddr(target) : target
    if (!this.bootstrap.has(addr.toString())) return
    if (isPrologueMismatch(err)) this.recordSwarmKey(addr)
    else this.recordBootstrap(addr, err)
  }

  /** A dialled peer failed the private-swarm gate. */
  private recordSwarmKey (addr: Multiaddr): void {
    const address = addr.toString()
    const who = this.bootstrap.has(address) ? `bootstrap peer ${address}` : `peer at ${address}`
    this.record('swarm-key', address, peerOf(addr), this.privateSwarm
      ? `${who} failed the private-swarm handshake (different swarm key?)`
      : `${who} failed the handshake: it is in a private swarm (this peer has no swarm key)`)
  }

  /** A wrong peer or an unreachable address, if `addr` is on the bootstrap list. */
  private recordBootstrap (addr: Multiaddr, err: unknown): void {
    const address = addr.toString()
    if (!this.bootstrap.has(address)) return
    const other = answeredAs(err)
    if (other != null) {
      this.record('wrong-peer', address, peerOf(addr), `bootstrap ${address} answered as peer ${other}: fix the /p2p/ part of the address`)
    } else {
      this.record('unreachable', address, peerOf(addr), `bootstrap ${address} is unreachable: ${unreachableReason(err)}`)
    }
  }

  private record (kind: ConnectionProblemKind, address: string, peer: string | undefined, message: string): void {
    const now = Date.now()
    this.expire(now)
    const key = `${kind} ${address}`
    let entry = this.entries.get(key)
    if (entry == null) {
      if (this.entries.size >= MAX_CONNECTION_PROBLEMS) this.evictOldest()
      entry = { kind, address, ...(peer != null ? { peer } : {}), message, count: 0, firstSeen: now, lastSeen: now, reportedAt: 0 }
      this.entries.set(key, entry)
    }
    entry.count++
    entry.lastSeen = now
    entry.message = message
    if (now - entry.reportedAt >= this.reportIntervalMs && this.mayReport(now)) {
      entry.reportedAt = now
      const { reportedAt, ...problem } = entry
      this.dispatchEvent(new CustomEvent<ConnectionProblem>('problem', { detail: problem }))
    }
  }

  /** At most MAX_CONNECTION_PROBLEM_REPORTS_PER_MINUTE reports a minute, whatever the number of causes. */
  private mayReport (now: number): boolean {
    if (now - this.minuteStartedAt >= 60_000) {
      this.minuteStartedAt = now
      this.reportsThisMinute = 0
    }
    if (this.reportsThisMinute >= MAX_CONNECTION_PROBLEM_REPORTS_PER_MINUTE) return false
    this.reportsThisMinute++
    return true
  }

  private forgetPeer (peer: string): void {
    for (const [key, e] of this.entries) if (e.peer === peer) this.entries.delete(key)
  }

  private expire (now: number): void {
    for (const [key, e] of this.entries) if (now - e.lastSeen > this.ttlMs) this.entries.delete(key)
  }

  private evictOldest (): void {
    let oldest: string | undefined
    let at = Infinity
    for (const [key, e] of this.entries) if (e.lastSeen < at) { at = e.lastSeen; oldest = key }
    if (oldest != null) this.entries.delete(oldest)
  }
}

/**
 * A connection encrypter that tells `diagnostics` about every failed
 * handshake, with the address of the other end, and otherwise is `encrypter`.
 */
export function diagnosedEncrypter<C> (encrypter: (components: C) => ConnectionEncrypter, diagnostics: () => ConnectionDiagnostics | undefined): (components: C) => ConnectionEncrypter {
  return (components) => {
    const inner = encrypter(components)
    const remoteAddr = (connection: unknown): Multiaddr | undefined => (connection as Partial<MultiaddrConnection>).remoteAddr
    return {
      protocol: inner.protocol,
      [Symbol.toStringTag]: 'edgeswarm:diagnosed-encrypter',
      async secureInbound (connection, options?: SecureConnectionOptions) {
        try {
          return await inner.secureInbound(connection, options)
        } catch (err) {
          diagnostics()?.handshakeFailed('inbound', remoteAddr(connection), err)
          throw err
        }
      },
      async secureOutbound (connection, options?: SecureConnectionOptions) {
        try {
          return await inner.secureOutbound(connection, options)
        } catch (err) {
          diagnostics()?.handshakeFailed('outbound', remoteAddr(connection), err)
          throw err
        }
      }
    } satisfies ConnectionEncrypter & { [Symbol.toStringTag]: string }
  }
}
