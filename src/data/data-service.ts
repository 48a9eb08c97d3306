/**
 * data/data-service: the data layer's front — `put` (shard, store, place,
 * announce, record), `get` (a byte range of a file, verified, streamed),
 * `stat`, `ls`, `rm`, `gc`, the blocks kept without a transfer (`keepBlock`,
 * `adoptBlock`), and the start and stop of the parts that do the work: the
 * storage budget, the peer view, the fetcher, the replicator, the provider
 * queue, the records and their sync, the collector and the shard server.
 *
 * Owns the policy of a put and of a read. Never trusts a byte from the network
 * before it is hashed against its CID, never stores more for others than its
 * budget, never serves a removed root, and never blocks a put on a DHT
 * announcement.
 *
 * One concern past 400 lines: the layer's front door, each operation a short
 * method that hands the work to its module (putter, fetcher, replicator,
 * collector, listing); what stays here is the order of those calls.
 */
import { setMaxListeners } from 'node:events'
import type { Logger, Startable } from '@libp2p/interface'
import { MemoryDatastore } from 'datastore-core'
import type { CID } from 'multiformats/cid'
import { anySignal, mapOrdered } from '../async/index.ts'
import { blockMatches, cidOf, decodeManifest, encodeManifest, endsWithNewline, parseCid, DAG_CBOR_CODE, RAW_CODE, type Manifest, type ShardRef } from './blocks.ts'
import { checkChunkSize, chunk, type ByteSource } from './chunker.ts'
import { Collector, type GcReport } from './collector.ts'
import {
  DEFAULT_CHUNK_SIZE, DEFAULT_REPLICAS, GET_PREFETCH, INBOUND_TIMEOUT_MS, MAX_BLOCK_SIZE, MAX_REPLICAS,
  MAX_STREAMS_PER_CONNECTION, SHARD_PROTOCOL
} from './constants.ts'
import { InvalidCidError, InvalidManifestError, InvalidRangeError, NotPutHereError, RemovedError, ReplicasError } from './errors.ts'
import { Fetcher } from './fetcher.ts'
import { HolderSurvey } from './holder-survey.ts'
import { groupHeld } from './listing.ts'
import { PeerView } from './peer-view.ts'
import { blockKadId } from './placement.ts'
import { serveShardStream, type ShardServer } from './protocol.ts'
import { ProviderQueue } from './provider-queue.ts'
import { Putter } from './putter.ts'
import { RecordStore } from './record-store.ts'
import { RecordSync } from './record-sync.ts'
import { Replicator } from './replicator.ts'
import { ShardClient } from './shard-client.ts'
import { LocalShardServer } from './shard-server.ts'
import { ShardStore } from './shard-store.ts'
import { StorageBudget, statfsDiskSpace, type StorageStatus } from './storage-budget.ts'
import { registerDataMetrics } from './data-metrics.ts'
import type {
  DataMetrics, DataServiceComponents, DataServiceInit, FileStat, FullListing, GetOptions, PutOptions, RemoveResult, RepairReport, RootListing,
  ShardStat, StatOptions
} from './types.ts'

function checkReplicas (n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > MAX_REPLICAS) {
    throw new ReplicasError(`replicas must be an integer from 1 to ${MAX_REPLICAS}, got ${n}`)
  }
  return n
}

export class DataService implements Startable {
  readonly metrics: DataMetrics = {
    bytesSent: 0, bytesReceived: 0, badPeers: new Set(), provides: 0, adopted: 0, fetches: 0, fetchMisses: 0, fetchMsTotal: 0,
    provideFailures: 0, repairPasses: 0, repairCopies: 0, underReplicated: 0
  }
  private readonly components: DataServiceComponents
  private readonly log: Logger
  private readonly defaultReplicas: number
  private readonly chunkSize: number
  private readonly store: ShardStore
  private readonly view: PeerView
  private readonly providers: ProviderQueue
  private readonly replicator: Replicator
  private readonly fetcher: Fetcher
  private readonly server: ShardServer
  private readonly budget: StorageBudget
  private readonly records: RecordStore
  private readonly recordSync: RecordSync
  private readonly collector: Collector
  private readonly survey: HolderSurvey
  private readonly putter: Putter
  private shutdown = new AbortController()
  private started = false

  constructor (components: DataServiceComponents, init: DataServiceInit = {}) {
    this.components = components
    this.log = components.logger.forComponent('edgeswarm:data')
    this.defaultReplicas = checkReplicas(init.replicas ?? DEFAULT_REPLICAS)
    this.chunkSize = checkChunkSize(init.chunkSize ?? DEFAULT_CHUNK_SIZE)
    const metrics = this.metrics
    const datastore = components.datastore ?? new MemoryDatastore()
    this.budget = new StorageBudget({ diskSpace: components.diskSpace ?? statfsDiskSpace, log: this.log }, {
      path: init.storagePath,
      storageMax: init.storageMax,
      ballast: init.ballastPath,
      heldForOthers: () => this.store.heldForOthers
    })
    const store = this.store = new ShardStore(components.blockstore, datastore, this.budget)
    this.records = new RecordStore({ datastore, log: this.log, onRelease: () => { this.collector.soon() } })
    this.recordSync = new RecordSync({ ...components, store: this.records, log: this.log }, { intervalMs: init.recordSyncIntervalMs })
    this.collector = new Collector({
      store,
      records: this.records,
      pins: components.pins,
      reclaim: components.reclaim,
      deleted: (cid) => { this.providers.forget(cid) },
      freed: async () => { await this.budget.refresh() },
      log: this.log
    }, { intervalMs: init.gcIntervalMs, graceMs: init.gcGraceMs })
    const view = this.view = new PeerView(components)
    const client = new ShardClient(components, metrics)
    this.survey = new HolderSurvey(components, { view, client, store })
    this.providers = new ProviderQueue(components, {
      store,
      view,
      metrics,
      // an announcement's lookup settles placement (see Replicator.settlePlacement), once
      // the releases are known, as repair: a restarted peer announces everything it holds
      settlePlacement: async (cid, closest) => {
        await this.recordSync.whenReady()
        await this.replicator.settlePlacement(cid, closest)
      },
      provideRatePerSecond: init.provideRatePerSecond,
      reprovideIntervalMs: init.reprovideIntervalMs
    })
    this.replicator = new Replicator(components, {
      store,
      view,
      client,
      providers: this.providers,
      metrics,
      isGarbage: (block) => this.collector.isGarbage(block),
      ready: async () => { await this.recordSync.whenReady() },
      repairIntervalMs: init.repairIntervalMs
    })
    this.fetcher = new Fetcher(components, { store, view, client, metrics, replicas: this.defaultReplicas, cacheMaxBytes: init.cacheMaxBytes })
    this.putter = new Putter({ store, replicator: this.replicator, providers: this.providers, records: this.recordSync })
    const server = new LocalShardServer(components, { store, providers: this.providers, records: this.records, metrics, replicas: this.defaultReplicas })
    this.server = components.shardServer?.(server) ?? server
    if (components.metrics != null) registerDataMetrics(components.metrics, { metrics, store, providers: this.providers })
  }

  // ---------------------------------------------------------------- lifecycle

  async start (): Promise<void> {
    if (this.started) return
    this.shutdown = new AbortController()
    setMaxListeners(Infinity, this.shutdown.signal)
    this.fetcher.start()
    await this.store.open()
    await this.records.load()
    await this.budget.start()
    await this.components.libp2p.handle(SHARD_PROTOCOL, (stream, connection) => {
      serveShardStream(stream, connection.remotePeer.toString(), this.server, INBOUND_TIMEOUT_MS)
        .catch(err => { this.log.error('shard stream failed - %e', err) })
    }, {
      maxInboundStreams: MAX_STREAMS_PER_CONNECTION,
      maxOutboundStreams: MAX_STREAMS_PER_CONNECTION
    })
    this.started = true
    await this.recordSync.start()
    this.collector.start()
    this.replicator.start()
    // announces what survived a restart
    this.providers.start()
  }

  async stop (): Promise<void> {
    if (!this.started) return
    this.started = false
    // every part stops its timers and aborts its work before the first wait
    const repairEnded = this.replicator.stop()
    const collectionEnded = this.collector.stop()
    this.providers.stop()
    this.fetcher.stop()
    this.budget.stop()
    this.shutdown.abort(new Error('data service stopped'))
    try {
      await this.components.libp2p.unhandle(SHARD_PROTOCOL)
    } catch {
      // the node may already be stopping
    }
    await this.recordSync.stop()
    await repairEnded
    await collectionEnded
  }

  /** Resolves when the background provider announcements have drained. */
  async whenProvided (): Promise<void> {
    await this.providers.whenProvided()
  }

  /** One repair pass over every block held here. */
  async repairOnce (): Promise<RepairReport> {
    return this.replicator.repairOnce()
  }

  // ---------------------------------------------------------------- put

  /** Copies of each block this peer places by default. */
  get replicas (): number {
    return this.defaultReplicas
  }

  /**
   * Stores `content` as shards and a root, places each block on its
   * `replicas` closest peers and announces it; resolves to the root's CID.
   * Copies a put could not place (too few peers reachable) are reported
   * (`underReplicated`), and repair adds them later. Every block is pushed
   * under a new put id; the put's root record, gossiped once the root is
   * placed, keeps them alive on every holder until `rm`. A put stopped
   * half-way leaves blocks no root record names: garbage after the grace.
   */
  async put (content: ByteSource, options: PutOptions = {}): Promise<CID> {
    const replicas = checkReplicas(options.replicas ?? this.defaultReplicas)
    const chunkSize = checkChunkSize(options.chunkSize ?? this.chunkSize)
    const signal = anySignal(options.signal, this.shutdown.signal)
    try {
      return await this.putter.put(content, { ...options, replicas, chunkSize, signal })
    } finally {
      signal.clear()
    }
  }

  /**
   * The root CID `put` gives `content` (at the same chunk size), computed here
   * without storing or sending anything: a writer can name content before its
   * copies are placed.
   */
  async cidFor (content: Uint8Array, options: { chunkSize?: number } = {}): Promise<CID> {
    const chunkSize = checkChunkSize(options.chunkSize ?? this.chunkSize)
    const shards: ShardRef[] = []
    let size = 0
    for await (const bytes of chunk(content, chunkSize)) {
      shards.push({ cid: cidOf(bytes), size: bytes.byteLength, nl: endsWithNewline(bytes) })
      size += bytes.byteLength
    }
    return encodeManifest({ size, chunkSize, shards }).cid
  }

  /**
   * Stores one small block (at most MAX_BLOCK_SIZE bytes, no manifest: its
   * CID is `cidOf(bytes)`, and `getShard` reads it) here only, as this peer's
   * own, unannounced until the reprovide loop. For blocks every peer also
   * receives inside a signed fact (a job's batch of inline task results): the
   * peers closest to the block keep their copies from the fact
   * (`adoptBlock`), so none is pushed and no lookup is made.
   */
  async keepBlock (bytes: Uint8Array): Promise<CID> {
    if (bytes.byteLength > MAX_BLOCK_SIZE) throw new RangeError(`a block of ${bytes.byteLength} bytes exceeds ${MAX_BLOCK_SIZE}; use put`)
    const cid = cidOf(bytes)
    await this.store.put(cid, bytes, { forOthers: false, replicas: this.defaultReplicas })
    this.providers.markProvided(cid)
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
   * the budget for others, announced by the reprovide loop. Resolves whether this
   * peer holds the block now; never throws for a bad or oversized block.
   */
  async adoptBlock (cidOrString: CID | string, load: () => Uint8Array | undefined, options: { replicas?: number } = {}): Promise<boolean> {
    let cid: CID
    try { cid = parseCid(cidOrString) } catch { return false }
    if (this.store.has(cid)) return true
    const replicas = Math.min(MAX_REPLICAS, Math.max(1, options.replicas ?? this.defaultReplicas))
    if (!this.view.amongClosest(blockKadId(cid), replicas)) return false
    const bytes = load()
    if (bytes == null || bytes.byteLength > MAX_BLOCK_SIZE || !blockMatches(cid, bytes)) return false
    let release: () => void
    try { release = this.store.reserve(bytes.byteLength) } catch { return false }
    try {
      await this.store.put(cid, bytes, { forOthers: true, replicas })
    } finally {
      release()
    }
    this.providers.markProvided(cid)
    this.metrics.adopted++
    return true
  }

  // ---------------------------------------------------------------- get

  /** The bytes of a file (a root CID) or of one block (a raw CID), or a range of them, in order; each block verified. */
  async * get (cidOrString: CID | string, options: GetOptions = {}): AsyncGenerator<Uint8Array> {
    const cid = parseCid(cidOrString)
    const signal = options.signal
    if (cid.code === RAW_CODE) {
      const bytes = await this.fetcher.get(cid, signal)
      yield * this.slices([{ bytes, start: 0 }], bytes.byteLength, options)
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
      const either = anySignal(signal, stop)
      const bytes = await this.fetcher.get(s.cid, either).finally(() => { either.clear() })
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

  private async * slices (pieces: Array<{ bytes: Uint8Array, start: number }>, size: number, options: GetOptions): AsyncGenerator<Uint8Array> {
    const start = options.offset ?? 0
    const end = Math.min(size, start + (options.length ?? size))
    if (start < 0 || start > size) throw new InvalidRangeError(`offset ${start} is outside 0..${size}`)
    for (const p of pieces) {
      const from = Math.max(0, start - p.start)
      const to = Math.min(p.bytes.byteLength, end - p.start)
      if (to > from) yield p.bytes.subarray(from, to)
    }
  }

  /** A file's root object, verified and validated; RemovedError once its putter released it. */
  async manifest (cidOrString: CID | string, options: { signal?: AbortSignal } = {}): Promise<Manifest> {
    const cid = parseCid(cidOrString)
    if (cid.code !== DAG_CBOR_CODE) throw new InvalidCidError(`${cid.toString()} is a raw shard, not a file root (dag-cbor)`)
    if (this.records.rootState(cid.toString()) === 'released') throw new RemovedError(`${cid.toString()} was removed by its putter (edgeswarm rm)`)
    return decodeManifest(await this.fetcher.get(cid, options.signal))
  }

  /** One verified block: from the blockstore, the cache, or fetched from a holder. */
  async getShard (cidOrString: CID | string, options: { signal?: AbortSignal } = {}): Promise<Uint8Array> {
    return this.fetcher.get(parseCid(cidOrString), options.signal)
  }

  // ---------------------------------------------------------------- stat / ls

  /**
   * A file's shards and the peers that hold each now, judged against its
   * replica target: every candidate holder asked about all its blocks at once
   * (see HolderSurvey).
   */
  async stat (cidOrString: CID | string, options: StatOptions = {}): Promise<FileStat> {
    const cid = parseCid(cidOrString)
    const m = await this.manifest(cid, options)
    const replicas = options.replicas ?? this.store.entry(cid)?.replicas ?? this.defaultReplicas
    const signal = anySignal(options.signal, this.shutdown.signal)
    const holders = await this.survey.holders([cid, ...m.shards.map(s => s.cid)], replicas, signal, options.onProgress).finally(() => { signal.clear() })
    const shards: ShardStat[] = m.shards.map(s => ({ cid: s.cid.toString(), size: s.size, holders: holders.get(s.cid.toString()) ?? [] }))
    const rootHolders = holders.get(cid.toString()) ?? []
    const minHolders = Math.min(rootHolders.length, ...shards.map(s => s.holders.length))
    return { cid: cid.toString(), size: m.size, chunkSize: m.chunkSize, shards, rootHolders, replicas, underReplicated: minHolders < replicas }
  }

  // ---------------------------------------------------------------- ls / rm / gc

  /** The files this peer put and has not removed, oldest first. */
  async ls (): Promise<RootListing[]> {
    return (await this.store.puts()).filter(p => p.listed).map(p => ({ cid: p.root, name: p.name ?? null, size: p.size, shards: p.shards, createdAt: p.createdAt }))
  }

  /** The files this peer put, and every block it holds grouped by root and by why it is kept (or collected next). */
  async lsAll (): Promise<FullListing> {
    const now = Date.now()
    return { roots: await this.ls(), held: groupHeld(this.store.entries(), block => this.collector.verdict(block, now), this.records) }
  }

  /**
   * Releases a root this peer put: a signed release record, gossiped and
   * reconciled, lets every holder drop the root's blocks once no live put of
   * any peer lists them, and makes a later `get` of it a RemovedError.
   * NotPutHereError unless this peer put it (and has not removed it).
   */
  async rm (cidOrString: CID | string): Promise<RemoveResult> {
    const cid = parseCid(cidOrString)
    if (cid.code !== DAG_CBOR_CODE) throw new InvalidCidError(`${cid.toString()} is a raw shard, not a file root (dag-cbor)`)
    const root = cid.toString()
    const self = this.components.peerId.toString()
    const mine = (await this.store.puts()).filter(p => p.root === root)
    const stamped = this.records.latestClaimAt(root, self)
    if (mine.length === 0 && (stamped == null || this.records.rootState(root) === 'released')) {
      throw new NotPutHereError(`${root} is not a root this peer put (only its putter can remove it)`)
    }
    // after every root record of this peer's, whatever the clock says
    await this.recordSync.publish({ t: 'release', root, at: Math.max(Date.now(), (stamped ?? 0) + 1) })
    for (const p of mine) await this.store.deletePut(p.put)
    return { cid: root, puts: mine.length }
  }

  /** A garbage collection pass now, the blockstore compacted after it: what it freed. */
  async gc (options: { signal?: AbortSignal } = {}): Promise<GcReport> {
    return await this.collector.collect({ compact: true, signal: options.signal })
  }

  /** The storage budget and the disk, as `status` shows them. */
  storage (): StorageStatus {
    return this.store.storage()
  }

  async hasLocal (cid: CID | string): Promise<boolean> {
    return this.store.has(parseCid(cid))
  }

  async localStats (): Promise<{ shards: number, bytes: number, bytesForOthers: number }> {
    return this.stored()
  }

  /** Blocks held here and their bytes, all and for others, now (what `localStats` resolves to). */
  stored (): { shards: number, bytes: number, bytesForOthers: number } {
    const { shards, bytes, bytesForOthers } = this.store.stats()
    return { shards, bytes, bytesForOthers }
  }

  /** Bytes this peer stores for others at most now: the storage budget's share of the disk, or `storageMax`. */
  get storageMax (): number {
    return this.store.storageMax
  }

  /** Provider announcements queued or running now. */
  get providesQueued (): number {
    return this.providers.queued
  }
}
