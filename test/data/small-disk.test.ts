/**
 * A peer whose repo sits on a real small filesystem (a tmpfs mounted here):
 * others put and repair onto it and it never fills it; its own put works; it
 * restarts; with the disk filled to the last byte it still starts, serves
 * what it holds, refuses its own writes in one line, and frees space by
 * collecting garbage. Mounting needs root: elsewhere the test is skipped
 * with a notice, except under CI=true, where it must run.
 */
import { execFileSync } from 'node:child_process'
import { mkdir, open, statfs } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { StorageFullError, SHARD_PROTOCOL, keepFreeOf, type ShardRequest } from '../../src/data/index.ts'
import { STORAGE_BALLAST_FILE, STORAGE_WRITE_FLOOR_BYTES } from '../../src/data/constants.ts'
import { requestShard } from '../../src/data/protocol.ts'
import { initRepo } from '../../src/node/repo.ts'
import type { EdgeNode } from '../../src/index.ts'
import { addrOf, useCleanup, waitFor } from '../helpers.ts'
import { collect, random } from './helpers.ts'

const MiB = 1024 * 1024
const CAN_MOUNT = process.getuid?.() === 0
const MUST_RUN = process.env.CI === 'true'
if (!CAN_MOUNT && !MUST_RUN) process.stderr.write('test/data/small-disk: skipped, mounting a tmpfs needs root\n')

async function freeOf (dir: string): Promise<number> {
  const s = await statfs(dir)
  return s.bavail * s.bsize
}

/** Writes a file until the filesystem refuses (ENOSPC): the disk is full to the last block. */
async function fill (file: string): Promise<void> {
  const handle = await open(file, 'w')
  const chunk = new Uint8Array(MiB).fill(7)
  try {
    for (;;) await handle.write(chunk)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err
  }
  const small = new Uint8Array(4096).fill(7)
  try {
    for (;;) await handle.write(small)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err
  } finally {
    await handle.close()
  }
}

describe.skipIf(!CAN_MOUNT && !MUST_RUN)('a peer on a small filesystem', () => {
  const t = useCleanup()

  async function mountTmpfs (sizeMiB: number): Promise<string> {
    const dir = await t.tempDir()
    const mnt = join(dir, 'disk')
    await mkdir(mnt)
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m`, 'tmpfs', mnt])
    t.defer(() => { execFileSync('umount', ['-l', mnt]) })
    return mnt
  }

  it('never fills its disk, puts, restarts, and starts on a full disk, serves, refuses writes in one line, frees space by gc', async () => {
    const mnt = await mountTmpfs(96)
    const repo = join(mnt, 'repo')
    await initRepo(repo)
    const total = (await statfs(mnt)).blocks * (await statfs(mnt)).bsize
    const data = { repairIntervalMs: 500, gcIntervalMs: 0 }
    let small: EdgeNode = await t.node({ repo, data })
    const others: EdgeNode[] = []
    for (let i = 0; i < 3; i++) others.push(await t.node({ bootstrap: [addrOf(small)], data }))
    expect(await waitFor(() => others.every(o => o.peers().length >= 3), 15_000)).toBe(true)

    // the free space of the small disk, sampled all along
    let minFree = await freeOf(mnt)
    const sampler = setInterval(() => { void freeOf(mnt).then(f => { minFree = Math.min(minFree, f) }) }, 20)
    t.defer(() => { clearInterval(sampler) })
    const budget = small.data.storage().forOthersMax
    expect(budget).toBeGreaterThan(8 * MiB)
    expect(budget).toBeLessThan(32 * MiB)
    // others put more than twice the small peer's whole budget for others, replicated onto it, and repair
    const files: string[] = []
    for (let i = 0; i < 2; i++) files.push((await others[i].data.put(random(Math.ceil(budget * 1.2)), { replicas: 4, chunkSize: MiB })).toString())
    await new Promise(resolve => setTimeout(resolve, 2000))
    await small.data.repairOnce()
    const held = small.data.storage()
    expect(held.forOthersUsed).toBeGreaterThan(budget / 2)
    expect(held.forOthersUsed).toBeLessThanOrEqual(budget)
    expect(held.refusingPushes).toBe(true)
    // never past its floor: LevelDB's log and tables hold a block twice while it flushes,
    // so the disk may dip a few MiB under the kept space, never to the write floor
    expect(minFree).toBeGreaterThan(STORAGE_WRITE_FLOOR_BYTES)
    expect(minFree).toBeGreaterThan(keepFreeOf(total) - 16 * MiB)

    // its own put works, and another peer reads it back
    const mine = random(4 * MiB)
    const own = await small.data.put(mine, { replicas: 2 })
    expect(Buffer.compare(await collect(others[0].data.get(own)), mine)).toBe(0)

    // it restarts, and still holds what it held
    const before = await small.data.localStats()
    await small.stop()
    small = await t.node({ repo, data, bootstrap: [addrOf(others[0])] })
    expect(await small.data.localStats()).toEqual(before)
    expect((await small.data.ls()).map(r => r.cid)).toEqual([own.toString()])
    // short of space, it keeps a ballast for a full start
    expect(await waitFor(async () => (await statfs(mnt)).bavail > 0, 1000)).toBe(true)
    const ballast = join(repo, STORAGE_BALLAST_FILE)
    await expect(open(ballast, 'r').then(async h => { await h.close(); return true })).resolves.toBe(true)

    // the disk fills to the last byte (another program, say) while it is off
    await small.stop()
    await fill(join(mnt, 'filler'))
    expect(await freeOf(mnt)).toBeLessThan(64 * 1024)
    // it starts anyway (the ballast made room for LevelDB to open), and says the disk is full
    small = await t.node({ repo, data, bootstrap: [addrOf(others[0])] })
    expect(small.data.storage()).toMatchObject({ diskFull: true, refusingPushes: true })
    expect((await small.status()).storage.diskFull).toBe(true)
    // it serves what it holds: its own file, and a block asked for over the shard protocol
    expect(Buffer.compare(await collect(small.data.get(own)), mine)).toBe(0)
    expect(await waitFor(() => others[1].peers().some(p => p.id === small.peerId.toString()), 15_000)).toBe(true)
    const stream = await others[1].libp2p.dialProtocol(small.peerId, SHARD_PROTOCOL)
    const req: ShardRequest = { op: 'get', cid: (await small.data.manifest(own)).shards[0].cid }
    const reply = await requestShard(stream, req, undefined, AbortSignal.timeout(10_000))
    expect(reply.response.ok).toBe(true)
    expect(Buffer.compare(reply.bytes ?? new Uint8Array(0), mine.subarray(0, reply.bytes?.byteLength ?? 0))).toBe(0)
    // its own write is refused in one clear line
    const err = await small.data.put(random(64 * 1024)).then(() => undefined, (e: unknown) => e)
    expect(err).toBeInstanceOf(StorageFullError)
    expect((err as Error).message).not.toContain('\n')

    // the putters remove their files: it collects them and the space comes back
    const freeBefore = await freeOf(mnt)
    for (let i = 0; i < files.length; i++) await others[i].data.rm(files[i])
    expect(await waitFor(() => small.data.storage().forOthersUsed === 0, 15_000)).toBe(true)
    await small.data.gc()
    expect(await freeOf(mnt)).toBeGreaterThan(freeBefore + budget / 2)
    // and it writes again
    await small.data.put(random(64 * 1024), { replicas: 1 })
  })
})
