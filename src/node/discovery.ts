/**
 * node/discovery: peer discovery beyond libp2p's bootstrap. `PeerWalker` dials
 * peers that mDNS or the DHT discover while this peer has fewer connections
 * than its target; walks the DHT (a lookup of a random key) to find more, less
 * and less often while walks find nobody new (a swarm smaller than the target,
 * docs/decisions/node-random-walk-backoff.md); and, while this peer has no
 * connection at all, dials its bootstrap list and remembered peers again,
 * since libp2p's bootstrap dials only once. A failed dial of a bootstrap
 * address is told to the connection diagnostics, which say why this peer is
 * alone.
 *
 * Owns only the decision to dial; never closes connections (see
 * connection-trimmer.ts).
 */
import { randomBytes } from 'node:crypto'
import { multiaddr } from '@multiformats/multiaddr'
import { isPeerId } from '@libp2p/interface'
import type { Libp2p, PeerInfo, Startable } from '@libp2p/interface'
import type { KadDHT } from '@libp2p/kad-dht'
import { connectedPeerCount, isConnected } from './connected-peers.ts'
import type { ConnectionDiagnostics } from './connection-diagnostics.ts'

/** How often a peer below its target walks the DHT while walks find new peers. */
const RANDOM_WALK_INTERVAL_MS = 10_000
/**
 * Longest wait between walks. Each walk that names no peer this one is not
 * connected to doubles the wait up to this; a walk that names a new peer, or a
 * lost connection, brings back RANDOM_WALK_INTERVAL_MS. A walk is a lookup of
 * several DHT requests, wasted where the swarm is smaller than the target.
 */
const RANDOM_WALK_MAX_INTERVAL_MS = 320_000
/** Time limit for one random walk. */
const RANDOM_WALK_TIMEOUT_MS = 5_000
/** Dials the walker has in flight at most: discovery bursts must not become connection storms. */
const MAX_WALKER_DIALS = 3
/** Time limit of one walker dial. */
const WALKER_DIAL_TIMEOUT_MS = 5_000
/** A peer whose dial failed is not tried again by the walker for this long. */
const WALKER_RETRY_BACKOFF_MS = 30_000
/** Most failed dials remembered for WALKER_RETRY_BACKOFF_MS (the record is cleared beyond it). */
const MAX_FAILED_DIALS_REMEMBERED = 10_000
/** How often a peer without any connection dials its bootstrap list and remembered peers again. */
const ISOLATED_REDIAL_MS = 5_000
/** Remembered peers (from the peer store) tried per redial besides the bootstrap list. */
const ISOLATED_REDIAL_PEERS = 8
/** Peer-store entries read per redial to pick ISOLATED_REDIAL_PEERS of them at random. */
const ISOLATED_REDIAL_CANDIDATES = ISOLATED_REDIAL_PEERS * 4

/** The parts of the libp2p node the walker uses; failed bootstrap dials go to `diagnostics` when it has them. */
export type WalkerComponents = Pick<Libp2p<{ dht: KadDHT, diagnostics?: Pick<ConnectionDiagnostics, 'dialFailed'> }>, 'peerId' | 'services' | 'peerStore' | 'getConnections' | 'dial' | 'addEventListener' | 'removeEventListener'>

export interface WalkerInit {
  /** Connections to keep at least. */
  targetPeers: number
  /** Multiaddrs (with /p2p/) dialled again while this peer has no connection. */
  bootstrap?: string[]
  /** @default ISOLATED_REDIAL_MS */
  redialMs?: number
  /** Time limit of one dial (raise it with the node's handshake limit). @default WALKER_DIAL_TIMEOUT_MS */
  dialTimeoutMs?: number
  /** Wait between walks while they find new peers. @default RANDOM_WALK_INTERVAL_MS */
  walkIntervalMs?: number
  /** Longest wait between walks that find nobody new. @default RANDOM_WALK_MAX_INTERVAL_MS */
  maxWalkIntervalMs?: number
}

export class PeerWalker implements Startable {
  private readonly node: WalkerComponents
  private readonly targetPeers: number
  private readonly bootstrap: string[]
  private readonly redialMs: number
  private readonly dialTimeoutMs: number
  private timer?: ReturnType<typeof setInterval>
  private redialTimer?: ReturnType<typeof setInterval>
  private redialing = false
  /** Redials made while alone, for status and tests. */
  redials = 0
  private walking = false
  /** Walks made, for status and tests. */
  walks = 0
  private readonly walkIntervalMs: number
  private readonly maxWalkIntervalMs: number
  /** Current wait between walks (see RANDOM_WALK_MAX_INTERVAL_MS). */
  private walkWaitMs: number
  private nextWalkAt = 0
  private readonly dialing = new Set<string>()
  private readonly failedAt = new Map<string, number>()
  private readonly onDiscovery = (evt: CustomEvent<PeerInfo>): void => {
    this.maybeDial(evt.detail.id)
  }

  /** A lost connection: walk again soon, at the base interval. */
  private readonly onDisconnect = (): void => {
    this.walkWaitMs = this.walkIntervalMs
    this.nextWalkAt = Math.min(this.nextWalkAt, Date.now() + this.walkIntervalMs)
  }

  constructor (node: WalkerComponents, init: WalkerInit) {
    this.node = node
    this.targetPeers = init.targetPeers
    this.bootstrap = init.bootstrap ?? []
    this.redialMs = init.redialMs ?? ISOLATED_REDIAL_MS
    this.dialTimeoutMs = init.dialTimeoutMs ?? WALKER_DIAL_TIMEOUT_MS
    this.walkIntervalMs = init.walkIntervalMs ?? RANDOM_WALK_INTERVAL_MS
    this.maxWalkIntervalMs = Math.max(this.walkIntervalMs, init.maxWalkIntervalMs ?? RANDOM_WALK_MAX_INTERVAL_MS)
    if (!(this.walkIntervalMs > 0)) throw new RangeError(`walkIntervalMs must be > 0, got ${String(init.walkIntervalMs)}`)
    this.walkWaitMs = this.walkIntervalMs
  }

  /** The wait before the next walk, in ms (doubles while walks find nobody new). */
  get walkIntervalNowMs (): number {
    return this.walkWaitMs
  }

  private belowTarget (): boolean {
    return connectedPeerCount(this.node) + this.dialing.size < this.targetPeers
  }

  /** Dials `peer` if below target, not connected, not already dialing, and not recently failed. */
  private maybeDial (peer: PeerInfo['id']): void {
    const key = peer.toString()
    if (peer.equals(this.node.peerId) || !this.belowTarget() || this.dialing.size >= MAX_WALKER_DIALS) return
    if (this.dialing.has(key) || this.node.getConnections(peer).length > 0) return
    if (Date.now() - (this.failedAt.get(key) ?? 0) < WALKER_RETRY_BACKOFF_MS) return
    this.dialing.add(key)
    this.node.dial(peer, { signal: AbortSignal.timeout(this.dialTimeoutMs) })
      .then(() => { this.failedAt.delete(key) }, () => {
        if (this.failedAt.size > MAX_FAILED_DIALS_REMEMBERED) this.failedAt.clear()
        this.failedAt.set(key, Date.now())
      })
      .finally(() => { this.dialing.delete(key) })
  }

  start (): void {
    this.node.addEventListener('peer:discovery', this.onDiscovery)
    this.node.addEventListener('peer:disconnect', this.onDisconnect)
    this.nextWalkAt = Date.now() + this.walkIntervalMs
    this.timer = setInterval(() => { if (Date.now() >= this.nextWalkAt) void this.walk() }, Math.min(this.walkIntervalMs, 1_000))
    this.timer.unref()
    this.redialTimer = setInterval(() => { void this.redialIfAlone() }, this.redialMs)
    this.redialTimer.unref()
  }

  /**
   * With no connection, dials the bootstrap list and a few remembered peers
   * (at most MAX_WALKER_DIALS at a time; the walker's backoff does not apply:
   * a refusal a minute ago says little about now).
   */
  async redialIfAlone (): Promise<void> {
    if (this.redialing || isConnected(this.node)) return
    this.redialing = true
    this.redials++
    try {
      const remembered = (await this.node.peerStore.all({ limit: ISOLATED_REDIAL_CANDIDATES }).catch(() => []))
        .filter(p => !p.id.equals(this.node.peerId) && p.addresses.length > 0)
        .sort(() => Math.random() - 0.5)
        .slice(0, ISOLATED_REDIAL_PEERS)
        .map(p => p.id)
      const targets = [...this.bootstrap.map(a => multiaddr(a)), ...remembered]
      for (let i = 0; i < targets.length && !isConnected(this.node); i += MAX_WALKER_DIALS) {
        await Promise.allSettled(targets.slice(i, i + MAX_WALKER_DIALS).map(async t => {
          try {
            await this.node.dial(t, { signal: AbortSignal.timeout(this.dialTimeoutMs) })
          } catch (err) {
            if (!isPeerId(t)) this.node.services.diagnostics?.dialFailed(t, err)
          }
        }))
      }
    } finally {
      this.redialing = false
    }
  }

  /**
   * One random walk: a DHT lookup of a random key; dials what it finds while
   * below target. The next walk comes after the base interval when this one
   * named a peer this one is not connected to, else after twice the last wait
   * (at most maxWalkIntervalMs).
   */
  async walk (): Promise<void> {
    if (this.walking || !this.belowTarget() || !isConnected(this.node)) return
    this.walking = true
    this.walks++
    let foundNew = false
    try {
      const signal = AbortSignal.timeout(RANDOM_WALK_TIMEOUT_MS)
      for await (const ev of this.node.services.dht.getClosestPeers(randomBytes(32), { signal })) {
        if (ev.name === 'PEER_RESPONSE') {
          for (const peer of ev.closer) {
            if (!peer.id.equals(this.node.peerId) && this.node.getConnections(peer.id).length === 0) foundNew = true
            if (!this.belowTarget()) { foundNew = true; return }
            this.maybeDial(peer.id)
          }
        }
      }
    } catch {
      // a walk that times out or finds nothing is not an error
      foundNew = true
    } finally {
      this.walking = false
      this.walkWaitMs = foundNew ? this.walkIntervalMs : Math.min(this.maxWalkIntervalMs, this.walkWaitMs * 2)
      this.nextWalkAt = Date.now() + this.walkWaitMs
    }
  }

  stop (): void {
    this.node.removeEventListener('peer:discovery', this.onDiscovery)
    this.node.removeEventListener('peer:disconnect', this.onDisconnect)
    clearInterval(this.timer)
    clearInterval(this.redialTimer)
  }
}
