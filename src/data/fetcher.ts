/**
 * data/fetcher: one verified block, from wherever it is — the local store,
 * the cache of fetched blocks, or the swarm (the closest known peers hedged
 * one after another, then a provider lookup, then a full lookup), one fetch
 * per block however many readers wait for it.
 *
 * Owns the cache, the in-flight fetches and the peers found lying (served
 * bytes not matching the CID: never asked again). Never returns a byte it has
 * not hashed against the CID, and never lets a fetch run past
 * FETCH_TIMEOUT_MS; a miss ends with a NotFoundError that says what the search
 * saw.
 */
import type { Logger, PeerId, Startable } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'
import { setMaxListeners } from 'node:events'
import { anySignal, deadline, raceAbort, untilAborted } from '../async/index.ts'
import { blockMatches } from './blocks.ts'
import { BlockCache } from './cache.ts'
import { CACHE_IDLE_MS, DEFAULT_CACHE_MAX_BYTES, FETCH_HEDGE_MS, FETCH_TIMEOUT_MS, LOOKUP_HEDGE_MS, MAX_BAD_PEERS, MAX_PROVIDERS } from './constants.ts'
import { NotFoundError, conclusiveMiss, type SearchSeen } from './errors.ts'
import { blockKadId, sortByDistance } from './placement.ts'
import type { PeerView } from './peer-view.ts'
import type { ShardClient } from './shard-client.ts'
import type { ShardStore } from './shard-store.ts'
import type { DataMetrics, DataServiceComponents } from './types.ts'

export type FetcherComponents = Pick<DataServiceComponents, 'peerId' | 'libp2p' | 'dht' | 'logger'>

export interface FetcherInit {
  store: ShardStore
  view: PeerView
  client: ShardClient
  metrics: DataMetrics
  /** Closest known peers asked before the provider lookup: where placement puts a block. */
  replicas: number
  /** @default DEFAULT_CACHE_MAX_BYTES */
  cacheMaxBytes?: number
}

export class Fetcher implements Startable {
  private readonly components: FetcherComponents
  private readonly log: Logger
  private readonly store: ShardStore
  private readonly view: PeerView
  private readonly client: ShardClient
  private readonly metrics: DataMetrics
  private readonly replicas: number
  private readonly cache: BlockCache
  private readonly inflight = new Map<string, Promise<Uint8Array>>()
  private shutdown = new AbortController()
  private sweeper?: ReturnType<typeof setInterval>

  constructor (components: FetcherComponents, init: FetcherInit) {
    this.components = components
    this.log = components.logger.forComponent('edgeswarm:data')
    this.store = init.store
    this.view = init.view
    this.client = init.client
    this.metrics = init.metrics
    this.replicas = init.replicas
    this.cache = new BlockCache(init.cacheMaxBytes ?? DEFAULT_CACHE_MAX_BYTES)
  }

  start (): void {
    this.shutdown = new AbortController()
    setMaxListeners(Infinity, this.shutdown.signal)
    // blocks unread for CACHE_IDLE_MS leave the cache, so an idle peer holds none
    this.sweeper = setInterval(() => { this.cache.sweep(Date.now() - CACHE_IDLE_MS) }, CACHE_IDLE_MS / 4)
    this.sweeper.unref()
  }

  /** Aborts the fetches in flight and empties the cache. */
  stop (): void {
    clearInterval(this.sweeper)
    this.shutdown.abort(new Error('data service stopped'))
    this.cache.clear()
  }

  /** One verified block: from the store, the cache, or fetched from a holder. */
  async get (cid: CID, signal?: AbortSignal): Promise<Uint8Array> {
    signal?.throwIfAborted()
    const local = await this.store.get(cid)
    if (local != null) return local
    const key = cid.toString()
    const cached = this.cache.get(key)
    if (cached != null) return cached
    let inflight = this.inflight.get(key)
    if (inflight == null) {
      // one fetch per block however many readers; it ends on its own deadline
      const started = performance.now()
      inflight = this.fetch(cid, this.shutdown.signal)
        .then(bytes => { this.cache.set(key, bytes); this.fetched(performance.now() - started); return bytes }, (err: unknown) => { this.metrics.fetchMisses++; throw err })
        .finally(() => this.inflight.delete(key))
      this.inflight.set(key, inflight)
    }
    if (signal == null) return inflight
    return raceAbort(inflight, signal)
  }

  /** Counts a swarm fetch that found its block after `ms`. */
  private fetched (ms: number): void {
    const m = this.metrics
    m.fetches++
    m.fetchMsTotal += ms
    m.fetchSeconds?.observe(ms / 1000)
  }

  /**
   * Finds a block in the swarm; the first peer that serves bytes matching the
   * CID wins (the other requests and the lookup are then cancelled):
   * 1. the peers closest to the key among those this peer knows (connected,
   *    or found by earlier lookups): where placement put the block, in a
   *    swarm this peer has seen enough of. One at a time, hedged: the next
   *    is asked when one has none, or has not answered in FETCH_HEDGE_MS;
   * 2. a provider lookup, once those all had none or after LOOKUP_HEDGE_MS:
   *    announced providers, and the peers it reaches that are closest to the
   *    key (the holders, before their announcements are out), each asked as
   *    soon as the lookup names it;
   * 3. when those are exhausted, a full lookup of the closest peers.
   * A slow peer is never waited for before the next search starts, so a few
   * silent peers cannot use up the deadline before the lookup begins; nor
   * does every fetch start everything at once, since the first peer asked
   * usually holds the block and a lookup costs dozens of DHT messages.
   */
  private async fetch (cid: CID, outer: AbortSignal): Promise<Uint8Array> {
    const limit = deadline(FETCH_TIMEOUT_MS)
    // ends the requests and lookups of the fetch once it has an answer (or none)
    const won = new AbortController()
    const signal = anySignal(outer, limit.signal, won.signal)
    try {
      return await this.fetchWithin(cid, outer, limit.signal, won, signal)
    } finally {
      limit.clear()
      won.abort()
      signal.clear()
    }
  }

  /**
   * `fetch`, ended by `timeUp` (FETCH_TIMEOUT_MS after it began) if nothing else ends it first;
   * `won` aborts once a peer served the block, and `signal` is what its requests run under.
   */
  private async fetchWithin (cid: CID, outer: AbortSignal, timeUp: AbortSignal, won: AbortController, signal: AbortSignal): Promise<Uint8Array> {
    const { peerId, dht, libp2p } = this.components
    const tried = new Set<string>([peerId.toString()])
    const asked: Array<Promise<void>> = []
    // what the search saw, for the error: a NotFoundError says why
    const seen: SearchSeen = { none: 0, failed: 0, providers: 0, lookup: 'not run', pending: 0, closestSaidNone: false }
    /** The peers asked, and which of them answered that they have none. */
    const askedPeers: PeerId[] = []
    const saidNone = new Set<string>()
    let found: ((bytes: Uint8Array) => void) | undefined
    const first = new Promise<Uint8Array>(resolve => { found = resolve })
    const ask = (peer: PeerId): Promise<void> => {
      const id = peer.toString()
      if (tried.has(id) || this.metrics.badPeers.has(id) || won.signal.aborted) return Promise.resolve()
      tried.add(id)
      askedPeers.push(peer)
      const request = this.askFor(cid, peer, signal).then(bytes => {
        if (bytes === 'none') saidNone.add(id)
        if (bytes === 'none' || bytes === 'failed') { seen[bytes]++; return }
        if (!won.signal.aborted) { won.abort(); found?.(bytes) }
      })
      asked.push(request)
      return request
    }
    /** Resolves when `request` ends or after `ms`, whichever is first (a hedge: the next search starts without cancelling it). */
    const hedge = async (request: Promise<unknown>, ms: number): Promise<void> => {
      let timer: ReturnType<typeof setTimeout> | undefined
      await Promise.race([request, new Promise(resolve => { timer = setTimeout(resolve, ms) })])
      clearTimeout(timer)
    }
    const settled = async (): Promise<void> => {
      // requests started while waiting are waited for too
      for (let n = 0; n < asked.length; n = asked.length) await Promise.all(asked.slice(n))
    }
    const key = blockKadId(cid)
    const search = async (): Promise<void> => {
      // the closest known peers one at a time, the next as soon as one has none or is slow
      const closest = (async () => {
        for (const peer of sortByDistance(key, this.view.peers()).slice(0, this.replicas)) {
          if (won.signal.aborted) return
          await hedge(ask(peer), FETCH_HEDGE_MS)
        }
      })()
      // the lookup once they all had none, or once they have been slow for a while
      await hedge(closest.then(settled), LOOKUP_HEDGE_MS)
      if (won.signal.aborted) return
      if (this.view.routingTableSize() > 0) {
        let providers = 0
        const responders: PeerId[] = []
        seen.lookup = 'running'
        for await (const ev of untilAborted(dht.findProviders(cid, { signal }), signal)) {
          if (ev.name === 'PEER_RESPONSE') {
            responders.push(ev.from)
            for (const peer of sortByDistance(key, responders).slice(0, this.replicas)) void ask(peer)
          } else if (ev.name === 'PROVIDER') {
            for (const info of ev.providers) {
              if (++providers > MAX_PROVIDERS) break
              if (info.multiaddrs.length > 0) {
                await libp2p.peerStore.merge(info.id, { multiaddrs: info.multiaddrs }).catch(() => {})
              }
              void ask(info.id)
            }
            seen.providers = Math.min(providers, MAX_PROVIDERS)
            if (providers > MAX_PROVIDERS) break
          }
        }
        seen.lookup = 'done'
      }
      await settled()
      if (won.signal.aborted) return
      for (const peer of await this.view.closest(cid, signal)) void ask(peer)
      await settled()
    }
    const searched = search().then(() => undefined, (err: unknown) => {
      if (won.signal.aborted) return undefined
      if (outer.aborted) throw err
      if (!timeUp.aborted) throw err
      return undefined
    })
    // the deadline ends the fetch even if a request or lookup does not stop when aborted:
    // every later reader of this block waits on this one fetch
    let onExpired: (() => void) | undefined
    const expired = new Promise<undefined>(resolve => {
      onExpired = () => { resolve(undefined) }
      if (timeUp.aborted) resolve(undefined)
      else timeUp.addEventListener('abort', onExpired, { once: true })
    })
    let bytes: Uint8Array | undefined
    try {
      bytes = await Promise.race([first, searched, expired])
    } finally {
      // the listener holds this fetch (and its bytes) until the deadline's timer fires
      if (onExpired != null) timeUp.removeEventListener('abort', onExpired)
    }
    if (bytes != null) return bytes
    outer.throwIfAborted()
    // the search ended without bytes; a request may have won as it ended
    if (won.signal.aborted) return await first
    seen.pending = Math.max(0, tried.size - 1 - seen.none - seen.failed)
    seen.closestSaidNone = askedPeers.length > 0 && sortByDistance(key, askedPeers).slice(0, this.replicas).every(p => saidNone.has(p.toString()))
    const what = `${tried.size - 1} peers asked: ${seen.none} have none, ${seen.failed} did not answer${seen.pending > 0 ? `, ${seen.pending} not answered yet` : ''}; ${seen.providers} providers announced; provider lookup ${seen.lookup}`
    throw new NotFoundError(timeUp.aborted
      ? `${cid.toString()} not found: no peer served it within ${FETCH_TIMEOUT_MS / 1000} s (${what})`
      : `${cid.toString()} not found: none of the peers asked holds it (${what})`, conclusiveMiss(seen))
  }

  /** One peer's copy of a block, checked against its CID; 'none' when it has none, 'failed' when it did not answer or lied. */
  private async askFor (cid: CID, peer: PeerId, signal: AbortSignal): Promise<Uint8Array | 'none' | 'failed'> {
    try {
      const reply = await this.client.request(peer, { op: 'get', cid }, undefined, signal)
      if (!reply.response.ok || reply.bytes == null) return 'none'
      if (!blockMatches(cid, reply.bytes)) {
        this.log('peer %p served wrong bytes for %s - marking it bad', peer, cid)
        const bad = this.metrics.badPeers
        if (bad.size >= MAX_BAD_PEERS) bad.delete(bad.values().next().value as string)
        bad.add(peer.toString())
        return 'failed'
      }
      return reply.bytes
    } catch {
      return 'failed'
    }
  }
}
