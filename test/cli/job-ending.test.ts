/**
 * How jobs end early, through the CLI and two daemons: `submit --wait` of a
 * job no live peer can run says why on stderr instead of a silent wait;
 * `job cancel` from the other daemon is refused in one line, from the
 * submitter's it ends the job and the waiting `submit --wait` ends with one
 * line and a non-zero exit; `submit --deadline` fails the job with the
 * deadline's reason; a bad duration (`--deadline`, `daemon --keep`) is one line.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it, expect } from 'vitest'
import { useCleanup, waitFor } from '../helpers.ts'
import { expectOneLineError, useCli } from './cli-process.ts'

describe('edgeswarm CLI: job cancel, --deadline, the unrunnable warning', () => {
  const t = useCleanup()
  const cli = useCli()

  it('cancel, deadline and the warning through two daemons', async () => {
    const dir = await t.tempDir()
    const repoA = join(dir, 'a')
    const repoB = join(dir, 'b')
    for (const repo of [repoA, repoB]) expect((await cli.run(['init', '--repo', repo, '--listen', '/ip4/127.0.0.1/tcp/0'])).code).toBe(0)
    await cli.daemon(repoA)
    const idA = JSON.parse((await cli.run(['id', '--repo', repoA, '--json'])).stdout) as { id: string, addresses: string[] }
    await cli.daemon(repoB, ['--bootstrap', idA.addresses[0]])
    expect(await waitFor(async () => (JSON.parse((await cli.run(['peers', '--repo', repoB, '--json'])).stdout) as unknown[]).length > 0, 30_000, 300)).toBe(true)
    const file = join(dir, 'numbers.txt')
    await writeFile(file, Array.from({ length: 50 }, (_, i) => String(i + 1)).join('\n') + '\n')
    const put = await cli.run(['put', file, '--repo', repoA])
    expect(put.code, put.stderr).toBe(0)
    const cid = put.stdout.trim().split('\n').at(-1) ?? ''

    // a job nobody can run: --wait says why on stderr, not a silent wait
    const waiting = cli.run(['submit', 'square', '--input', cid, '--label', 'lab-7', '--wait', '--repo', repoA], { timeoutMs: 60_000 })
    const listed = async (): Promise<Array<{ id: string, warning?: string }>> => JSON.parse((await cli.run(['job', 'ls', '--json', '--repo', repoA])).stdout)
    expect(await waitFor(async () => (await listed()).some(j => j.warning?.startsWith("no live peer has label 'lab-7'") === true), 20_000, 300)).toBe(true)
    const id = (await listed())[0].id
    const status = await cli.run(['job', 'status', id, '--repo', repoA])
    expect(status.stdout).toContain("warning: no live peer has label 'lab-7'")

    // only the submitter may cancel
    expectOneLineError(await cli.run(['job', 'cancel', id, '--repo', repoB]), `only the submitter of job ${id} may cancel it`)
    const canceled = await cli.run(['job', 'cancel', id, '--repo', repoA])
    expect(canceled.code, canceled.stderr).toBe(0)
    expect(canceled.stdout).toContain(`${id}: canceled`)

    const waited = await waiting
    expect(waited.signal).toBeNull()
    expect(waited.code).not.toBe(0)
    const lines = waited.stderr.trim().split('\n')
    expect(lines.some(l => l.startsWith(`edgeswarm: job ${id} waits: no live peer has label 'lab-7'`))).toBe(true)
    expect(lines.at(-1)).toMatch(new RegExp(`^edgeswarm: job ${id} was canceled by ${idA.id} at `))
    expect(waited.stderr).not.toMatch(/\n\s+at /)
    // the other daemon sees it canceled too
    expect(await waitFor(async () => (await cli.run(['job', 'status', id, '--repo', repoB])).stdout.includes('canceled by'), 15_000, 300)).toBe(true)

    // --deadline: the job fails with the reason, one line at the end, non-zero exit
    const late = await cli.run(['submit', 'square', '--input', cid, '--label', 'lab-7', '--deadline', '2s', '--wait', '--repo', repoA], { timeoutMs: 60_000 })
    expect(late.code).not.toBe(0)
    expect(late.stderr.trim().split('\n').at(-1)).toMatch(/^edgeswarm: job \S+ failed: deadline of 2 s passed with 0 of 1 tasks done$/)

    // a bad duration is one line naming it
    expectOneLineError(await cli.run(['submit', 'square', '--input', cid, '--deadline', '10x', '--repo', repoA]), '10x')
    expectOneLineError(await cli.run(['submit', 'square', '--input', cid, '--deadline', '0s', '--repo', repoA]), 'deadline')
    expectOneLineError(await cli.run(['daemon', '--repo', join(dir, 'c'), '--keep', 'soon']), 'soon')
  }, 180_000)
})
