/**
 * node/routing-table-closest: the k closest peers of kad-dht's routing table to
 * a key, in one pass and a sort. kad-dht answers every FIND_NODE and
 * GET_PROVIDERS, and starts every lookup, with its table's closest peers; its
 * k-bucket inserts every peer of the table into a sorted list of k with a
 * linear duplicate check, O(n·k) per call. Here each XOR distance is computed
 * once and the list sorted: the same peers in the same order, since XOR
 * distances of distinct ids are distinct
 * (docs/decisions/node-routing-table-closest.md).
 *
 * Applied by wrapping the kad-dht factory, on edgeswarm's DHT instance only;
 * when kad-dht's internals are not what this expects it changes nothing.
 */
import type { PeerId } from '@libp2p/interface'

/** One entry of kad-dht's k-bucket trie. */
interface Contact {
  peerId: PeerId
  kadId: Uint8Array
}

/** The parts of kad-dht's k-bucket trie used here. */
interface KBucketLike {
  kBucketSize: number
  toIterable: () => Iterable<Contact>
}

/** The parts of kad-dht's RoutingTable replaced here. */
interface RoutingTableLike {
  kb?: KBucketLike
  closestPeers: (kadId: Uint8Array, options?: ClosestOptions) => PeerId[]
}

export interface ClosestOptions {
  /** How many peers at most. @default the table's bucket size (k) */
  count?: number
  /** Peers never returned. */
  exclude?: PeerId[]
}

function isRoutingTable (x: unknown): x is RoutingTableLike {
  return typeof x === 'object' && x != null && typeof (x as { closestPeers?: unknown }).closestPeers === 'function'
}

/** The `count` contacts closest to `key` by XOR distance, closest first. */
export function closestContacts (contacts: Iterable<Contact>, key: Uint8Array, count: number, exclude?: PeerId[]): PeerId[] {
  const scored: Array<{ peer: PeerId, distance: Buffer }> = []
  for (const c of contacts) {
    if (exclude != null && exclude.some(p => p.equals(c.peerId))) continue
    const distance = Buffer.allocUnsafe(key.length)
    for (let i = 0; i < key.length; i++) distance[i] = key[i] ^ c.kadId[i]
    scored.push({ peer: c.peerId, distance })
  }
  scored.sort((a, b) => Buffer.compare(a.distance, b.distance))
  return scored.slice(0, Math.max(0, count)).map(s => s.peer)
}

/** Wraps the kad-dht factory so that its routing table finds closest peers with closestContacts. */
export function withFastClosest<C, T extends object> (factory: (components: C) => T): (components: C) => T {
  return (components) => {
    const service = factory(components)
    const table = (service as { routingTable?: unknown }).routingTable
    if (isRoutingTable(table)) {
      const original = table.closestPeers.bind(table)
      table.closestPeers = (kadId, options) => {
        const kb = table.kb
        if (kb == null || typeof kb.toIterable !== 'function' || typeof kb.kBucketSize !== 'number') return original(kadId, options)
        return closestContacts(kb.toIterable(), kadId, options?.count ?? kb.kBucketSize, options?.exclude)
      }
    }
    return service
  }
}
