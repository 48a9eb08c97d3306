/**
 * data/data-service: the data layer of a peer — put (shard, store, place on
 * the closest peers), get (local, cache, then holders; verified, streamed),
 * stat, ls, the shard protocol's serving side, the repair loop and the
 * provider re-announcements.
 *
 * Owns the policy: who holds what, when to copy, whom to distrust. Never
 * trusts a byte from the network before `blocks.verifyBlock`, never stores
 * more for others than `storageMax`, never blocks a put on a DHT
 * announcement, and never lets a lookup run unbounded.
 */
import { setMaxListeners } from 'node:events'
import type { Logger, PeerId, Startable } from '@libp2p/interface'
import { MemoryDatastore } from 'datastore-core'
import type { Blockstore } from 'interface-blockstore'
import type { Datastore } from 'interface-datastore'
import type { CID } from 'multiformats/cid'
import PQueue from 'p-queue'
import { anySignal, deadline, forEachLimit, mapOrdered, raceAbort, untilAborted } from '../async/index.ts'
import { connectedPeerCount, connectedPeers, type EdgePeer } from '../node/index.ts'
import { blockMatches, cidOf, decodeManifest, encodeManifest, endsWithNewline, parseCid, DAG_CBOR_CODE, RAW_CODE, type Manifest, type ShardRef } from './blocks.ts'
import { BlockCache } from './cache.ts'
import { checkChunkSize, chunk, type ByteSource } from './chunker.ts'
import {
  DEFAULT_CACHE_MAX_BYTES, DEFAULT_CHUNK_SIZE, DEFAULT_REPAIR_INTERVAL_MS, DEFAULT_REPLICAS,
  DEFAULT_PROVIDE_RATE_PER_S, DEFAULT_REPROVIDE_INTERVAL_MS, DEFAULT_STORAGE_MAX, KNOWN_PEER_TTL_MS, FIND_TIMEOUT_MS, GET_PREFETCH, INBOUND_TIMEOUT_MS,
  LOOKUP_TIMEOUT_MS, MAX_BLOCK_SIZE, MAX_PROVIDERS, MAX_REPLICAS, MAX_STREAMS_PER_CONNECTION,
  PROVIDE_ATTEMPTS, PROVIDE_CONCURRENCY, PROVIDE_QUEUE_MAX, PROVIDE_RETRY_MS, PROVIDE_TIMEOUT_MS, PUT_CONCURRENCY, REPAIR_CONCURRENCY, REPAIR_JITTER,
  REQUEST_TIMEOUT_MS, SHARD_PROTOCOL, STAT_CONCURRENCY, SWARM_VIEW_TTL_MS, PROVIDE_QUIET_MS, PROVIDE_MAX_DELAY_MS,
  ROOT_PROVIDE_PRIORITY, FETCH_HEDGE_MS, KAD_ID_CACHE_MAX, LOOKUP_HEDGE_MS, PLACEMENT_CANDIDATES_PER_REPLICA
} from './constants.ts'
import { InvalidCidError, InvalidManifestError, InvalidRangeError, NotFoundError, ReplicasError, StorageFullError, conclusiveMiss, type SearchSeen } from './errors.ts'
import { blockKadId, compareXor, peerKadId, sortByDistance } from './placement.ts'
import { requestShard, serveShardStream, type ShardReply, type ShardRequest, type ShardResponse, type ShardServer } from './protocol.ts'
import { ShardStore } from './shard-store.ts'

export interface DataServiceInit {
  /** Where this peer's blocks live (blockstore-level under `<repo>/blocks` for a daemon). */
  blockstore: Blockstore
  /** Bytes accepted for other peers' pushes; a full peer refuses with `storage-full`. @default DEFAULT_STORAGE_MAX */
  storageMax?: number
  /** Peers that hold each shard and root. @default DEFAULT_REPLICAS */
  replicas?: number
  /** Shard size in bytes, MIN_CHUNK_SIZE..MAX_CHUNK_SIZE. @default DEFAULT_CHUNK_SIZE */
  chunkSize?: number
  /** Period of the repair loop (ms). @default DEFAULT_REPAIR_INTERVAL_MS */
  repairIntervalMs?: number
  /** Provider announcements started per second at most (fractions allowed: 0.25 = one every 4 s). @default DEFAULT_PROVIDE_RATE_PER_S */
  provideRatePerSecond?: number
  /** Period of the provider re-announcements (ms). @default DEFAULT_REPROVIDE_INTERVAL_MS */
  reprovideIntervalMs?: number
  /** Bound of the in-memory cache of fetched blocks. @default DEFAULT_CACHE_MAX_BYTES */
  cacheMaxBytes?: number
  /** Index of held blocks and of the roots this peer put; in memory when absent. */
  datastore?: Datastore
  /** TEST-ONLY: serve blocks with a flipped byte, to exercise verification. */
  corruptOnServe?: boolean
}

export type PutProgressEvent =
  | { type: 'shard', index: number, cid: string, size: number, holders: number, shardsDone: number, bytesDone: number }
  | { type: 'done', cid: string, size: number, shards: number, replicas: number, minHolders: number, underReplicated: boolean }

export interface PutOptions {
  /** @default the service's `replicas` */
  replicas?: number
  /** @default the service's `chunkSize` */
  chunkSize?: number
  signal?: AbortSignal
  onProgress?: (ev: PutProgressEvent) => void
}

export interface GetOptions {
  signal?: AbortSignal
  /** First byte to return. @default 0 */
  offset?: number
  /** Bytes to return from `offset`. @default to the end */
  length?: number
}

export interface StatOptions {
  signal?: AbortSignal
  /** Replica target to judge against; @default the one recorded when this peer holds the root, else the service's */
  replicas?: number
}

export interface ShardStat {
  cid: string
  size: number
  /** Peers that answered `has` with yes just now (this peer included). */
  holders: string[]
}

export interface FileStat {
  cid: string
  size: number
  chunkSize: number
  shards: ShardStat[]
  /** Live holders of the root block. */
  rootHolders: string[]
  replicas: number
  underReplicated: boolean
}

export interface RootListing {
  cid: string
  size: number
  shards: number
  createdAt: number
}

export interface RepairReport {
  /** Blocks checked. */
  checked: number
  /** Copies made: block and the peer that received it. */
  copies: Array<{ cid: string, peer: string }>
  /** Blocks still below their replica count after the pass. */
  underReplicated: string[]
  durationMs: number
}

export interface DataMetrics {
  /** Block bytes sent (pushes and served gets). */
  bytesSent: number
  /** Block bytes received (fetched and accepted pushes). */
  bytesReceived: number
  /** Peers that served bytes not matching the CID; avoided afterwards. */
  badPeers: Set<string>
  /** Provider announcements completed. */
  provides: number
  /** Blocks kept from facts as one of their closest peers (see adoptBlock). */
  adopted: number
}

interface ReplicateResult { holders: PeerId[], copied: PeerId[] }

function checkReplicas (n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > MAX_REPLICAS) {
    throw new ReplicasError(`replicas must be an integer from 1 to ${MAX_REPLICAS}, got ${n}`)
  }
  return n
}

export class DataService implements Startable {
  readonly metrics: DataMetrics = { bytesSent: 0, bytesReceived: 0, badPeers: new Set(), provides: 0, adopted: 0 }
  readonly #kadIds = new Map<string, Uint8Array>()
  readonly #node: EdgePeer
  readonly #store: ShardStore
  readonly #cache: BlockCache
  readonly #replicas: number
  readonly #chunkSize: number
  readonly #repairIntervalMs: number
  readonly #reprovideIntervalMs: number
  readonly #corruptOnServe: boolean
  readonly #log: Logger
  readonly #provideQueue: PQueue
  readonly #providing = new Set<string>()
  /** Blocks announced by this peer, or by the peer that pushed them here with `announce: false`. */
  readonly #provided = new Set<string>()
  readonly #inflight = new Map<string, Promise<Uint8Array>>()
  #shutdown = new AbortController()
  #repairTimer?: ReturnType<typeof setTimeout>
  #reprovideTimer?: ReturnType<typeof setTimeout>
  #repairing?: Promise<RepairReport>
  #started = false
  #swarmView?: { peers: PeerId[], at: number }
  /** Peers recent lookups found, by id: the view placement sorts locally once it is large. */
  readonly #known = new Map<string, { peer: PeerId, at: number }>()
  #provideTimer?: ReturnType<typeof setTimeout>
  #provideHeldSince?: number

  constructor (node: EdgePeer, init: DataServiceInit) {
    this.#node = node
    this.#replicas = checkReplicas(init.replicas ?? DEFAULT_REPLICAS)
    this.#chunkSize = checkChunkSize(init.chunkSize ?? DEFAULT_CHUNK_SIZE)
    this.#repairIntervalMs = init.repairIntervalMs ?? DEFAULT_REPAIR_INTERVAL_MS
    this.#reprovideIntervalMs = init.reprovideIntervalMs ?? DEFAULT_REPROVIDE_INTERVAL_MS
    const provideRate = init.provideRatePerSecond ?? DEFAULT_PROVIDE_RATE_PER_S
    if (!(provideRate > 0) || !Number.isFinite(provideRate)) throw new RangeError(`provideRatePerSecond must be a positive number, got ${provideRate}`)
    // a rate below 1/s is one start per 1/rate seconds
    this.#provideQueue = new PQueue({ concurrency: PROVIDE_CONCURRENCY, intervalCap: Math.max(1, Math.round(provideRate)), interval: provideRate >= 1 ? 1000 : Math.round(1000 / provideRate) })
    this.#corruptOnServe = init.corruptOnServe === true
    this.#cache = new BlockCache(init.cacheMaxBytes ?? DEFAULT_CACHE_MAX_BYTES)
    this.#store = new ShardStore(init.blockstore, init.datastore ?? new MemoryDatastore(), init.storageMax ?? DEFAULT_STORAGE_MAX)
    this.#log = node.logger.forComponent('edgeswarm:data')
  }

  // ---------------------------------------------------------------- lifecycle

  async start (): Promise<void> {
    if (this.#started) return
    this.#shutdown = new AbortController()
    setMaxListeners(Infinity, this.#shutdown.signal)
    await this.#store.open()
    await this.#node.handle(SHARD_PROTOCOL, (stream, connection) => {
      serveShardStream(stream, connection.remotePeer.toString(), this.#server, INBOUND_TIMEOUT_MS)
        .catch(err => { this.#log.error('shard stream failed - %e', err) })
    }, {
      maxInboundStreams: MAX_STREAMS_PER_CONNECTION,
      maxOutboundStreams: MAX_STREAMS_PER_CONNECTION
    })
    this.#started = true
    this.#scheduleRepair()
    this.#scheduleReprovide()
    // announce what survived a restart
    for (const entry of this.#store.entries()) this.#enqueueProvide(entry.cid)
  }

  async stop (): Promise<void> {
    if (!this.#started) return
    this.#started = false
    clearTimeout(this.#repairTimer)
    clearTimeout(this.#reprovideTimer)
    clearTimeout(this.#provideTimer)
    this.#shutdown.abort(new Error('data service stopped'))
    this.#provideQueue.clear()
    this.#providing.clear()
    try {
      await this.#node.unhandle(SHARD_PROTOCOL)
    } catch {
      // the node may already be stopping
    }
    await this.#repairing?.catch(() => {})
    this.#cache.clear()
  }

  /** Resolves when the background provider announcements have drained. */
  async whenProvided (): Promise<void> {
    while (this.#provideQueue.isPaused && this.#provideQueue.size > 0) await new Promise(resolve => setTimeout(resolve, 50))
    await this.#provideQueue.onIdle()
  }

  // ---------------------------------------------------------------- put

  /** Copies of each block this peer places by default. */
  get replicas (): number {
    return this.#replicas
  }

  async put (content: ByteSource, options: PutOptions = {}): Promise<CID> {
    const replicas = checkReplicas(options.replicas ?? this.#replicas)
    const chunkSize = checkChunkSize(options.chunkSize ?? this.#chunkSize)
    const signal = anySignal(options.signal, this.#shutdown.signal)
    const shards: ShardRef[] = []
    let bytesDone = 0
    let minHolders = Infinity
    const placed = mapOrdered(chunk(content, chunkSize), PUT_CONCURRENCY, async (bytes, stop) => {
      const cid = cidOf(bytes)
      await this.#store.put(cid, bytes, { forOthers: false, replicas })
      this.#enqueueProvide(cid)
      const { holders } = await this.#replicate(cid, replicas, async () => bytes, anySignal(signal, stop), { announcedBySender: true })
      return { cid, size: bytes.byteLength, nl: endsWithNewline(bytes), holders: holders.length }
    })
    for await (const shard of placed) {
      shards.push({ cid: shard.cid, size: shard.size, nl: shard.nl })
      bytesDone += shard.size
      minHolders = Math.min(minHolders, shard.holders)
      options.onProgress?.({ type: 'shard', index: shards.length - 1, cid: shard.cid.toString(), size: shard.size, holders: shard.holders, shardsDone: shards.length, bytesDone })
    }
    const root = encodeManifest({ size: bytesDone, chunkSize, shards })
    if (root.bytes.byteLength > MAX_BLOCK_SIZE) {
      throw new InvalidManifestError(`root object of ${root.bytes.byteLength} bytes exceeds ${MAX_BLOCK_SIZE}; use a larger chunk size`)
    }
    await this.#store.put(root.cid, root.bytes, { forOthers: false, replicas })
    // the root is what every reader asks for first: announced before any queued shard,
    // and placed on the closest peers a lookup finds, where readers' lookups end
    this.#enqueueProvide(root.cid, false, 1, ROOT_PROVIDE_PRIORITY)
    const { holders } = await this.#replicate(root.cid, replicas, async () => root.bytes, signal, { announcedBySender: true, lookup: true })
    minHolders = Math.min(minHolders, holders.length)
    await this.#store.addRoot(root.cid, { size: bytesDone, shards: shards.length, createdAt: Date.now() })
    options.onProgress?.({
      type: 'done',
      cid: root.cid.toString(),
      size: bytesDone,
      shards: shards.length,
      replicas,
      minHolders,
      underReplicated: minHolders < replicas
    })
    return root.cid
  }

  /**
   * Stores one small block (at most MAX_BLOCK_SIZE bytes, no manifest: its
   * CID is `cidOf(bytes)`, and `getShard` reads it) here only, as this
   * peer's own, unannounced until the hourly reprovide. For blocks every
   * peer also receives inside a signed fact (a job's batch of inline task
   * results): the peers closest to the block keep their copies from the
   * fact (`adoptBlock`), so none is pushed. Pushing each batch to its
   * closest peers was three shard streams per result fact (and a lookup
   * whenever the swarm view was older than 5 s): in the 50 ms-task
   * benchmark, 158 of a job's 178 shard streams.
   */
  async keepBlock (bytes: Uint8Array): Promise<CID> {
    if (bytes.byteLength > MAX_BLOCK_SIZE) throw new RangeError(`a block of ${bytes.byteLength} bytes exceeds ${MAX_BLOCK_SIZE}; use put`)
    const cid = cidOf(bytes)
    await this.#store.put(cid, bytes, { forOthers: false, replicas: this.#replicas })
    this.#provided.add(cid.toString())
    return cid
  }

  /**
   * Keeps a block that reached this peer other than over the shard protocol
   * (inside a signed fact every peer receives) when this peer is among the
   * `replicas` closest to it in its own view (itself, connected and
   * remembered peers; no lookup): the block ends where placement puts it
   * and readers search with no transfer, since the peers closest to it in
   * the whole swarm are the closest in their own views too (a peer that
   * sees only part of the swarm may keep a spare copy). `load` is called
   * only then, and its bytes must hash to `cid`. Held for others, within
   * `storageMax`, announced at the hourly reprovide. Resolves whether this
   * peer holds the block now; never throws for a bad or oversized block.
   */
  async adoptBlock (cidOrString: CID | string, load: () => Uint8Array | undefined, options: { replicas?: number } = {}): Promise<boolean> {
    let cid: CID
    try { cid = parseCid(cidOrString) } catch { return false }
    if (this.#store.has(cid)) return true
    const replicas = Math.min(MAX_REPLICAS, Math.max(1, options.replicas ?? this.#replicas))
    if (!this.#amongClosest(blockKadId(cid), replicas)) return false
    const bytes = load()
    if (bytes == null || bytes.byteLength > MAX_BLOCK_SIZE || !blockMatches(cid, bytes)) return false
    let release: () => void
    try { release = this.#store.reserve(bytes.byteLength) } catch { return false }
    try {
      await this.#store.put(cid, bytes, { forOthers: true, replicas })
    } finally {
      release()
    }
    this.#provided.add(cid.toString())
    this.metrics.adopted++
    return true
  }

  /** Whether fewer than `n` peers of this peer's view are closer to `key` than this peer (no sort, no lookup). */
  #amongClosest (key: Uint8Array, n: number): boolean {
    const self = this.#kadIdOf(this.#node.peerId)
    let closer = 0
    for (const peer of this.#knownPeers()) {
      if (compareXor(key, this.#kadIdOf(peer), self) < 0 && ++closer >= n) return false
    }
    return true
  }

  /** Kademlia ids of peers, by peer id string (bounded: cleared past KAD_ID_CACHE_MAX). */
  #kadIdOf (peer: PeerId): Uint8Array {
    const key = peer.toString()
    let id = this.#kadIds.get(key)
    if (id == null) {
      if (this.#kadIds.size >= KAD_ID_CACHE_MAX) this.#kadIds.clear()
      id = peerKadId(peer)
      this.#kadIds.set(key, id)
    }
    return id
  }

  /**
   * The root CID `put` gives `content` (at the same chunk size), computed here
   * without storing or sending anything: a writer can name content before its
   * copies are placed.
   */
  async cidFor (content: Uint8Array, options: { chunkSize?: number } = {}): Promise<CID> {
    const chunkSize = checkChunkSize(options.chunkSize ?? this.#chunkSize)
    const shards: ShardRef[] = []
    let size = 0
    for await (const bytes of chunk(content, chunkSize)) {
      shards.push({ cid: cidOf(bytes), size: bytes.byteLength, nl: endsWithNewline(bytes) })
      size += bytes.byteLength
    }
    return encodeManifest({ size, chunkSize, shards }).cid
  }

  // ---------------------------------------------------------------- get

  async * get (cidOrString: CID | string, options: GetOptions = {}): AsyncGenerator<Uint8Array> {
    const cid = parseCid(cidOrString)
    const signal = options.signal
    if (cid.code === RAW_CODE) {
      const bytes = await this.getShard(cid, { signal })
      yield * this.#slices([{ bytes, start: 0 }], bytes.byteLength, options)
      return
    }
    const m = await this.manifest(cid, { signal })
    const start = options.offset ?? 0
    const length = options.length ?? m.size - start
    if (!Number.isInteger(start) || start < 0 || start > m.size) throw new InvalidRangeError(`offset ${start} is outside 0..${m.size}`)
    if (!Number.isInteger(length) || length < 0) throw new InvalidRangeError(`length must be a non-negative integer, got ${length}`)
    const end = Math.min(m.size, start + length)
    if (end <= start) return
    const first = Math.floor(start / m.chunkSize)
    const last = Math.ceil(end / m.chunkSize)
    const wanted = m.shards.slice(first, last).map((s, i) => ({ ...s, offset: (first + i) * m.chunkSize }))
    const fetched = mapOrdered(wanted, GET_PREFETCH, async (s, stop) => {
      const bytes = await this.getShard(s.cid, { signal: anySignal(signal, stop) })
      if (bytes.byteLength !== s.size) throw new InvalidManifestError(`shard ${s.cid.toString()} has ${bytes.byteLength} bytes, manifest says ${s.size}`)
      if (s.nl !== undefined && s.nl !== endsWithNewline(bytes)) throw new InvalidManifestError(`shard ${s.cid.toString()} ${s.nl ? 'does not end' : 'ends'} with a newline, the manifest says otherwise`)
      return { bytes, start: s.offset }
    })
    for await (const piece of fetched) {
      const from = Math.max(0, start - piece.start)
      const to = Math.min(piece.bytes.byteLength, end - piece.start)
      yield from === 0 && to === piece.bytes.byteLength ? piece.bytes : piece.bytes.subarray(from, to)
    }
  }

  async * #slices (pieces: Array<{ bytes: Uint8Array, start: number }>, size: number, options: GetOptions): AsyncGenerator<Uint8Array> {
    const start = options.offset ?? 0
    const end = Math.min(size, start + (options.length ?? size))
    if (start < 0 || start > size) throw new InvalidRangeError(`offset ${start} is outside 0..${size}`)
    for (const p of pieces) {
      const from = Math.max(0, start - p.start)
      const to = Math.min(p.bytes.byteLength, end - p.start)
      if (to > from) yield p.bytes.subarray(from, to)
    }
  }

  async manifest (cidOrString: CID | string, options: { signal?: AbortSignal } = {}): Promise<Manifest> {
    const cid = parseCid(cidOrString)
    if (cid.code !== DAG_CBOR_CODE) throw new InvalidCidError(`${cid.toString()} is a raw shard, not a file root (dag-cbor)`)
    return decodeManifest(await this.#getBlock(cid, options.signal))
  }

  /** One verified block: from the blockstore, the cache, or fetched from a holder. */
  async getShard (cidOrString: CID | string, options: { signal?: AbortSignal } = {}): Promise<Uint8Array> {
    return this.#getBlock(parseCid(cidOrString), options.signal)
  }

  async #getBlock (cid: CID, signal?: AbortSignal): Promise<Uint8Array> {
    signal?.throwIfAborted()
    const local = await this.#store.get(cid)
    if (local != null) return local
    const key = cid.toString()
    const cached = this.#cache.get(key)
    if (cached != null) return cached
    let inflight = this.#inflight.get(key)
    if (inflight == null) {
      // one fetch per block however many readers; it ends on its own deadline
      inflight = this.#fetch(cid, this.#shutdown.signal)
        .then(bytes => { this.#cache.set(key, bytes); return bytes })
        .finally(() => this.#inflight.delete(key))
      this.#inflight.set(key, inflight)
    }
    if (signal == null) return inflight
    return raceAbort(inflight, signal)
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
   * A slow peer is never waited for before the next search starts: asked
   * strictly one after another, a few slow or silent peers (a dial on a
   * loaded device can take seconds) used up the whole deadline before the
   * lookup began. Nor does every fetch start everything at once: the first
   * peer asked usually holds the block, and a lookup per fetch costs dozens
   * of DHT messages.
   */
  async #fetch (cid: CID, outer: AbortSignal): Promise<Uint8Array> {
    const limit = deadline(FIND_TIMEOUT_MS)
    try {
      return await this.#fetchWithin(cid, outer, limit.signal)
    } finally {
      limit.clear()
    }
  }

  /** #fetch, ended by `timeUp` (FIND_TIMEOUT_MS after it began) if nothing else ends it first. */
  async #fetchWithin (cid: CID, outer: AbortSignal, timeUp: AbortSignal): Promise<Uint8Array> {
    const won = new AbortController()
    const signal = anySignal(outer, timeUp, won.signal)
    const tried = new Set<string>([this.#node.peerId.toString()])
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
      const request = this.#askFor(cid, peer, signal).then(bytes => {
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
        for (const peer of sortByDistance(key, this.#knownPeers()).slice(0, this.#replicas)) {
          if (won.signal.aborted) return
          await hedge(ask(peer), FETCH_HEDGE_MS)
        }
      })()
      // the lookup once they all had none, or once they have been slow for a while
      await hedge(closest.then(settled), LOOKUP_HEDGE_MS)
      if (won.signal.aborted) return
      if (this.#routingTableSize() > 0) {
        let providers = 0
        const responders: PeerId[] = []
        seen.lookup = 'running'
        for await (const ev of untilAborted(this.#node.services.dht.findProviders(cid, { signal }), signal)) {
          if (ev.name === 'PEER_RESPONSE') {
            responders.push(ev.from)
            for (const peer of sortByDistance(key, responders).slice(0, this.#replicas)) void ask(peer)
          } else if (ev.name === 'PROVIDER') {
            for (const info of ev.providers) {
              if (++providers > MAX_PROVIDERS) break
              if (info.multiaddrs.length > 0) {
                await this.#node.peerStore.merge(info.id, { multiaddrs: info.multiaddrs }).catch(() => {})
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
      for (const peer of await this.#closest(cid, signal)) void ask(peer)
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
    seen.closestSaidNone = askedPeers.length > 0 && sortByDistance(key, askedPeers).slice(0, this.#replicas).every(p => saidNone.has(p.toString()))
    const what = `${tried.size - 1} peers asked: ${seen.none} have none, ${seen.failed} did not answer${seen.pending > 0 ? `, ${seen.pending} not answered yet` : ''}; ${seen.providers} providers announced; provider lookup ${seen.lookup}`
    throw new NotFoundError(timeUp.aborted
      ? `${cid.toString()} not found: no peer served it within ${FIND_TIMEOUT_MS / 1000} s (${what})`
      : `${cid.toString()} not found: none of the peers asked holds it (${what})`, conclusiveMiss(seen))
  }

  /** One peer's copy of a block, checked against its CID; 'none' when it has none, 'failed' when it did not answer or lied. */
  async #askFor (cid: CID, peer: PeerId, signal: AbortSignal): Promise<Uint8Array | 'none' | 'failed'> {
    try {
      const reply = await this.#request(peer, { op: 'get', cid }, undefined, signal)
      if (!reply.response.ok || reply.bytes == null) return 'none'
      if (!blockMatches(cid, reply.bytes)) {
        this.#log('peer %p served wrong bytes for %s - marking it bad', peer, cid)
        this.metrics.badPeers.add(peer.toString())
        return 'failed'
      }
      return reply.bytes
    } catch {
      return 'failed'
    }
  }

  // ---------------------------------------------------------------- stat / ls

  async stat (cidOrString: CID | string, options: StatOptions = {}): Promise<FileStat> {
    const cid = parseCid(cidOrString)
    const m = await this.manifest(cid, options)
    const replicas = options.replicas ?? this.#store.entry(cid)?.replicas ?? this.#replicas
    const signal = anySignal(options.signal, this.#shutdown.signal)
    const shards: ShardStat[] = []
    for await (const s of mapOrdered(m.shards, STAT_CONCURRENCY, async (s) => ({
      cid: s.cid.toString(), size: s.size, holders: await this.#liveHolders(s.cid, signal)
    }))) shards.push(s)
    const rootHolders = await this.#liveHolders(cid, signal)
    const minHolders = Math.min(rootHolders.length, ...shards.map(s => s.holders.length))
    return { cid: cid.toString(), size: m.size, chunkSize: m.chunkSize, shards, rootHolders, replicas, underReplicated: minHolders < replicas }
  }

  async ls (): Promise<RootListing[]> {
    return (await this.#store.roots()).map(r => ({ cid: r.cid, size: r.size, shards: r.shards, createdAt: r.createdAt }))
  }

  async hasLocal (cid: CID | string): Promise<boolean> {
    return this.#store.has(parseCid(cid))
  }

  async localStats (): Promise<{ shards: number, bytes: number, bytesForOthers: number }> {
    return this.#store.stats()
  }

  async #liveHolders (cid: CID, signal: AbortSignal): Promise<string[]> {
    const candidates = new Map<string, PeerId>()
    for (const p of await this.#closest(cid, signal)) candidates.set(p.toString(), p)
    if (this.#routingTableSize() > 0) {
      try {
        const s = anySignal(signal, AbortSignal.timeout(LOOKUP_TIMEOUT_MS))
        for await (const ev of untilAborted(this.#node.services.dht.findProviders(cid, { signal: s }), s)) {
          if (ev.name === 'PROVIDER') for (const info of ev.providers) candidates.set(info.id.toString(), info.id)
        }
      } catch (err) {
        if (signal.aborted) throw err
      }
    }
    const holders: string[] = []
    await Promise.all([...candidates.values()].map(async peer => {
      if (peer.equals(this.#node.peerId)) {
        if (this.#store.has(cid)) holders.push(peer.toString())
        return
      }
      try {
        const reply = await this.#request(peer, { op: 'has', cid }, undefined, signal)
        if (reply.response.ok && reply.response.has === true) holders.push(peer.toString())
      } catch {
        // unreachable: not a live holder
      }
    }))
    return sortByDistance(blockKadId(cid), [...candidates.values()].filter(p => holders.includes(p.toString()))).map(p => p.toString())
  }

  // ---------------------------------------------------------------- placement and repair

  /**
   * Makes the `replicas` closest live peers hold `cid`: walks the candidates
   * closest first, skipping unreachable, full and distrusted peers. With
   * `checkFirst`, asks `has` before sending bytes (repair); a put pushes
   * directly (the receiver ignores duplicates). With `lookup`, the candidates
   * come from a DHT lookup rather than the peers known here; `view` gives
   * them, sorted closest first. With `announcedBySender`, the receivers do not announce the block at once (this
   * peer does): one announcement per block instead of one per copy.
   */
  async #replicate (cid: CID, replicas: number, load: () => Promise<Uint8Array | undefined>, signal: AbortSignal, options: { checkFirst?: boolean, lookup?: boolean, announcedBySender?: boolean, view?: PeerId[] } = {}): Promise<ReplicateResult> {
    const { checkFirst = false, lookup = false, announcedBySender = false } = options
    // the closest few only: walking the whole view past peers that time out took a put
    // minutes on a loaded swarm (batches of 10 s timeouts); repair adds copies later
    // (repair, which checks first, still looks further: a full or refusing closest peer must not keep a block short)
    const view = options.view ?? await this.#closest(cid, signal, lookup)
    const candidates = checkFirst ? view : view.slice(0, replicas * PLACEMENT_CANDIDATES_PER_REPLICA)
    const holders: PeerId[] = []
    const copied: PeerId[] = []
    let bytes: Promise<Uint8Array | undefined> | undefined
    const replicasOf = replicas
    let next = 0
    while (holders.length < replicas && next < candidates.length) {
      const batch = candidates.slice(next, next + replicas - holders.length)
      next += batch.length
      await Promise.all(batch.map(async peer => {
        if (peer.equals(this.#node.peerId)) {
          if (this.#store.has(cid)) holders.push(peer)
          return
        }
        if (this.metrics.badPeers.has(peer.toString())) return
        try {
          if (checkFirst) {
            const reply = await this.#request(peer, { op: 'has', cid }, undefined, signal)
            if (reply.response.ok && reply.response.has === true) { holders.push(peer); return }
          }
          bytes ??= load()
          const body = await bytes
          if (body == null) return
          const reply = await this.#request(peer, { op: 'put', cid, size: body.byteLength, replicas: replicasOf, ...(announcedBySender ? { announce: false } : {}) }, body, signal)
          if (reply.response.ok) {
            holders.push(peer)
            copied.push(peer)
          } else {
            this.#log('peer %p refused %s: %s', peer, cid, reply.response.error)
          }
        } catch (err) {
          if (signal.aborted) throw err
          this.#log('could not reach %p for %s - %e', peer, cid, err)
        }
      }))
    }
    return { holders, copied }
  }

  /** One repair pass over every block held here. */
  async repairOnce (): Promise<RepairReport> {
    if (this.#repairing != null) return this.#repairing
    this.#repairing = this.#repair().finally(() => { this.#repairing = undefined })
    return this.#repairing
  }

  async #repair (): Promise<RepairReport> {
    const started = Date.now()
    const report: RepairReport = { checked: 0, copies: [], underReplicated: [], durationMs: 0 }
    const signal = this.#shutdown.signal
    await forEachLimit(this.#store.entries(), REPAIR_CONCURRENCY, async entry => {
      if (signal.aborted) return
      try {
        const { holders, copied } = await this.#replicate(entry.cid, entry.replicas, async () => this.#store.get(entry.cid), signal, { checkFirst: true })
        report.checked++
        for (const peer of copied) report.copies.push({ cid: entry.cid.toString(), peer: peer.toString() })
        if (holders.length < entry.replicas) report.underReplicated.push(entry.cid.toString())
        if (!this.#provided.has(entry.cid.toString())) this.#enqueueProvide(entry.cid)
      } catch (err) {
        if (!signal.aborted) this.#log.error('repair of %s failed - %e', entry.cid, err)
      }
    })
    report.durationMs = Date.now() - started
    if (report.copies.length > 0) this.#log('repair copied %d blocks in %d ms', report.copies.length, report.durationMs)
    return report
  }

  #scheduleRepair (): void {
    if (!this.#started || this.#repairIntervalMs <= 0 || !Number.isFinite(this.#repairIntervalMs)) return
    // jittered: peers started together (a site powering up, a simulation) do not all repair at once
    const delay = this.#repairIntervalMs * (1 - REPAIR_JITTER / 2 + Math.random() * REPAIR_JITTER)
    this.#repairTimer = setTimeout(() => {
      this.repairOnce()
        .catch(err => { this.#log.error('repair pass failed - %e', err) })
        .finally(() => { this.#scheduleRepair() })
    }, delay)
    this.#repairTimer.unref?.()
  }

  #scheduleReprovide (): void {
    if (!this.#started || this.#reprovideIntervalMs <= 0 || !Number.isFinite(this.#reprovideIntervalMs)) return
    this.#reprovideTimer = setTimeout(() => {
      for (const entry of this.#store.entries()) this.#enqueueProvide(entry.cid, true)
      this.#scheduleReprovide()
    }, this.#reprovideIntervalMs)
    this.#reprovideTimer.unref?.()
  }

  /** Announces this peer as a provider of `cid` in the background (deduplicated, bounded). */
  #enqueueProvide (cid: CID, again = false, attempt = 1, priority = 0): void {
    const key = cid.toString()
    if (!this.#started || this.#providing.has(key) || (!again && this.#provided.has(key))) return
    if (this.#provideQueue.size >= PROVIDE_QUEUE_MAX) return
    this.#providing.add(key)
    this.#deferProvides()
    this.#provideQueue.add(async () => {
      let failed = false
      /** The closest peers the announcement's lookup found (its FINAL_PEER events), whether or not every record was then sent. */
      const closest: PeerId[] = []
      try {
        if (this.#routingTableSize() === 0) return // retried by the next repair pass
        const limit = deadline(PROVIDE_TIMEOUT_MS)
        try {
          const signal = anySignal(this.#shutdown.signal, limit.signal)
          for await (const ev of this.#node.services.dht.provide(cid, { signal })) {
            if (ev.name === 'FINAL_PEER') closest.push(ev.peer.id)
          }
        } finally {
          limit.clear()
        }
        this.#provided.add(key)
        this.metrics.provides++
      } catch (err) {
        if (!this.#shutdown.signal.aborted) {
          this.#log('provide %s failed (attempt %d) - %e', key, attempt, err)
          failed = true
        }
      } finally {
        this.#providing.delete(key)
      }
      if (closest.length > 0) await this.#settlePlacement(cid, closest)
      // a block placed off its closest peers is found only through its announcement:
      // a failed one (a busy swarm timed it out) is tried again soon, not at the next repair
      if (failed && attempt < PROVIDE_ATTEMPTS) {
        const timer = setTimeout(() => { this.#enqueueProvide(cid, again, attempt + 1, priority) }, PROVIDE_RETRY_MS * attempt)
        timer.unref?.()
      }
    }, { priority }).catch(() => {})
  }

  /**
   * Moves a block onto the closest peers an announcement's lookup found, when
   * its copies sit elsewhere. A put places shards by this peer's own view of
   * the swarm, which at hundreds of peers misses closer peers; readers search
   * the closest peers they know and those their lookups reach, so a copy
   * placed off them was found only through its provider record, and a busy
   * swarm timed half of those out. The lookup is the announcement's own, so
   * this costs a `has` per closest peer and a push to each that lacks it.
   */
  async #settlePlacement (cid: CID, found: PeerId[]): Promise<void> {
    const entry = this.#store.entry(cid)
    if (entry == null || this.#shutdown.signal.aborted) return
    const now = Date.now()
    for (const peer of found) {
      if (!peer.equals(this.#node.peerId)) this.#known.set(peer.toString(), { peer, at: now })
    }
    const view = sortByDistance(blockKadId(cid), [this.#node.peerId, ...found])
    try {
      const { copied } = await this.#replicate(cid, entry.replicas, async () => this.#store.get(cid), this.#shutdown.signal, { checkFirst: true, announcedBySender: true, view })
      if (copied.length > 0) this.#log('moved %s onto %d of its closest peers', cid, copied.length)
    } catch (err) {
      if (!this.#shutdown.signal.aborted) this.#log('placing %s on its closest peers failed - %e', cid, err)
    }
  }

  /**
   * Holds announcements back while blocks keep arriving (a put in progress):
   * each DHT provide is a lookup plus k ADD_PROVIDER messages, and running
   * them alongside the transfer slows it several-fold. The queue starts after
   * PROVIDE_QUIET_MS without new blocks, and never waits more than
   * PROVIDE_MAX_DELAY_MS in all.
   */
  #deferProvides (): void {
    const now = Date.now()
    this.#provideHeldSince ??= now
    clearTimeout(this.#provideTimer)
    if (now - this.#provideHeldSince >= PROVIDE_MAX_DELAY_MS) {
      this.#provideHeldSince = undefined
      this.#provideQueue.start()
      return
    }
    this.#provideQueue.pause()
    this.#provideTimer = setTimeout(() => {
      this.#provideHeldSince = undefined
      this.#provideQueue.start()
    }, PROVIDE_QUIET_MS)
    this.#provideTimer.unref?.()
  }

  // ---------------------------------------------------------------- network helpers

  /** Connected peers and those remembered from recent lookups. */
  #knownPeers (): PeerId[] {
    const out = new Map<string, PeerId>()
    for (const p of connectedPeers(this.#node)) out.set(p.toString(), p)
    for (const [id, entry] of this.#known) if (!out.has(id)) out.set(id, entry.peer)
    return [...out.values()]
  }

  #routingTableSize (): number {
    const dht = this.#node.services.dht as unknown as { routingTable?: { size?: number } }
    return dht.routingTable?.size ?? connectedPeerCount(this.#node)
  }

  /**
   * Self, connected peers and the DHT's closest peers to a block's key, best
   * first. A DHT lookup per block is the expensive part of placement (dozens
   * of requests), so the peers lookups found are remembered for
   * KNOWN_PEER_TTL_MS, and a lookup that returns fewer than k peers (a small
   * swarm, fully seen) is reused for SWARM_VIEW_TTL_MS: in a larger swarm,
   * once the view (connected and remembered peers) holds k peers, blocks are
   * placed by sorting it locally. Placement that misses a closer peer is
   * corrected by the repair loop. With `lookup` (a file's root: one per put, and what every reader
   * fetches first) the DHT is asked anyway: a partial view places a block
   * where readers' lookups do not end, and only its announcement finds it.
   */
  async #closest (cid: CID, signal: AbortSignal, lookup = false): Promise<PeerId[]> {
    const now = Date.now()
    for (const [id, entry] of this.#known) if (now - entry.at > KNOWN_PEER_TTL_MS) this.#known.delete(id)
    const smallSwarm = this.#swarmView != null && now - this.#swarmView.at < SWARM_VIEW_TTL_MS
    // the view counts connected peers too: counting only lookup results, a busy
    // swarm whose lookups timed out short of k peers looked its view up again
    // for every block, and each of those lookups made the swarm busier (200
    // peers: a repair pass of every peer at once, thousands of lookups)
    // the view: self, connected peers and those remembered from lookups (sortByDistance drops duplicates)
    const known = this.#knownPeers()
    if (smallSwarm || (!lookup && known.length >= this.#node.services.dht.k)) {
      return sortByDistance(blockKadId(cid), [this.#node.peerId, ...known])
    }
    if (this.#routingTableSize() > 0) {
      const s = anySignal(signal, AbortSignal.timeout(LOOKUP_TIMEOUT_MS))
      const found: PeerId[] = []
      try {
        for await (const ev of untilAborted(this.#node.services.dht.getClosestPeers(cid.multihash.bytes, { signal: s }), s)) {
          if (ev.name === 'FINAL_PEER') found.push(ev.peer.id)
        }
        if (found.length < this.#node.services.dht.k) this.#swarmView = { peers: found, at: Date.now() }
      } catch (err) {
        if (signal.aborted) throw err
        // lookup timed out: use what was found
      }
      for (const peer of found) {
        if (!peer.equals(this.#node.peerId)) this.#known.set(peer.toString(), { peer, at: Date.now() })
      }
    }
    return sortByDistance(blockKadId(cid), [this.#node.peerId, ...this.#knownPeers()])
  }

  async #request (peer: PeerId, req: ShardRequest, body: Uint8Array | undefined, signal: AbortSignal): Promise<ShardReply> {
    const limit = deadline(REQUEST_TIMEOUT_MS)
    try {
      const s = anySignal(signal, limit.signal)
      s.throwIfAborted()
      // bounded by its time limit even if a dial or stream under it does not stop when aborted
      return await raceAbort((async () => {
        const stream = await this.#node.dialProtocol(peer, SHARD_PROTOCOL, { signal: s })
        const reply = await requestShard(stream, req, body, s)
        if (body != null && reply.response.ok) this.metrics.bytesSent += body.byteLength
        if (reply.bytes != null) this.metrics.bytesReceived += reply.bytes.byteLength
        return reply
      })(), s)
    } finally {
      limit.clear()
    }
  }

  readonly #server: ShardServer = {
    has: async (cid) => this.#store.has(cid),
    read: async (cid) => {
      const bytes = await this.#store.get(cid)
      if (bytes == null) return undefined
      this.metrics.bytesSent += bytes.byteLength
      if (!this.#corruptOnServe || bytes.byteLength === 0) return bytes
      const bad = bytes.slice()
      bad[0] ^= 0xff
      return bad
    },
    admit: async (req) => {
      if (this.#store.has(req.cid)) return { release: () => {} }
      try {
        return { release: this.#store.reserve(req.size) }
      } catch (err) {
        if (err instanceof StorageFullError) return { ok: false, code: 'storage-full', error: err.message } satisfies ShardResponse
        throw err
      }
    },
    accept: async (req, bytes) => {
      if (!blockMatches(req.cid, bytes)) {
        return { ok: false, code: 'integrity', error: `bytes do not hash to ${req.cid.toString()}` }
      }
      this.metrics.bytesReceived += bytes.byteLength
      // own the bytes: the frame may be a view into a larger receive buffer
      await this.#store.put(req.cid, bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.byteLength ? bytes : bytes.slice(), {
        forOthers: true,
        replicas: req.replicas ?? this.#replicas
      })
      // a put's sender announces the block itself: this copy is announced by the
      // hourly reprovide (and at once when repair moves a block here), not now
      // and not by the next repair pass, so a put costs one announcement per block
      if (req.announce === false) this.#provided.add(req.cid.toString())
      else this.#enqueueProvide(req.cid)
      return { ok: true }
    },
    onError: (err, peer) => { this.#log('rejected shard message from %s - %s', peer, err.message) }
  }
}
