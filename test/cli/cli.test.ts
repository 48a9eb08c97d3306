/**
 * The CLI end to end, in child processes, as an operator would run it.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { access, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it, expect, afterEach } from 'vitest'
import { useCleanup, waitFor } from '../helpers.ts'

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname
const children: ChildProcess[] = []

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode == null && child.signalCode == null) {
      child.kill('SIGKILL')
      await new Promise(resolve => child.once('exit', resolve))
    }
  }
})

interface Result { code: number | null, stdout: string, stderr: string }

function run (args: string[], env: Record<string, string> = {}, stdin?: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, ...env }, stdio: [stdin != null ? 'pipe' : 'ignore', 'pipe', 'pipe'] })
    if (stdin != null) child.stdin?.end(stdin)
    children.push(child)
    let stdout = ''
    let stderr = ''
    child.stdout?.on('data', d => { stdout += String(d) })
    child.stderr?.on('data', d => { stderr += String(d) })
    child.once('error', reject)
    child.once('exit', code => { resolve({ code, stdout, stderr }) })
  })
}

interface Daemon { child: ChildProcess, output: () => string, exited: Promise<number | null> }

async function startDaemon (repo: string, extra: string[] = []): Promise<Daemon> {
  const child = spawn(process.execPath, [MAIN, 'daemon', '--repo', repo, '--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  let out = ''
  child.stdout?.on('data', d => { out += String(d) })
  child.stderr?.on('data', d => { out += String(d) })
  const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)))
  const ready = await waitFor(() => out.includes('daemon is ready') || child.exitCode != null, 20_000)
  if (!ready || !out.includes('daemon is ready')) throw new Error(`daemon did not start: ${out}`)
  return { child, output: () => out, exited }
}

function oneLineError (r: Result): void {
  expect(r.code).not.toBe(0)
  const lines = r.stderr.trim().split('\n')
  expect(lines).toHaveLength(1)
  expect(lines[0]).toMatch(/^edgeswarm: /)
  expect(r.stderr).not.toMatch(/\n\s+at /) // no stack trace
}

describe('edgeswarm CLI', () => {
  const t = useCleanup()

  it('put, get, stat, ls, submit --wait, job status/ls, fn ls through two daemons', async () => {
    const dir = await t.tempDir()
    const repoA = join(dir, 'a')
    const repoB = join(dir, 'b')
    await run(['init', '--repo', repoA])
    await run(['init', '--repo', repoB])
    await startDaemon(repoA)
    const idA = JSON.parse((await run(['id', '--repo', repoA, '--json'])).stdout) as { id: string, addresses: string[] }
    await startDaemon(repoB, ['--bootstrap', idA.addresses[0]])
    expect(await waitFor(async () => (JSON.parse((await run(['peers', '--repo', repoB, '--json'])).stdout) as Array<{ id: string }>).some(p => p.id === idA.id), 20_000, 300)).toBe(true)

    // put a file from A: CID last on stdout; 2 peers < 3 replicas: under-replicated on stderr
    const file = join(dir, 'numbers.txt')
    const text = Array.from({ length: 3000 }, (_, i) => String(i + 1)).join('\n') + '\n'
    await writeFile(file, text)
    const put = await run(['put', file, '--repo', repoA, '--chunk-size', '4096'])
    expect(put.code, put.stderr).toBe(0)
    const cid = put.stdout.trim().split('\n').at(-1) ?? ''
    expect(cid).toMatch(/^bafy/)
    expect(put.stderr).toMatch(/under-replicated/)
    // stdin works too
    const fromStdin = await run(['put', '-', '--repo', repoB], {}, 'hello from stdin\n')
    expect(fromStdin.stdout.trim()).toMatch(/^bafy/)

    // get from B, to a file and to stdout, byte-identical
    const out = join(dir, 'back.txt')
    const got = await run(['get', cid, '-o', out, '--repo', repoB])
    expect(got.code, got.stderr).toBe(0)
    expect(await readFile(out, 'utf8')).toBe(text)
    expect((await run(['get', fromStdin.stdout.trim(), '--repo', repoA])).stdout).toBe('hello from stdin\n')

    const stat = JSON.parse((await run(['stat', cid, '--json', '--repo', repoB])).stdout) as { size: number, shards: Array<{ holders: string[] }>, underReplicated: boolean }
    expect(stat.size).toBe(text.length)
    expect(stat.shards.length).toBe(Math.ceil(text.length / 4096))
    expect(stat.shards.every(s => s.holders.length === 2)).toBe(true)
    expect(stat.underReplicated).toBe(true)
    const ls = JSON.parse((await run(['ls', '--json', '--repo', repoA])).stdout) as Array<{ cid: string }>
    expect(ls.map(r => r.cid)).toContain(cid)

    // a job from B over A's file, waited for, as JSON
    const submitted = await run(['submit', 'square', '--input', cid, '--wait', '--json', '--repo', repoB])
    expect(submitted.code).toBe(0)
    const sub = JSON.parse(submitted.stdout) as { id: string, state: string, result: string }
    expect(sub.state).toBe('done')
    expect(sub.result).toBe(Array.from({ length: 3000 }, (_, i) => `${(i + 1) ** 2}\n`).join(''))
    const status = JSON.parse((await run(['job', 'status', sub.id, '--json', '--repo', repoA])).stdout) as { status: string, total: number, done: number }
    expect(status).toMatchObject({ status: 'done', total: stat.shards.length, done: stat.shards.length })
    const jobs = JSON.parse((await run(['job', 'ls', '--json', '--repo', repoA])).stdout) as Array<{ id: string }>
    expect(jobs.map(j => j.id)).toContain(sub.id)
    const result = await run(['job', 'result', sub.id, '--repo', repoA])
    expect(result.stdout).toBe(sub.result)
    // csv-stats with params, plain text result
    const csvPut = await run(['put', '-', '--repo', repoA], {}, 'device,temp\npi,20\npi,22\ngw,30\n')
    const stats = await run(['submit', 'csv-stats', '--input', csvPut.stdout.trim(), '--param', 'by=device', '--param', 'column=temp', '--wait', '--repo', repoA])
    expect(JSON.parse(stats.stdout)).toEqual({ gw: { count: 1, sum: 30, mean: 30, min: 30, max: 30 }, pi: { count: 2, sum: 42, mean: 21, min: 20, max: 22 } })

    const fns = JSON.parse((await run(['fn', 'ls', '--json', '--repo', repoA])).stdout) as Array<{ name: string }>
    expect(fns.map(f => f.name).sort()).toEqual(['csv-stats', 'evaluate', 'predict', 'square', 'train', 'word-count'])

    // the swarm as gossiped: both daemons in A's table, A first; the human table names them as the dashboard does
    let table: Array<{ id: string, self: boolean, functions: string[] }> = []
    await waitFor(async () => { table = JSON.parse((await run(['swarm', '--json', '--repo', repoA])).stdout); return table.length === 2 }, 30_000, 500)
    expect(table[0].self).toBe(true)
    const idB = (JSON.parse((await run(['id', '--repo', repoB, '--json'])).stdout) as { id: string }).id
    expect(table.map(p => p.id).sort()).toEqual([idA.id, idB].sort())
    expect(table[1].functions).toContain('square')
    const human = (await run(['swarm', '--repo', repoA])).stdout
    expect(human).toContain(`${idB.slice(0, 12)}…${idB.slice(-8)}`)
    expect(human).toContain('2 peers')
    expect((await run(['status', '--repo', repoA])).stdout).toContain('in the swarm table')

    // mistakes: one clear line each
    oneLineError(await run(['submit', 'no-such-fn', '--input', cid, '--repo', repoA]))
    oneLineError(await run(['submit', 'square', '--repo', repoA]))
    oneLineError(await run(['submit', 'square', '--input', cid, '--param', 'novalue', '--repo', repoA]))
    oneLineError(await run(['get', 'not-a-cid', '--repo', repoA]))
    oneLineError(await run(['put', join(dir, 'missing.txt'), '--repo', repoA]))
    oneLineError(await run(['put', file, '--chunk-size', '12', '--repo', repoA]))
    oneLineError(await run(['job', 'status', cid, '--repo', repoA]))
  }, 150_000)

  it('init, daemon, id/peers --json between two daemons, a locked repo, clean SIGTERM', async () => {
    const dir = await t.tempDir()
    const repoA = join(dir, 'a')
    const repoB = join(dir, 'b')
    expect((await run(['init', '--repo', repoA])).code).toBe(0)
    oneLineError(await run(['init', '--repo', repoA]))
    // the repo may also come from $EDGESWARM_REPO
    expect((await run(['init'], { EDGESWARM_REPO: repoB })).code).toBe(0)

    const a = await startDaemon(repoA)
    const idA = JSON.parse((await run(['id', '--repo', repoA, '--json'])).stdout) as { id: string, addresses: string[] }
    expect(idA.id).toMatch(/^12D3KooW/)
    expect(idA.addresses[0]).toMatch(new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/\\d+/p2p/${idA.id}$`))

    const b = await startDaemon(repoB, ['--bootstrap', idA.addresses[0]])
    const idB = JSON.parse((await run(['id', '--json'], { EDGESWARM_REPO: repoB })).stdout) as { id: string }
    let peersA: Array<{ id: string, addresses: string[] }> = []
    expect(await waitFor(async () => {
      peersA = JSON.parse((await run(['peers', '--repo', repoA, '--json'])).stdout)
      return peersA.some(p => p.id === idB.id)
    }, 15_000, 300)).toBe(true)
    expect(peersA.find(p => p.id === idB.id)?.addresses.length).toBeGreaterThan(0)

    // a second daemon on the same repo is refused with one line
    const second = await run(['daemon', '--repo', repoA, '--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns'])
    oneLineError(second)
    expect(second.stderr).toMatch(/in use/)

    // SIGTERM: clean exit, no api file left
    a.child.kill('SIGTERM')
    expect(await a.exited).toBe(0)
    await expect(access(join(repoA, 'api'))).rejects.toThrow()
    oneLineError(await run(['id', '--repo', repoA]))
    b.child.kill('SIGINT')
    expect(await b.exited).toBe(0)
  })

  it('keeps its identity across a daemon restart', async () => {
    const repo = join(await t.tempDir(), 'r')
    const init = JSON.parse((await run(['init', '--repo', repo, '--json'])).stdout) as { id: string }
    for (let i = 0; i < 2; i++) {
      const d = await startDaemon(repo)
      const id = JSON.parse((await run(['id', '--repo', repo, '--json'])).stdout) as { id: string }
      expect(id.id).toBe(init.id)
      d.child.kill('SIGTERM')
      expect(await d.exited).toBe(0)
    }
  })

  it('gives one clear line for user mistakes', async () => {
    const dir = await t.tempDir()
    const repo = join(dir, 'r')
    oneLineError(await run(['id', '--repo', join(dir, 'nothing-here')]))        // no daemon
    oneLineError(await run(['daemon', '--repo', join(dir, 'nothing-here')]))    // no repo
    oneLineError(await run(['daemon', '--repo', repo, '--bootstrap', '/ip4/1.2.3.4/tcp/x']))  // bad multiaddr
    oneLineError(await run(['daemon', '--repo', repo, '--bootstrap', '/ip4/127.0.0.1/tcp/4001']))  // no /p2p/
    oneLineError(await run(['peers', '--no-such-flag']))                        // unknown flag
    oneLineError(await run(['init', '--repo', repo, '--swarm-key', join(dir, 'missing.key')]))  // unreadable key
    await writeFile(join(dir, 'bad.key'), 'not a key\n')
    const bad = await run(['init', '--repo', repo, '--swarm-key', join(dir, 'bad.key')])
    oneLineError(bad)
    expect(bad.stderr).toMatch(/swarm key/)
    // key gen writes a valid key that init accepts
    expect((await run(['key', 'gen', '-o', join(dir, 'swarm.key')])).code).toBe(0)
    oneLineError(await run(['key', 'gen', '-o', join(dir, 'swarm.key')]))      // refuses to overwrite
    const ok = await run(['init', '--repo', repo, '--swarm-key', join(dir, 'swarm.key')])
    expect(ok.code).toBe(0)
    expect(ok.stdout).toMatch(/private swarm: yes/)
  })
})
