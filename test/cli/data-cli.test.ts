/**
 * The data commands end to end, in child processes, as an operator runs them:
 * put --name, ls and ls --all (text and their JSON shapes), rm by the putter
 * only, get of a removed root, gc saying what it freed; every mistake one
 * line on stderr and a non-zero exit.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ApiClient } from '../../src/api/client.ts'
import { initRepo } from '../../src/node/repo.ts'
import type { FullListing } from '../../src/data/index.ts'
import { useCleanup, waitFor } from '../helpers.ts'
import { useCli, type CliResult } from './cli-process.ts'

const cli = useCli()

type Result = CliResult

async function run (args: string[], stdin?: string): Promise<Result> {
  return await cli.run(args, stdin != null ? { stdin } : {})
}

async function daemon (repo: string, extra: string[] = []): Promise<void> {
  await cli.daemon(repo, ['--listen', '/ip4/127.0.0.1/tcp/0', ...extra])
}

function oneLineError (r: Result, pattern: RegExp): void {
  expect(r.code).not.toBe(0)
  const lines = r.stderr.trim().split('\n')
  expect(lines).toHaveLength(1)
  expect(lines[0]).toMatch(/^edgeswarm: /)
  expect(lines[0]).toMatch(pattern)
}

describe('edgeswarm data commands', () => {
  const t = useCleanup()

  it('put --name, ls, ls --all, rm, get of a removed root, gc', async () => {
    const dir = await t.tempDir()
    const a = join(dir, 'a')
    const b = join(dir, 'b')
    // init and id are not what this tests: done in process (cli.test.ts runs them as commands)
    await initRepo(a)
    await initRepo(b)
    await daemon(a)
    const idA = await (await ApiClient.forRepo(a)).call<{ id: string, addresses: string[] }>('id')
    await daemon(b, ['--bootstrap', idA.addresses[0]])
    // polled through the API in process: a CLI process per poll would cost a second each
    const apiB = await ApiClient.forRepo(b)
    expect(await waitFor(async () => (await apiB.call<unknown[]>('peers')).length > 0, 20_000, 200)).toBe(true)

    const file = join(dir, 'readings.csv')
    const text = 'device,temp\n' + Array.from({ length: 2000 }, (_, i) => `pi${i % 7},${i % 40}`).join('\n') + '\n'
    await writeFile(file, text)
    const named = await run(['put', file, '--repo', a, '--chunk-size', '4096', '--json'])
    expect(named.code, named.stderr).toBe(0)
    const put = JSON.parse(named.stdout) as { cid: string, name: string }
    expect(put.name).toBe('readings.csv')
    const renamed = (await run(['put', file, '--repo', a, '--chunk-size', '4096', '--name', 'copy of readings'])).stdout.trim()
    // the same bytes are the same root: one file, put twice under two names
    expect(renamed).toBe(put.cid)
    const fromStdin = (await run(['put', '-', '--repo', a], 'from stdin\n')).stdout.trim()

    const ls = JSON.parse((await run(['ls', '--repo', a, '--json'])).stdout) as Array<{ cid: string, name: string | null, size: number, shards: number, createdAt: number }>
    expect(ls.map(r => [r.cid, r.name])).toEqual([[put.cid, 'readings.csv'], [put.cid, 'copy of readings'], [fromStdin, null]])
    expect(ls[0]).toMatchObject({ size: text.length, shards: Math.ceil(text.length / 4096) })
    expect(typeof ls[0].createdAt).toBe('number')
    const lsText = (await run(['ls', '--repo', a])).stdout
    expect(lsText).toContain('readings.csv')
    expect(lsText).toContain(fromStdin)

    // b holds copies for a: ls lists nothing of its own, ls --all says whose and why
    expect((await run(['ls', '--repo', b])).stdout).toBe('(nothing put from this peer)\n')
    expect(await waitFor(async () => (await apiB.call<FullListing>('ls', { all: true })).held.some(g => g.reason === 'root' && g.root === put.cid), 10_000, 200)).toBe(true)
    const all = JSON.parse((await run(['ls', '--all', '--repo', b, '--json'])).stdout) as FullListing
    expect(all.roots).toEqual([])
    expect(all.held.find(g => g.root === put.cid)).toMatchObject({ reason: 'root', putter: idA.id, forOthers: true })
    expect((await run(['ls', '--all', '--repo', b])).stdout).toMatch(new RegExp(`for others\\s+of root ${put.cid} put by ${idA.id}`))

    // stat's progress (what its bar shows on a terminal): events as holders answer, the stat last
    const events: Array<{ type: string, checked?: number, total?: number, stat?: { shards: unknown[] } }> = []
    for await (const ev of apiB.events<(typeof events)[number]>('stat', { arg: put.cid, progress: true })) events.push(ev)
    expect(events.at(-1)?.type).toBe('done')
    expect(events.at(-1)?.stat?.shards).toHaveLength(ls[0].shards)
    const progress = events.filter(e => e.type === 'progress')
    expect(progress.length).toBeGreaterThan(0)
    expect(progress.at(-1)?.checked).toBe(progress.at(-1)?.total)

    // only the putter removes; then the root is gone everywhere
    oneLineError(await run(['rm', put.cid, '--repo', b]), /not a root this peer put/)
    oneLineError(await run(['rm', 'not-a-cid', '--repo', a]), /not a CID/)
    const rm = await run(['rm', put.cid, '--repo', a, '--json'])
    expect(rm.code, rm.stderr).toBe(0)
    expect(JSON.parse(rm.stdout)).toEqual({ cid: put.cid, puts: 2 })
    oneLineError(await run(['get', put.cid, '--repo', b]), /removed by its putter/)
    oneLineError(await run(['stat', put.cid, '--repo', a]), /removed by its putter/)
    expect((JSON.parse((await run(['ls', '--repo', a, '--json'])).stdout) as Array<{ cid: string }>).map(r => r.cid)).toEqual([fromStdin])
    expect(await waitFor(async () => (await apiB.call<FullListing>('ls', { all: true })).held.every(g => g.root !== put.cid), 15_000, 200)).toBe(true)

    // gc: nothing left to collect once the release was acted on; its JSON shape
    const gc = JSON.parse((await run(['gc', '--repo', b, '--json'])).stdout) as { blocks: number, bytes: number, byReason: Record<string, { blocks: number, bytes: number }>, compacted: boolean }
    expect(gc).toMatchObject({ blocks: 0, bytes: 0, byReason: { released: { blocks: 0, bytes: 0 }, orphan: { blocks: 0, bytes: 0 }, unpinned: { blocks: 0, bytes: 0 } } })
    expect((await run(['gc', '--repo', b])).stdout).toBe('nothing to collect\n')
    // a bad name is one line too
    oneLineError(await run(['put', '-', '--repo', a, '--name', 'x'.repeat(300)], 'data\n'), /name/)
  }, 120_000)
})
