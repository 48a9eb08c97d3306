/**
 * data/holder-survey: which peers hold each of many blocks now (`stat`).
 * Each block's candidates are its closest peers in this peer's view (every
 * peer of a small swarm); each candidate is asked once about all its blocks
 * with batched `has` requests, all candidates at once (bounded); only when the
 * view did not cover the swarm, a few blocks found short get a provider
 * lookup. So a file of many shards costs a request per peer, not a lookup per
 * shard.
 *
 * Never trusts an answer for more than it says (a `has`), and never runs more
 * than STAT_MAX_LOOKUPS lookups for one survey.
 */
import type { PeerId } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'
import { anySignal, deadline, forEachLimit, untilAborted } from '../async/index.ts'
import {
  LOOKUP_TIMEOUT_MS, MAX_HAS_BATCH, STAT_EXTRA_CANDIDATES, STAT_LOOKUP_CONCURRENCY, STAT_MAX_LOOKUPS, STAT_PEER_CONCURRENCY
} from './constants.ts'
import { blockKadId, closestIndexes, sortByDistance } from './placement.ts'
import { decodeBits, encodeCidList } from './protocol.ts'
import type { PeerView } from './peer-view.ts'
import type { ShardClient } from './shard-client.ts'
import type { ShardStore } from './shard-store.ts'
import type { DataServiceComponents } from './types.ts'

export type HolderSurveyComponents = Pick<DataServiceComponents, 'peerId' | 'dht'>

export interface HolderSurveyInit {
  view: PeerView
  client: ShardClient
  store: ShardStore
}

/** How far a survey has got: peer-block pairs answered (or given up on) of those asked. */
export interface SurveyProgress {
  checked: number
  total: number
}

export class HolderSurvey {
  private readonly components: HolderSurveyComponents
  private readonly view: PeerView
  private readonly client: ShardClient
  private readonly store: ShardStore

  constructor (components: HolderSurveyComponents, init: HolderSurveyInit) {
    this.components = components
    this.view = init.view
    this.client = init.client
    this.store = init.store
  }

  /** The live holders of each block (this peer included), closest first, by CID string. */
  async holders (cids: CID[], replicas: number, signal: AbortSignal, onProgress?: (p: SurveyProgress) => void): Promise<Map<string, string[]>> {
    const self = this.components.peerId
    // one lookup at most, to fill a view that cannot stand for the swarm yet
    if (cids.length > 0) await this.view.closest(cids[0], signal)
    const others = this.view.peers().filter(p => !p.equals(self))
    const perBlock = replicas + STAT_EXTRA_CANDIDATES
    const whole = others.length + 1 <= perBlock
    const ids = others.map(p => this.view.kadIdOf(p))
    const asks = new Map<string, { peer: PeerId, cids: CID[] }>()
    const held = new Map<string, Set<string>>()
    for (const cid of cids) {
      const key = cid.toString()
      const mine = new Set<string>()
      if (this.store.has(cid)) mine.add(self.toString())
      held.set(key, mine)
      const candidates = whole ? others : closestIndexes(blockKadId(cid), ids, perBlock).map(i => others[i])
      for (const peer of candidates) {
        const id = peer.toString()
        let ask = asks.get(id)
        if (ask == null) { ask = { peer, cids: [] }; asks.set(id, ask) }
        ask.cids.push(cid)
      }
    }
    const progress: SurveyProgress = { checked: 0, total: 0 }
    for (const ask of asks.values()) progress.total += ask.cids.length
    onProgress?.({ ...progress })
    await forEachLimit(asks.values(), STAT_PEER_CONCURRENCY, async ({ peer, cids: theirs }) => {
      for (let at = 0; at < theirs.length; at += MAX_HAS_BATCH) {
        if (signal.aborted) return
        const batch = theirs.slice(at, at + MAX_HAS_BATCH)
        const answers = await this.hasMany(peer, batch, signal)
        answers?.forEach((has, i) => { if (has) held.get(batch[i].toString())?.add(peer.toString()) })
        progress.checked += batch.length
        onProgress?.({ ...progress })
        // a peer that did not answer is asked nothing more: it is no live holder
        if (answers == null) { progress.checked += theirs.length - at - batch.length; break }
      }
    })
    signal.throwIfAborted()
    const known = new Map<string, PeerId>([[self.toString(), self], ...others.map(p => [p.toString(), p] as const)])
    if (!whole) await this.lookUpShort(cids, replicas, held, known, signal)
    const out = new Map<string, string[]>()
    for (const cid of cids) {
      const holders = [...held.get(cid.toString()) ?? []].map(id => known.get(id)).filter((p): p is PeerId => p != null)
      out.set(cid.toString(), sortByDistance(blockKadId(cid), holders).map(p => p.toString()))
    }
    return out
  }

  /** One peer's answers for a batch, or undefined when it did not answer. */
  private async hasMany (peer: PeerId, cids: CID[], signal: AbortSignal): Promise<boolean[] | undefined> {
    try {
      const reply = await this.client.request(peer, { op: 'has-many', count: cids.length }, encodeCidList(cids), signal)
      if (!reply.response.ok || reply.bytes == null) return undefined
      return decodeBits(reply.bytes, cids.length)
    } catch {
      return undefined
    }
  }

  /** Provider lookups for blocks short of `replicas` holders (at most STAT_MAX_LOOKUPS), each provider found asked `has`. */
  private async lookUpShort (cids: CID[], replicas: number, held: Map<string, Set<string>>, known: Map<string, PeerId>, signal: AbortSignal): Promise<void> {
    if (this.view.routingTableSize() === 0) return
    const short = cids.filter(c => (held.get(c.toString())?.size ?? 0) < replicas).slice(0, STAT_MAX_LOOKUPS)
    await forEachLimit(short, STAT_LOOKUP_CONCURRENCY, async cid => {
      if (signal.aborted) return
      const holders = held.get(cid.toString()) ?? new Set<string>()
      const limit = deadline(LOOKUP_TIMEOUT_MS)
      const s = anySignal(signal, limit.signal)
      const asked: Array<Promise<void>> = []
      try {
        for await (const ev of untilAborted(this.components.dht.findProviders(cid, { signal: s }), s)) {
          if (ev.name !== 'PROVIDER') continue
          for (const info of ev.providers) {
            const id = info.id.toString()
            if (holders.has(id) || info.id.equals(this.components.peerId)) continue
            known.set(id, info.id)
            asked.push(this.hasMany(info.id, [cid], s).then(a => { if (a?.[0] === true) holders.add(id) }))
          }
        }
      } catch {
        // the lookup timed out: the providers it named are asked anyway
      } finally {
        await Promise.all(asked)
        limit.clear()
        s.clear()
      }
    })
  }
}
