/**
 * data/storage-budget: how much this peer may store — for other peers, a share
 * of its repo filesystem's space (`spaceForOthers`, or `storageMax` when the
 * operator set one), and for itself, anything that leaves the filesystem its
 * write floor. The free space is read at start and every STORAGE_REFRESH_MS
 * (`DiskSpace`, a component so a test can stand in a disk it cannot mount),
 * and the bytes written between readings are counted as they happen. Keeps
 * the ballast file that lets a full disk start again (`freeBallastIfFull`).
 *
 * Owns the space rule. Never deletes a block (garbage collection does) and
 * never lets a write take the filesystem below its write floor.
 */
import { open, statfs, unlink } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { Logger, Startable } from '@libp2p/interface'
import {
  DEFAULT_STORAGE_MAX, MAX_BLOCK_SIZE, STORAGE_BALLAST_BELOW_FREE_BYTES, STORAGE_BALLAST_BYTES, STORAGE_KEEP_FREE_FRACTION,
  STORAGE_KEEP_FREE_MIN_BYTES, STORAGE_REFRESH_MS, STORAGE_SHARE_FOR_OTHERS, STORAGE_WRITE_FLOOR_BYTES
} from './constants.ts'
import { StorageFullError } from './errors.ts'

/** A filesystem's size and the space free on it for this process, in bytes. */
export interface DiskUsage {
  total: number
  free: number
}

/** Reads the space of the filesystem holding `path`. */
export interface DiskSpace {
  read: (path: string) => Promise<DiskUsage>
}

/** The real reading: `statfs` of the path, free space as an unprivileged process sees it. */
export const statfsDiskSpace: DiskSpace = {
  async read (path) {
    const s = await statfs(path)
    return { total: s.blocks * s.bsize, free: s.bavail * s.bsize }
  }
}

/** Free space kept on a filesystem of `total` bytes before other peers' blocks are accepted. */
export function keepFreeOf (total: number): number {
  return Math.max(STORAGE_KEEP_FREE_MIN_BYTES, Math.floor(total * STORAGE_KEEP_FREE_FRACTION))
}

/**
 * The bytes other peers' blocks may take on a filesystem, given what they take
 * already: a share (STORAGE_SHARE_FOR_OTHERS) of the space that is free or
 * theirs, less the space always kept free; `storageMax` replaces the share but
 * never the kept space, so no setting can fill the disk. Pure.
 */
export function spaceForOthers (usage: DiskUsage, heldForOthers: number, storageMax?: number): number {
  const usable = Math.max(0, usage.free + heldForOthers - keepFreeOf(usage.total))
  return storageMax != null ? Math.min(storageMax, usable) : Math.floor(usable * STORAGE_SHARE_FOR_OTHERS)
}

/** What `status` says of the storage. */
export interface StorageStatus {
  /** Bytes other peers' blocks may take now. */
  forOthersMax: number
  /** Bytes they take. */
  forOthersUsed: number
  /** Whether a pushed block of the largest size would be refused now (`storage-full`). */
  refusingPushes: boolean
  /** Whether this peer's own writes are refused: its disk is at its write floor. */
  diskFull: boolean
  /** The repo filesystem's size and free space at the last reading; absent for a node in memory. */
  disk?: DiskUsage & { keepFree: number, writeFloor: number, readAt: number }
}

export interface StorageBudgetComponents {
  diskSpace: DiskSpace
  log: Logger
}

export interface StorageBudgetInit {
  /** A path on the repo's filesystem (the blocks directory); none: a node in memory, with a fixed budget. */
  path?: string
  /** The operator's limit on bytes stored for others; without a path, DEFAULT_STORAGE_MAX when absent. */
  storageMax?: number
  /** The ballast file; none keeps no ballast. */
  ballast?: string
  /** The bytes held for others now (the store's count). */
  heldForOthers: () => number
  /** @default STORAGE_REFRESH_MS */
  refreshMs?: number
}

export class StorageBudget implements Startable {
  private readonly components: StorageBudgetComponents
  private readonly init: StorageBudgetInit
  private readonly refreshMs: number
  private reading?: DiskUsage & { heldForOthers: number, at: number }
  /** Bytes written since the last reading, which it does not show yet. */
  private writtenSince = 0
  private timer?: ReturnType<typeof setTimeout>
  private refreshing?: Promise<void>

  constructor (components: StorageBudgetComponents, init: StorageBudgetInit) {
    this.components = components
    this.init = init
    this.refreshMs = init.refreshMs ?? STORAGE_REFRESH_MS
  }

  async start (): Promise<void> {
    if (this.init.path == null) return
    await this.refresh()
    const tick = (): void => {
      this.timer = setTimeout(() => { void this.refresh().finally(tick) }, this.refreshMs)
      this.timer.unref()
    }
    tick()
  }

  stop (): void {
    clearTimeout(this.timer)
    this.timer = undefined
  }

  /** Reads the filesystem's space now (and keeps the ballast while it is short). */
  async refresh (): Promise<void> {
    const path = this.init.path
    if (path == null) return
    this.refreshing ??= (async () => {
      try {
        const usage = await this.components.diskSpace.read(path)
        this.reading = { ...usage, heldForOthers: this.init.heldForOthers(), at: Date.now() }
        this.writtenSince = 0
        await this.keepBallast(usage)
      } catch (err) {
        this.components.log.error('reading the free space of %s failed - %e', path, err)
      }
    })().finally(() => { this.refreshing = undefined })
    await this.refreshing
  }

  /** The free space now: the last reading less what was written since. */
  private freeNow (): number | undefined {
    return this.reading == null ? undefined : this.reading.free - this.writtenSince
  }

  /** Bytes other peers' blocks may take now: a fixed size for a node in memory, or where the disk could not be read. */
  forOthersMax (): number {
    if (this.reading == null) return this.init.storageMax ?? DEFAULT_STORAGE_MAX
    return spaceForOthers(this.reading, this.reading.heldForOthers, this.init.storageMax)
  }

  /**
   * Throws StorageFullError unless a block of `size` for another peer fits:
   * within forOthersMax with `pending` bytes already promised, and leaving the
   * filesystem its kept free space.
   */
  checkForOthers (size: number, heldForOthers: number, pending: number): void {
    const max = this.forOthersMax()
    if (heldForOthers + pending + size > max) {
      throw new StorageFullError(`storage for other peers is full: ${heldForOthers + pending} of ${max} bytes used, ${size} more requested`)
    }
    const free = this.freeNow()
    if (free != null && this.reading != null && free - pending - size < keepFreeOf(this.reading.total)) {
      throw new StorageFullError(`storage for other peers is full: the disk keeps ${mib(keepFreeOf(this.reading.total))} free, ${mib(free)} is`)
    }
  }

  /** Throws StorageFullError when writing `size` bytes of this peer's own would take its disk below the write floor. */
  checkOwnWrite (size: number): void {
    const free = this.freeNow()
    if (free != null && free - size < STORAGE_WRITE_FLOOR_BYTES) {
      throw new StorageFullError(`the disk holding ${this.init.path ?? 'the repo'} is full (${mib(Math.max(0, free))} free, writes stop at ${mib(STORAGE_WRITE_FLOOR_BYTES)}): free space, or run \`edgeswarm gc\``)
    }
  }

  /** Counts bytes written (blocks, either owner) until the next reading shows them. */
  written (bytes: number): void {
    this.writtenSince += bytes
  }

  status (heldForOthers: number, pending: number): StorageStatus {
    const forOthersMax = this.forOthersMax()
    let refusingPushes = false
    try { this.checkForOthers(MAX_BLOCK_SIZE, heldForOthers, pending) } catch { refusingPushes = true }
    let diskFull = false
    try { this.checkOwnWrite(0) } catch { diskFull = true }
    const reading = this.reading
    return {
      forOthersMax,
      forOthersUsed: heldForOthers,
      refusingPushes,
      diskFull,
      ...(reading != null
        ? { disk: { total: reading.total, free: Math.max(0, reading.free - this.writtenSince), keepFree: keepFreeOf(reading.total), writeFloor: STORAGE_WRITE_FLOOR_BYTES, readAt: reading.at } }
        : {})
    }
  }

  /**
   * Keeps the ballast file while the filesystem has less than
   * STORAGE_BALLAST_BELOW_FREE_BYTES free and room for it above its kept free
   * space: then a disk that fills up anyway can be started again.
   */
  private async keepBallast (usage: DiskUsage): Promise<void> {
    const file = this.init.ballast
    if (file == null || usage.free >= STORAGE_BALLAST_BELOW_FREE_BYTES) return
    if (usage.free - STORAGE_BALLAST_BYTES < keepFreeOf(usage.total)) return
    let handle
    try {
      handle = await open(file, 'wx')
    } catch {
      return // there already (or the repo is read-only: nothing to keep)
    }
    try {
      // written, not just sized: a sparse file would hold no space
      const chunk = new Uint8Array(1024 * 1024)
      for (let written = 0; written < STORAGE_BALLAST_BYTES; written += chunk.byteLength) await handle.write(chunk)
      this.writtenSince += STORAGE_BALLAST_BYTES
    } catch {
      await handle.close().catch(() => {})
      await unlink(file).catch(() => {})
      return
    }
    await handle.close()
  }
}

/**
 * Deletes the ballast file when the filesystem holding it has less free than
 * the write floor: run before a repo's stores open, since LevelDB cannot open
 * on a full disk. Resolves whether it freed the ballast.
 */
export async function freeBallastIfFull (file: string, diskSpace: DiskSpace = statfsDiskSpace): Promise<boolean> {
  let usage: DiskUsage
  try {
    usage = await diskSpace.read(dirname(file))
  } catch {
    return false
  }
  if (usage.free >= STORAGE_WRITE_FLOOR_BYTES) return false
  try {
    await unlink(file)
    return true
  } catch {
    return false
  }
}

function mib (bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`
}
