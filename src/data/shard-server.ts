/**
 * data/shard-server: the serving side of the shard protocol for this peer's
 * store — answers `has` (one or many), reads blocks for `get`, admits a
 * pushed block within the storage budget for other peers unless every put it
 * is part of was released, and accepts it once its bytes hash to its CID.
 * `protocol.ts`'s `serveShardStream` asks it every decision; a
 * `DataServiceComponents.shardServer` decorator may wrap it.
 *
 * Never stores a byte it has not hashed against the CID, never stores more
 * for others than its budget, never takes back released data (so repair by
 * a peer that missed a release cannot bring it back), and never announces a
 * block whose sender said it announces it itself.
 */
import type { Logger } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'
import { blockMatches } from './blocks.ts'
import { StorageFullError } from './errors.ts'
import type { ShardRequest, ShardResponse, ShardServer } from './protocol.ts'
import type { ProviderQueue } from './provider-queue.ts'
import type { RecordStore } from './record-store.ts'
import type { ShardStore } from './shard-store.ts'
import type { DataMetrics, DataServiceComponents } from './types.ts'

export type LocalShardServerComponents = Pick<DataServiceComponents, 'logger'>

export interface LocalShardServerInit {
  store: ShardStore
  providers: ProviderQueue
  /** The root and release records: a push of a block only released puts list is refused. */
  records: RecordStore
  metrics: DataMetrics
  /** The replica count recorded for a pushed block whose request names none. */
  replicas: number
}

type PutRequest = Extract<ShardRequest, { op: 'put' }>

/** Serves the blocks this peer holds and takes in the blocks pushed to it. */
export class LocalShardServer implements ShardServer {
  private readonly log: Logger
  private readonly store: ShardStore
  private readonly providers: ProviderQueue
  private readonly records: RecordStore
  private readonly metrics: DataMetrics
  private readonly replicas: number

  constructor (components: LocalShardServerComponents, init: LocalShardServerInit) {
    this.log = components.logger.forComponent('edgeswarm:data')
    this.store = init.store
    this.providers = init.providers
    this.records = init.records
    this.metrics = init.metrics
    this.replicas = init.replicas
  }

  async has (cid: CID): Promise<boolean> {
    return this.store.has(cid)
  }

  async hasMany (cids: CID[]): Promise<boolean[]> {
    return cids.map(cid => this.store.has(cid))
  }

  async read (cid: CID): Promise<Uint8Array | undefined> {
    const bytes = await this.store.get(cid)
    if (bytes != null) this.metrics.bytesSent += bytes.byteLength
    return bytes
  }

  async admit (req: PutRequest): Promise<{ release: () => void } | ShardResponse> {
    if (req.puts != null && req.puts.length > 0 && this.records.blockState(req.puts) === 'released') {
      return { ok: false, code: 'released', error: `${req.cid.toString()} belongs only to released roots` }
    }
    if (this.store.has(req.cid)) return { release: () => {} }
    try {
      return { release: this.store.reserve(req.size) }
    } catch (err) {
      if (err instanceof StorageFullError) return { ok: false, code: 'storage-full', error: err.message }
      throw err
    }
  }

  async accept (req: PutRequest, bytes: Uint8Array): Promise<ShardResponse> {
    if (!blockMatches(req.cid, bytes)) {
      return { ok: false, code: 'integrity', error: `bytes do not hash to ${req.cid.toString()}` }
    }
    this.metrics.bytesReceived += bytes.byteLength
    // own the bytes: the frame may be a view into a larger receive buffer
    await this.store.put(req.cid, bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.byteLength ? bytes : bytes.slice(), {
      forOthers: true,
      replicas: req.replicas ?? this.replicas,
      puts: req.puts
    })
    // a put's sender announces the block itself: this copy is announced by the
    // reprovide loop (or at once when repair moves a block here), so a put
    // costs one announcement per block, not one per copy
    if (req.announce === false) this.providers.markProvided(req.cid)
    else this.providers.enqueue(req.cid)
    return { ok: true }
  }

  onError (err: Error, remotePeer: string): void {
    this.log('rejected shard message from %s - %s', remotePeer, err.message)
  }
}
