/**
 * node/discovery-filter: passes on the peers a DHT answer names at most once
 * per peer and address set per `ttlMs`. kad-dht announces every peer of every
 * answer to its routing-table update queue and to libp2p's discovery wiring
 * (a peer-store merge under the store's lock, `peer:discovery`), and in a
 * large swarm every answer names mostly the same peers again
 * (docs/decisions/node-discovery-filter.md).
 *
 * Owns only the thinning of those announcements; never touches kad-dht's
 * queries, which still use every answer in full.
 */
import { peerDiscoverySymbol, type PeerInfo } from '@libp2p/interface'

/** Most peers remembered (the map is cleared beyond it). */
const MAX_REMEMBERED = 10_000

/** Which peer reports passed within the last ttlMs: the gate both wirings below share. */
class RecentReports {
  private readonly seen = new Map<string, number>()
  private readonly ttlMs: number

  constructor (ttlMs: number) {
    this.ttlMs = ttlMs
  }

  /** True when this peer with these addresses did not pass within the last ttlMs; records that it passes now. */
  fresh (info: PeerInfo, now = Date.now()): boolean {
    const key = `${info.id.toString()} ${info.multiaddrs.map(a => a.toString()).join(' ')}`
    const last = this.seen.get(key)
    if (last != null && now - last < this.ttlMs) return false
    if (this.seen.size >= MAX_REMEMBERED) this.seen.clear()
    this.seen.set(key, now)
    return true
  }
}

/** The filtered stream: an EventTarget with `peer` events, what libp2p subscribes to. */
class DiscoveryFilter extends EventTarget {
  constructor (source: EventTarget, ttlMs: number) {
    super()
    const gate = new RecentReports(ttlMs)
    source.addEventListener('peer', (evt) => {
      const info = (evt as CustomEvent<PeerInfo>).detail
      if (gate.fresh(info)) this.dispatchEvent(new CustomEvent('peer', { detail: info }))
    })
  }
}

/** kad-dht's network layer, where answers' peers are announced (`safeDispatchEvent('peer', …)`). */
interface AnnouncingNetwork {
  safeDispatchEvent: (type: string, detail?: { detail?: unknown }) => boolean
}

function isAnnouncingNetwork (x: unknown): x is AnnouncingNetwork {
  return typeof x === 'object' && x != null && typeof (x as { safeDispatchEvent?: unknown }).safeDispatchEvent === 'function'
}

/** Wraps the kad-dht factory so that the peers its answers name are announced once per ttlMs. */
export function withDiscoveryFilter<C, T extends object> (factory: (components: C) => T, ttlMs: number): (components: C) => T {
  return (components) => {
    const service = factory(components)
    const network = (service as { network?: unknown }).network
    if (isAnnouncingNetwork(network)) {
      const gate = new RecentReports(ttlMs)
      const dispatch = network.safeDispatchEvent.bind(network)
      network.safeDispatchEvent = (type, detail) => {
        const info = detail?.detail as PeerInfo | undefined
        if (type === 'peer' && info?.id != null && !gate.fresh(info)) return true
        return dispatch(type, detail)
      }
      return service
    }
    const source = (service as Record<symbol, unknown>)[peerDiscoverySymbol]
    if (source instanceof EventTarget) {
      Object.defineProperty(service, peerDiscoverySymbol, { value: new DiscoveryFilter(source, ttlMs), configurable: true })
    }
    return service
  }
}
