/**
 * data/shard-store: the blocks this peer holds — the blockstore passed in
 * (blockstore-level on disk for a daemon) plus an index in the datastore of
 * what each block is (own or held for others, size, wanted replicas) and of
 * the roots this peer put. Owns the storage budget for other peers' blocks.
 * Never verifies bytes (callers do, at the trust boundary) and never talks
 * to the network.
 */
import { Key, type Datastore } from 'interface-datastore'
import type { Blockstore } from 'interface-blockstore'
import { CID } from 'multiformats/cid'
import { z } from 'zod'
import { StorageFullError } from './errors.ts'

const BLOCK_PREFIX = '/edgeswarm/data/blocks'
const ROOT_PREFIX = '/edgeswarm/data/roots'

const blockEntrySchema = z.object({
  size: z.number().int().nonnegative(),
  forOthers: z.boolean(),
  replicas: z.number().int().positive()
})
export type BlockEntry = z.infer<typeof blockEntrySchema>

const rootEntrySchema = z.object({
  size: z.number().int().nonnegative(),
  shards: z.number().int().nonnegative(),
  createdAt: z.number()
})
export interface RootEntry extends z.infer<typeof rootEntrySchema> { cid: string }

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export class ShardStore {
  private readonly blocks: Blockstore
  private readonly datastore: Datastore
  private readonly index = new Map<string, BlockEntry & { cid: CID }>()
  readonly storageMax: number
  private bytes = 0
  private bytesForOthers = 0
  private reserved = 0

  constructor (blocks: Blockstore, datastore: Datastore, storageMax: number) {
    this.blocks = blocks
    this.datastore = datastore
    this.storageMax = storageMax
  }

  /** Loads the index; rebuilds it from the blockstore when the index is missing. */
  async open (): Promise<void> {
    this.index.clear()
    this.bytes = 0
    this.bytesForOthers = 0
    for await (const { key, value } of this.datastore.query({ prefix: BLOCK_PREFIX })) {
      try {
        const cid = CID.parse(key.baseNamespace())
        const entry = blockEntrySchema.parse(JSON.parse(decoder.decode(value)))
        this.remember(cid, entry)
      } catch {
        // a damaged index entry: dropped; the block is found again below if still stored
      }
    }
    if (this.index.size === 0) {
      for await (const { cid, bytes } of this.blocks.getAll()) {
        let size = 0
        for await (const piece of bytes) size += piece.byteLength
        this.remember(cid, { size, forOthers: false, replicas: 1 })
      }
    }
  }

  private remember (cid: CID, entry: BlockEntry): void {
    const key = cid.toString()
    const old = this.index.get(key)
    if (old != null) {
      this.bytes -= old.size
      if (old.forOthers) this.bytesForOthers -= old.size
    }
    this.index.set(key, { ...entry, cid })
    this.bytes += entry.size
    if (entry.forOthers) this.bytesForOthers += entry.size
  }

  private async writeEntry (cid: CID, entry: BlockEntry): Promise<void> {
    await this.datastore.put(new Key(`${BLOCK_PREFIX}/${cid.toString()}`), encoder.encode(JSON.stringify(entry)))
  }

  has (cid: CID): boolean {
    return this.index.has(cid.toString())
  }

  entry (cid: CID): (BlockEntry & { cid: CID }) | undefined {
    return this.index.get(cid.toString())
  }

  /** Every block held, with its index entry. */
  entries (): Array<BlockEntry & { cid: CID }> {
    return [...this.index.values()]
  }

  async get (cid: CID): Promise<Uint8Array | undefined> {
    if (!this.has(cid)) return undefined
    const pieces: Uint8Array[] = []
    let total = 0
    try {
      for await (const piece of this.blocks.get(cid)) {
        pieces.push(piece)
        total += piece.byteLength
      }
    } catch {
      return undefined
    }
    if (pieces.length === 1) return pieces[0]
    const out = new Uint8Array(total)
    let offset = 0
    for (const p of pieces) { out.set(p, offset); offset += p.byteLength }
    return out
  }

  /**
   * Reserves room for a block held for another peer; throws StorageFullError
   * when it would exceed storageMax. Returns the release function.
   */
  reserve (size: number): () => void {
    if (this.bytesForOthers + this.reserved + size > this.storageMax) {
      throw new StorageFullError(`storage for other peers is full: ${this.bytesForOthers + this.reserved} of ${this.storageMax} bytes used, ${size} more requested`)
    }
    this.reserved += size
    let released = false
    return () => {
      if (!released) { released = true; this.reserved -= size }
    }
  }

  /**
   * Stores a (verified) block. An own block already held for others becomes
   * own; the wanted replica count only grows.
   */
  async put (cid: CID, bytes: Uint8Array, options: { forOthers: boolean, replicas: number }): Promise<void> {
    const old = this.entry(cid)
    if (old != null) {
      const forOthers = old.forOthers && options.forOthers
      const replicas = Math.max(old.replicas, options.replicas)
      if (forOthers !== old.forOthers || replicas !== old.replicas) {
        const entry = { size: old.size, forOthers, replicas }
        await this.writeEntry(cid, entry)
        this.remember(cid, entry)
      }
      return
    }
    const entry = { size: bytes.byteLength, forOthers: options.forOthers, replicas: options.replicas }
    await this.blocks.put(cid, bytes)
    await this.writeEntry(cid, entry)
    this.remember(cid, entry)
  }

  async addRoot (cid: CID, entry: Omit<RootEntry, 'cid'>): Promise<void> {
    await this.datastore.put(new Key(`${ROOT_PREFIX}/${cid.toString()}`), encoder.encode(JSON.stringify(entry)))
  }

  async roots (): Promise<RootEntry[]> {
    const out: RootEntry[] = []
    for await (const { key, value } of this.datastore.query({ prefix: ROOT_PREFIX })) {
      try {
        const entry = rootEntrySchema.parse(JSON.parse(decoder.decode(value)))
        out.push({ cid: key.baseNamespace(), ...entry })
      } catch {
        // damaged entry: skipped
      }
    }
    return out.sort((a, b) => a.createdAt - b.createdAt)
  }

  stats (): { shards: number, bytes: number, bytesForOthers: number } {
    return { shards: this.index.size, bytes: this.bytes, bytesForOthers: this.bytesForOthers }
  }
}
