/**
 * data/placement: which peers are responsible for a block — the ones whose
 * Kademlia ids are closest by XOR to the block's key, exactly as kad-dht
 * computes them (key = sha256(multihash bytes), peer id = sha256(peer id
 * multihash bytes)). Pure; never looks anything up on the network.
 */
import type { PeerId } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'
import { sha256 } from './blocks.ts'

/** The Kademlia key of a block: sha256 of its multihash bytes (what kad-dht's provide/getClosestPeers use). */
export function blockKadId (cid: CID): Uint8Array {
  return sha256(cid.multihash.bytes)
}

/** The Kademlia id of a peer: sha256 of its peer id's multihash bytes. */
export function peerKadId (peer: PeerId): Uint8Array {
  return sha256(peer.toMultihash().bytes)
}

/** Compares the XOR distances of `a` and `b` to `target`: negative when a is closer. */
export function compareXor (target: Uint8Array, a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < target.byteLength; i++) {
    const da = a[i] ^ target[i]
    const db = b[i] ^ target[i]
    if (da !== db) return da - db
  }
  return 0
}

/** Peers sorted by XOR distance of their kad ids to `target`, closest first, duplicates removed. */
export function sortByDistance (target: Uint8Array, peers: Iterable<PeerId>): PeerId[] {
  const seen = new Set<string>()
  const withIds: Array<{ peer: PeerId, id: Uint8Array }> = []
  for (const peer of peers) {
    const key = peer.toString()
    if (seen.has(key)) continue
    seen.add(key)
    withIds.push({ peer, id: peerKadId(peer) })
  }
  withIds.sort((a, b) => compareXor(target, a.id, b.id))
  return withIds.map(p => p.peer)
}

/** The `n` peers closest to a block. */
export function closestPeers (cid: CID, peers: Iterable<PeerId>, n: number): PeerId[] {
  return sortByDistance(blockKadId(cid), peers).slice(0, n)
}

/** Indexes of the `n` ids closest to `target` by XOR, closest first: one pass, no full sort. */
export function closestIndexes (target: Uint8Array, ids: Uint8Array[], n: number): number[] {
  const best: number[] = []
  for (let k = 0; k < ids.length; k++) {
    if (best.length === n && compareXor(target, ids[k], ids[best[n - 1]]) >= 0) continue
    let at = best.length === n ? n - 1 : best.length
    while (at > 0 && compareXor(target, ids[k], ids[best[at - 1]]) < 0) { best[at] = best[at - 1]; at-- }
    best[at] = k
  }
  return best
}

