/**
 * data/peer-view: the peers this peer places blocks on and searches first —
 * those it is connected to and those recent DHT lookups found — and
 * `closest`, that view sorted by XOR distance to a block, with the DHT asked
 * only when the view cannot stand for the swarm.
 *
 * Owns the remembered peers, the small-swarm view and the cache of peers'
 * Kademlia ids. Never sends a shard-protocol message and never reads a
 * lookup past LOOKUP_TIMEOUT_MS.
 */
import type { PeerId } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'
import { anySignal, deadline, untilAborted } from '../async/index.ts'
import { connectedPeerCount, connectedPeers } from '../node/index.ts'
import { KAD_ID_CACHE_MAX, KNOWN_PEERS_MAX, KNOWN_PEER_TTL_MS, LOOKUP_TIMEOUT_MS, SWARM_VIEW_TTL_MS } from './constants.ts'
import { blockKadId, compareXor, peerKadId, sortByDistance } from './placement.ts'
import type { DataServiceComponents } from './types.ts'

export type PeerViewComponents = Pick<DataServiceComponents, 'peerId' | 'libp2p' | 'dht'>

export class PeerView {
  private readonly components: PeerViewComponents
  /** Peers recent lookups found, by id: the view placement sorts locally once it is large. */
  private readonly known = new Map<string, { peer: PeerId, at: number }>()
  /** When a lookup last found fewer than k peers: every reachable peer, so the view is the whole swarm. */
  private smallSwarmAt?: number
  private readonly kadIds = new Map<string, Uint8Array>()

  constructor (components: PeerViewComponents) {
    this.components = components
  }

  /** Connected peers and those remembered from recent lookups, each once. */
  peers (): PeerId[] {
    const out = new Map<string, PeerId>()
    for (const p of connectedPeers(this.components.libp2p)) out.set(p.toString(), p)
    for (const [id, entry] of this.known) if (!out.has(id)) out.set(id, entry.peer)
    return [...out.values()]
  }

  /** Remembers peers a lookup found (this peer excepted) for KNOWN_PEER_TTL_MS. */
  remember (found: PeerId[]): void {
    const now = Date.now()
    for (const peer of found) {
      if (peer.equals(this.components.peerId)) continue
      const key = peer.toString()
      // re-inserted, so the map runs oldest first and the oldest go past the bound
      this.known.delete(key)
      this.known.set(key, { peer, at: now })
    }
    for (const key of this.known.keys()) {
      if (this.known.size <= KNOWN_PEERS_MAX) break
      this.known.delete(key)
    }
  }

  /** Peers in the DHT's routing table (connected peers when it does not say): none means no lookup can run. */
  routingTableSize (): number {
    return this.components.dht.routingTable?.size ?? connectedPeerCount(this.components.libp2p)
  }

  /**
   * This peer, connected peers and the DHT's closest peers to a block's key,
   * closest first. A lookup per block is the expensive part of placement, so
   * the peers lookups found are remembered for KNOWN_PEER_TTL_MS, and a
   * lookup that returns fewer than k peers (a small swarm, seen whole) is
   * reused for SWARM_VIEW_TTL_MS. In a larger swarm, once the view (connected
   * and remembered peers) holds k peers, blocks are placed by sorting it
   * locally; a closer peer missed that way is corrected by repair and by the
   * block's announcement. The view counts connected peers too, so a busy
   * swarm whose lookups time out short of k does not look up again for every
   * block (each lookup making it busier). With `lookup` (a file's root: one
   * per put, and what every reader fetches first) the DHT is asked anyway: a
   * partial view places a block where readers' lookups do not end.
   */
  async closest (cid: CID, signal: AbortSignal, lookup = false): Promise<PeerId[]> {
    const { peerId, dht } = this.components
    const now = Date.now()
    for (const [id, entry] of this.known) if (now - entry.at > KNOWN_PEER_TTL_MS) this.known.delete(id)
    const smallSwarm = this.smallSwarmAt != null && now - this.smallSwarmAt < SWARM_VIEW_TTL_MS
    // sortByDistance drops duplicates
    const known = this.peers()
    if (smallSwarm || (!lookup && known.length >= dht.k)) {
      return sortByDistance(blockKadId(cid), [peerId, ...known])
    }
    if (this.routingTableSize() > 0) {
      const limit = deadline(LOOKUP_TIMEOUT_MS)
      const s = anySignal(signal, limit.signal)
      const found: PeerId[] = []
      try {
        for await (const ev of untilAborted(dht.getClosestPeers(cid.multihash.bytes, { signal: s }), s)) {
          if (ev.name === 'FINAL_PEER') found.push(ev.peer.id)
        }
        if (found.length < dht.k) this.smallSwarmAt = Date.now()
      } catch (err) {
        if (signal.aborted) throw err
        // the lookup timed out: what it found is used
      } finally {
        limit.clear()
        s.clear()
      }
      this.remember(found)
    }
    return sortByDistance(blockKadId(cid), [peerId, ...this.peers()])
  }

  /** Whether fewer than `n` peers of the view are closer to `key` than this peer (no sort, no lookup). */
  amongClosest (key: Uint8Array, n: number): boolean {
    const self = this.kadIdOf(this.components.peerId)
    let closer = 0
    for (const peer of this.peers()) {
      if (compareXor(key, this.kadIdOf(peer), self) < 0 && ++closer >= n) return false
    }
    return true
  }

  /** A peer's Kademlia id, cached by peer id string (bounded: cleared past KAD_ID_CACHE_MAX). */
  kadIdOf (peer: PeerId): Uint8Array {
    const key = peer.toString()
    let id = this.kadIds.get(key)
    if (id == null) {
      if (this.kadIds.size >= KAD_ID_CACHE_MAX) this.kadIds.clear()
      id = peerKadId(peer)
      this.kadIds.set(key, id)
    }
    return id
  }
}
