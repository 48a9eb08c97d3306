/**
 * data/shard-store: the blocks this peer holds — the blockstore passed in
 * (blockstore-level on disk for a daemon) plus an index in the datastore of
 * what each block is (own or held for others, size, wanted replicas, the puts
 * it is part of, when it was stored) and of the puts this peer made (root,
 * name, size, whether `ls` lists it). Every write goes through the storage
 * budget; a full disk is a StorageFullError, never a LevelDB stack.
 *
 * Never verifies bytes (callers do, at the trust boundary) and never talks
 * to the network.
 */
import { Key, type Datastore } from 'interface-datastore'
import type { Blockstore } from 'interface-blockstore'
import { CID } from 'multiformats/cid'
import { z } from 'zod'
import { MAX_PUTS_PER_BLOCK, MAX_PUT_NAME_LENGTH } from './constants.ts'
import { StorageFullError } from './errors.ts'
import type { StorageBudget, StorageStatus } from './storage-budget.ts'

const BLOCK_PREFIX = '/edgeswarm/data/blocks'
const PUT_PREFIX = '/edgeswarm/data/puts'

const blockEntrySchema = z.object({
  size: z.number().int().nonnegative(),
  forOthers: z.boolean(),
  replicas: z.number().int().positive(),
  /** The puts (their ids) this block was stored or pushed under: their root records say whether it is live. */
  puts: z.array(z.string()).max(MAX_PUTS_PER_BLOCK).default([]),
  /** When the block was stored, or last given a put: the garbage grace runs from it. */
  at: z.number().default(() => Date.now())
})
export type BlockEntry = z.infer<typeof blockEntrySchema>
/** A held block's index entry with its CID (made on request: the index keeps the CID's text only). */
export type HeldBlock = BlockEntry & { cid: CID }

const putEntrySchema = z.object({
  root: z.string(),
  /** The name `ls` shows: `put --name`, else the file's name; absent for stdin. */
  name: z.string().max(MAX_PUT_NAME_LENGTH).optional(),
  size: z.number().int().nonnegative(),
  shards: z.number().int().nonnegative(),
  replicas: z.number().int().positive(),
  createdAt: z.number(),
  /** Whether `ls` lists it: false for the blocks of the layers above (job documents, results). */
  listed: z.boolean()
})
export interface PutEntry extends z.infer<typeof putEntrySchema> { put: string }

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** Whether `err` is a write that failed for want of space (LevelDB reports ENOSPC as an IO error naming it). */
function isNoSpace (err: unknown): boolean {
  for (let e = err as { code?: unknown, message?: unknown, cause?: unknown } | undefined, depth = 0; e != null && depth < 4; e = e.cause as typeof e, depth++) {
    if (e.code === 'ENOSPC' || (typeof e.message === 'string' && /no space left on device|ENOSPC/i.test(e.message))) return true
  }
  return false
}

export class ShardStore {
  private readonly blocks: Blockstore
  private readonly datastore: Datastore
  private readonly budget: StorageBudget
  /** Index entries by CID text: a parsed CID per held block would cost more than the entry. */
  private readonly index = new Map<string, BlockEntry>()
  private bytes = 0
  private shardsForOthers = 0
  private bytesForOthers = 0
  private reserved = 0

  constructor (blocks: Blockstore, datastore: Datastore, budget: StorageBudget) {
    this.blocks = blocks
    this.datastore = datastore
    this.budget = budget
  }

  /** Loads the index; rebuilds it from the blockstore when the index is missing. */
  async open (): Promise<void> {
    this.index.clear()
    this.bytes = 0
    this.bytesForOthers = 0
    this.shardsForOthers = 0
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
        this.remember(cid, { size, forOthers: false, replicas: 1, puts: [], at: Date.now() })
      }
    }
  }

  /** Bytes held for other peers now. */
  get heldForOthers (): number {
    return this.bytesForOthers
  }

  private remember (cid: CID, entry: BlockEntry): void {
    const key = cid.toString()
    this.forget(key)
    this.index.set(key, entry)
    this.bytes += entry.size
    if (entry.forOthers) { this.bytesForOthers += entry.size; this.shardsForOthers++ }
  }

  private forget (key: string): void {
    const old = this.index.get(key)
    if (old == null) return
    this.index.delete(key)
    this.bytes -= old.size
    if (old.forOthers) { this.bytesForOthers -= old.size; this.shardsForOthers-- }
  }

  private async writeEntry (cid: CID, entry: BlockEntry): Promise<void> {
    await this.datastore.put(new Key(`${BLOCK_PREFIX}/${cid.toString()}`), encoder.encode(JSON.stringify(entry)))
  }

  has (cid: CID): boolean {
    return this.index.has(cid.toString())
  }

  entry (cid: CID): HeldBlock | undefined {
    const entry = this.index.get(cid.toString())
    return entry == null ? undefined : { ...entry, cid }
  }

  /**
   * Every block held, with its index entry, each CID parsed as a pass reaches
   * it: a pass over many blocks (repair, collection, announcements) never
   * holds all their CIDs at once. Blocks stored during the pass may be
   * visited; blocks deleted before it reaches them are not.
   */
  * entries (): Generator<HeldBlock> {
    for (const [key, entry] of this.index) yield { ...entry, cid: CID.parse(key) }
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
   * when the budget for others, or the disk's kept free space, has no room.
   * Returns the release function.
   */
  reserve (size: number): () => void {
    this.budget.checkForOthers(size, this.bytesForOthers, this.reserved)
    this.reserved += size
    let released = false
    return () => {
      if (!released) { released = true; this.reserved -= size }
    }
  }

  /**
   * Stores a (verified) block. An own block already held for others becomes
   * own; the wanted replica count only grows; the puts are merged (the newest
   * kept past MAX_PUTS_PER_BLOCK). An own new block is refused with
   * StorageFullError when the disk is at its write floor.
   */
  async put (cid: CID, bytes: Uint8Array, options: { forOthers: boolean, replicas: number, puts?: readonly string[] }): Promise<void> {
    const old = this.entry(cid)
    const added = options.puts ?? []
    if (old != null) {
      const forOthers = old.forOthers && options.forOthers
      const replicas = Math.max(old.replicas, options.replicas)
      const puts = added.some(p => !old.puts.includes(p)) ? mergePuts(old.puts, added) : old.puts
      if (forOthers !== old.forOthers || replicas !== old.replicas || puts !== old.puts) {
        const entry = { size: old.size, forOthers, replicas, puts, at: puts !== old.puts ? Date.now() : old.at }
        await this.write(async () => { await this.writeEntry(cid, entry) })
        this.remember(cid, entry)
      }
      return
    }
    // blocks for others were admitted within the budget already (reserve)
    if (!options.forOthers) this.budget.checkOwnWrite(bytes.byteLength)
    const entry = { size: bytes.byteLength, forOthers: options.forOthers, replicas: options.replicas, puts: mergePuts([], added), at: Date.now() }
    await this.write(async () => {
      await this.blocks.put(cid, bytes)
      await this.writeEntry(cid, entry)
    })
    this.budget.written(bytes.byteLength)
    this.remember(cid, entry)
  }

  /** Runs a write, a full disk turned into one clear StorageFullError. */
  private async write (fn: () => Promise<void>): Promise<void> {
    try {
      await fn()
    } catch (err) {
      if (!isNoSpace(err)) throw err
      void this.budget.refresh()
      throw new StorageFullError('the disk holding the repo is full (no space left on device): free space, or run `edgeswarm gc`')
    }
  }

  /** Deletes a block and its index entry; the blockstore frees the space when it compacts. */
  async delete (cid: CID): Promise<void> {
    const key = cid.toString()
    if (!this.index.has(key)) return
    await this.blocks.delete(cid)
    await this.datastore.delete(new Key(`${BLOCK_PREFIX}/${key}`))
    this.forget(key)
  }

  async addPut (put: string, entry: z.infer<typeof putEntrySchema>): Promise<void> {
    await this.write(async () => { await this.datastore.put(new Key(`${PUT_PREFIX}/${put}`), encoder.encode(JSON.stringify(entry))) })
  }

  async deletePut (put: string): Promise<void> {
    await this.datastore.delete(new Key(`${PUT_PREFIX}/${put}`))
  }

  /** The puts this peer made, oldest first. */
  async puts (): Promise<PutEntry[]> {
    const out: PutEntry[] = []
    for await (const { key, value } of this.datastore.query({ prefix: PUT_PREFIX })) {
      try {
        const entry = putEntrySchema.parse(JSON.parse(decoder.decode(value)))
        out.push({ put: key.baseNamespace(), ...entry })
      } catch {
        // damaged entry: skipped
      }
    }
    return out.sort((a, b) => a.createdAt - b.createdAt)
  }

  stats (): { shards: number, bytes: number, bytesForOthers: number, shardsForOthers: number } {
    return { shards: this.index.size, bytes: this.bytes, bytesForOthers: this.bytesForOthers, shardsForOthers: this.shardsForOthers }
  }

  storage (): StorageStatus {
    return this.budget.status(this.bytesForOthers, this.reserved)
  }

  /** Bytes other peers' blocks may take now (the storage budget's share, or `storageMax`). */
  get storageMax (): number {
    return this.budget.forOthersMax()
  }
}

/** `old` and `added` as one list without repeats, the newest kept past MAX_PUTS_PER_BLOCK. */
function mergePuts (old: readonly string[], added: readonly string[]): string[] {
  const out = [...old]
  for (const p of added) if (!out.includes(p)) out.push(p)
  return out.length > MAX_PUTS_PER_BLOCK ? out.slice(out.length - MAX_PUTS_PER_BLOCK) : out
}
