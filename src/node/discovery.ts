/**
 * Peer discovery beyond bootstrap: dials peers that mDNS or the DHT discover
 * while this peer has fewer connections than its target, and runs DHT random
 * walks (a lookup of a random key) to find more.
 *
 * Owns only the decision to dial; never closes connections (the connection
 * manager prunes above its limit).
 */
import { randomBytes } from 'node:crypto'
import type { Libp2p, PeerInfo, Startable } from '@libp2p/interface'
import type { KadDHT } from '@libp2p/kad-dht'

/** How often a peer below its target walks the DHT. */
export const RANDOM_WALK_INTERVAL_MS = 10_000
/** Time limit for one random walk. */
export const RANDOM_WALK_TIMEOUT_MS = 5_000

export class PeerWalker implements Startable {
  private readonly node: Libp2p<{ dht: KadDHT }>
  private readonly targetPeers: number
  private timer?: ReturnType<typeof setInterval>
  private walking = false
  private readonly onDiscovery = (evt: CustomEvent<PeerInfo>): void => {
    const peer = evt.detail
    if (peer.id.equals(this.node.peerId) || !this.belowTarget()) return
    if (this.node.getConnections(peer.id).length > 0) return
    this.node.dial(peer.id).catch(() => {})
  }

  constructor (node: Libp2p<{ dht: KadDHT }>, targetPeers: number) {
    this.node = node
    this.targetPeers = targetPeers
  }

  private belowTarget (): boolean {
    return this.node.getPeers().length < this.targetPeers
  }

  start (): void {
    this.node.addEventListener('peer:discovery', this.onDiscovery)
    this.timer = setInterval(() => { void this.walk() }, RANDOM_WALK_INTERVAL_MS)
    this.timer.unref()
  }

  /** One random walk: a DHT lookup of a random key; dials what it finds while below target. */
  async walk (): Promise<void> {
    if (this.walking || !this.belowTarget() || this.node.getPeers().length === 0) return
    this.walking = true
    try {
      const signal = AbortSignal.timeout(RANDOM_WALK_TIMEOUT_MS)
      for await (const ev of this.node.services.dht.getClosestPeers(randomBytes(32), { signal })) {
        if (ev.name === 'PEER_RESPONSE') {
          for (const peer of ev.closer) {
            if (!this.belowTarget()) return
            if (!peer.id.equals(this.node.peerId) && this.node.getConnections(peer.id).length === 0) {
              this.node.dial(peer.id, { signal }).catch(() => {})
            }
          }
        }
      }
    } catch {
      // a walk that times out or finds nothing is not an error
    } finally {
      this.walking = false
    }
  }

  stop (): void {
    this.node.removeEventListener('peer:discovery', this.onDiscovery)
    clearInterval(this.timer)
  }
}
