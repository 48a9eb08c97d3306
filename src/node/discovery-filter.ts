/**
 * node/discovery-filter: passes on a peer-discovery service's `peer` events
 * at most once per peer per `ttlMs`.
 *
 * kad-dht reports every peer named in every DHT answer as discovered (up to
 * k = 20 per answer), and libp2p merges each report into the peer store
 * under the store's lock. In a swarm of hundreds the same peers are reported
 * thousands of times a minute; on a host of 100 simulated peers the merges
 * and their locks were a sixth of the CPU. The DHT's own use of those
 * answers (its queries, its routing table) is untouched: only libp2p's
 * discovery wiring (peer store, `peer:discovery`) sees the filtered stream.
 */
import { peerDiscoverySymbol, type PeerInfo } from '@libp2p/interface'

/** Most peers remembered (the map is cleared beyond it). */
const MAX_REMEMBERED = 10_000

/** Which peer reports passed within the last ttlMs: the gate both wirings below share. */
class RecentReports {
  readonly #seen = new Map<string, number>()
  readonly #ttlMs: number

  constructor (ttlMs: number) {
    this.#ttlMs = ttlMs
  }

  /** True when this peer with these addresses did not pass within the last ttlMs; records that it passes now. */
  fresh (info: PeerInfo, now = Date.now()): boolean {
    const key = `${info.id.toString()} ${info.multiaddrs.map(a => a.toString()).join(' ')}`
    const last = this.#seen.get(key)
    if (last != null && now - last < this.#ttlMs) return false
    if (this.#seen.size >= MAX_REMEMBERED) this.#seen.clear()
    this.#seen.set(key, now)
    return true
  }
}

/** The filtered stream: an EventTarget with `peer` events, what libp2p subscribes to. */
export class DiscoveryFilter extends EventTarget {
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

/** Wraps the kad-dht factory so that the peers its answers name are announced once per ttlMs (see above). */
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
