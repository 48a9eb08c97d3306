/**
 * The space a peer gives others: the rule (a share of the free-or-theirs
 * space less a kept floor; storageMax replaces the share, never the floor)
 * as a property over all disks, and on real peers whose disk reading is
 * injected: a peer at its budget refuses pushes and says so, a peer at its
 * write floor refuses its own put in one line.
 */
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { StorageFullError, keepFreeOf, spaceForOthers, type DiskSpace, type DiskUsage } from '../../src/data/index.ts'
import { STORAGE_WRITE_FLOOR_BYTES } from '../../src/data/constants.ts'
import { random, startSwarm, stopAll, type TestPeer } from './helpers.ts'

const MiB = 1024 * 1024
const GiB = 1024 * MiB

describe('the space given to others', () => {
  it('is half of the free space less the kept floor, on a 1 GiB and a 100 GiB disk', () => {
    expect(keepFreeOf(GiB)).toBe(64 * MiB)
    expect(spaceForOthers({ total: GiB, free: GiB }, 0)).toBe(480 * MiB)
    expect(keepFreeOf(100 * GiB)).toBe(5 * GiB)
    expect(spaceForOthers({ total: 100 * GiB, free: 100 * GiB }, 0)).toBe(47.5 * GiB)
    // what others hold already counts as theirs: the budget does not shrink as it fills
    expect(spaceForOthers({ total: GiB, free: GiB - 100 * MiB }, 100 * MiB)).toBe(480 * MiB)
    // a disk at its floor gives nothing; storageMax replaces the share, not the floor
    expect(spaceForOthers({ total: GiB, free: 60 * MiB }, 0)).toBe(0)
    expect(spaceForOthers({ total: GiB, free: GiB }, 0, 2 * GiB)).toBe(GiB - 64 * MiB)
    expect(spaceForOthers({ total: GiB, free: GiB }, 0, 10 * MiB)).toBe(10 * MiB)
  })

  it('never lets others fill a disk past its floor, whatever the disk and storageMax', () => {
    const disk = fc.integer({ min: 1, max: 2 ** 43 }).chain(total => fc.record({
      total: fc.constant(total),
      free: fc.integer({ min: 0, max: total }),
      heldShare: fc.double({ min: 0, max: 1, noNaN: true }),
      storageMax: fc.option(fc.integer({ min: 0, max: 2 ** 44 }), { nil: undefined })
    }))
    fc.assert(fc.property(disk, ({ total, free, heldShare, storageMax }) => {
      const held = Math.floor((total - free) * heldShare)
      const max = spaceForOthers({ total, free }, held, storageMax)
      expect(max).toBeGreaterThanOrEqual(0)
      if (storageMax != null) expect(max).toBeLessThanOrEqual(storageMax)
      // filling the budget up from what is held leaves at least the floor free
      if (max > held) expect(free - (max - held)).toBeGreaterThanOrEqual(keepFreeOf(total))
    }))
  })
})

/** A disk whose reading the test sets. */
function fakeDisk (usage: DiskUsage): DiskSpace & { usage: DiskUsage } {
  const disk = { usage, read: async () => ({ ...disk.usage }) }
  return disk
}

describe('a peer at its limits (disk reading injected)', () => {
  const peers: TestPeer[] = []
  afterEach(async () => { await stopAll(peers) })

  it('refuses pushes past its share and says so; the pusher places elsewhere', async () => {
    // 80 MiB free on a 1 GiB disk: 64 MiB kept, half of the other 16 MiB for others
    const small = fakeDisk({ total: GiB, free: 80 * MiB })
    await startSwarm(4, i => ({ repairIntervalMs: 0, gcIntervalMs: 0, ...(i === 1 ? { storagePath: '/fake' } : {}) }), peers, i => i === 1 ? { diskSpace: small } : {})
    const smallPeer = peers[1]
    expect(smallPeer.data.storage()).toMatchObject({ forOthersMax: 8 * MiB, forOthersUsed: 0, refusingPushes: false, diskFull: false })
    let done: { underReplicated: boolean } | undefined
    await peers[0].data.put(random(24 * MiB), { replicas: 3, onProgress: ev => { if (ev.type === 'done') done = ev } })
    const status = smallPeer.data.storage()
    expect(status.forOthersUsed).toBeGreaterThan(0)
    expect(status.forOthersUsed).toBeLessThanOrEqual(8 * MiB)
    expect(status.refusingPushes).toBe(true)
    // the three other peers took every copy the small one refused
    expect(done?.underReplicated).toBe(false)
  })

  it('refuses its own put in one clear line at its write floor', async () => {
    const full = fakeDisk({ total: GiB, free: STORAGE_WRITE_FLOOR_BYTES - 1 })
    await startSwarm(2, i => ({ repairIntervalMs: 0, gcIntervalMs: 0, ...(i === 0 ? { storagePath: '/fake' } : {}) }), peers, i => i === 0 ? { diskSpace: full } : {})
    expect(peers[0].data.storage()).toMatchObject({ forOthersMax: 0, refusingPushes: true, diskFull: true })
    const err = await peers[0].data.put(random(100 * 1024)).then(() => undefined, (e: unknown) => e)
    expect(err).toBeInstanceOf(StorageFullError)
    expect((err as Error).message).not.toContain('\n')
    expect((err as Error).message).toMatch(/disk .* is full .*edgeswarm gc/)
    // the peer with room still puts
    await peers[1].data.put(random(100 * 1024), { replicas: 1 })
  })
})
