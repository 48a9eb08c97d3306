/**
 * data/putter: one put — the input cut into shards as it arrives, each
 * stored here and placed on its closest peers (PUT_CONCURRENCY at once), then
 * the root; every block pushed under the put's fresh id; the put recorded for
 * `ls` and its signed root record published, which keeps its blocks alive on
 * every holder until `rm`.
 *
 * Never holds more than a few chunks in memory, never waits for a provider
 * announcement, and publishes the root record only once the root is placed
 * (a put stopped half-way leaves blocks no record names: garbage after the grace).
 */
import { randomBytes } from 'node:crypto'
import type { CID } from 'multiformats/cid'
import { anySignal, mapOrdered } from '../async/index.ts'
import { cidOf, encodeManifest, endsWithNewline, type ShardRef } from './blocks.ts'
import { chunk, type ByteSource } from './chunker.ts'
import { MAX_BLOCK_SIZE, MAX_PUT_NAME_LENGTH, PUT_CONCURRENCY, ROOT_PROVIDE_PRIORITY } from './constants.ts'
import { InvalidManifestError, InvalidNameError } from './errors.ts'
import type { ProviderQueue } from './provider-queue.ts'
import type { RecordSync } from './record-sync.ts'
import type { Replicator } from './replicator.ts'
import type { ShardStore } from './shard-store.ts'
import type { PutOptions } from './types.ts'

export interface PutterComponents {
  store: ShardStore
  replicator: Pick<Replicator, 'replicate'>
  providers: Pick<ProviderQueue, 'enqueue'>
  /** Publishes the put's root record. */
  records: Pick<RecordSync, 'publish'>
}

/** A put's options once its defaults are applied and checked. */
export type CheckedPutOptions = PutOptions & { replicas: number, chunkSize: number, signal: AbortSignal }

/** A fresh put id: 128 random bits, base64url (PUT_ID_LENGTH characters). */
function newPutId (): string {
  return randomBytes(16).toString('base64url')
}

/** A put's name, checked: at most MAX_PUT_NAME_LENGTH characters, no control characters; empty is none. */
export function checkName (name: string | undefined): string | undefined {
  if (name == null) return undefined
  if (name.length > MAX_PUT_NAME_LENGTH || /[\u0000-\u001f]/.test(name)) {
    throw new InvalidNameError(`a put's name must be at most ${MAX_PUT_NAME_LENGTH} characters without control characters`)
  }
  return name === '' ? undefined : name
}

export class Putter {
  private readonly components: PutterComponents

  constructor (components: PutterComponents) {
    this.components = components
  }

  /** Stores and places `content`; resolves to its root's CID (see DataService.put). */
  async put (content: ByteSource, options: CheckedPutOptions): Promise<CID> {
    const { store, replicator, providers, records } = this.components
    const { replicas, chunkSize, signal } = options
    const name = checkName(options.name)
    const put = newPutId()
    const puts = [put]
    const shards: ShardRef[] = []
    let bytesDone = 0
    let minHolders = Infinity
    const placed = mapOrdered(chunk(content, chunkSize), PUT_CONCURRENCY, async (bytes, stop) => {
      const cid = cidOf(bytes)
      await store.put(cid, bytes, { forOthers: false, replicas, puts })
      providers.enqueue(cid)
      const either = anySignal(signal, stop)
      const { holders } = await replicator.replicate(cid, replicas, async () => bytes, either, { announcedBySender: true, puts }).finally(() => { either.clear() })
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
    await store.put(root.cid, root.bytes, { forOthers: false, replicas, puts })
    // the root is what every reader asks for first: announced before any queued shard,
    // and placed on the closest peers a lookup finds, where readers' lookups end
    providers.enqueue(root.cid, ROOT_PROVIDE_PRIORITY)
    const { holders } = await replicator.replicate(root.cid, replicas, async () => root.bytes, signal, { announcedBySender: true, lookup: true, puts })
    minHolders = Math.min(minHolders, holders.length)
    const createdAt = Date.now()
    await store.addPut(put, { root: root.cid.toString(), ...(name != null ? { name } : {}), size: bytesDone, shards: shards.length, replicas, createdAt, listed: options.listed ?? true })
    if (options.record ?? true) await records.publish({ t: 'root', put, root: root.cid.toString(), at: createdAt })
    options.onProgress?.({
      type: 'done',
      cid: root.cid.toString(),
      size: bytesDone,
      shards: shards.length,
      replicas,
      minHolders,
      underReplicated: minHolders < replicas,
      put
    })
    return root.cid
  }
}
