/**
 * scripts/daemons: a swarm of real `edgeswarm daemon` processes on 127.0.0.1
 * for the benchmarks and the soak: repos in a temporary directory, each
 * daemon bootstrapped from the first, an API client per daemon, their RSS
 * read from /proc, and everything stopped and removed at the end, or when the
 * run is interrupted by a signal. Never
 * listens on anything but 127.0.0.1, with mDNS off.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { ApiClient } from '../src/api/client.ts'
import { initRepo } from '../src/node/repo.ts'

const MAIN = new URL('../src/cli/main.ts', import.meta.url).pathname

export interface Daemon {
  repo: string
  child: ChildProcess
  api: ApiClient
  id: string
}

export interface Swarm {
  dir: string
  daemons: Daemon[]
  stop: () => Promise<void>
}

/**
 * A process's resident memory (bytes), from /proc; zeros once it is gone.
 * `rss` counts the pages of files it maps (LevelDB maps its table files to read
 * them: page cache the kernel reclaims under pressure); `anon` is the memory
 * the process itself holds (heaps, buffers).
 */
export async function memoryOf (pid: number | undefined): Promise<{ rss: number, anon: number, file: number }> {
  if (pid == null) return { rss: 0, anon: 0, file: 0 }
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8')
    const kb = (name: string): number => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024
    return { rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile') }
  } catch {
    return { rss: 0, anon: 0, file: 0 }
  }
}

/** Resident set size of a process (bytes); 0 once it is gone. */
export async function rssOf (pid: number | undefined): Promise<number> {
  return (await memoryOf(pid)).rss
}

async function startOne (repo: string, bootstrap: string[], env: Record<string, string>): Promise<Daemon> {
  const args = [MAIN, 'daemon', '--repo', repo, '--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns', ...bootstrap.flatMap(b => ['--bootstrap', b])]
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } })
  let out = ''
  child.stdout?.on('data', d => { out += String(d) })
  child.stderr?.on('data', d => { out += String(d) })
  const until = Date.now() + 60_000
  while (!out.includes('daemon is ready')) {
    if (child.exitCode != null || Date.now() > until) throw new Error(`daemon for ${repo} did not start: ${out}`)
    await sleep(100)
  }
  const api = await ApiClient.forRepo(repo)
  const { id } = await api.call<{ id: string }>('id')
  return { repo, child, api, id }
}

/**
 * Starts `n` daemons, each with `config` merged into its config.json, and
 * waits until each sees the others.
 */
export async function startDaemons (n: number, options: { config?: (i: number) => Record<string, unknown>, env?: Record<string, string> } = {}): Promise<Swarm> {
  const dir = await mkdtemp(join(tmpdir(), 'edgeswarm-daemons-'))
  const daemons: Daemon[] = []
  // an interrupted run (Ctrl-C, a kill) stops its daemons and removes their repos too
  const onSignal = (signal: NodeJS.Signals): void => {
    void stop().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143))
  }
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP']
  for (const signal of signals) process.once(signal, onSignal)
  const stop = async (): Promise<void> => {
    for (const signal of signals) process.off(signal, onSignal)
    await Promise.all(daemons.map(async d => {
      if (d.child.exitCode != null || d.child.signalCode != null) return
      const exited = new Promise(resolve => d.child.once('exit', resolve))
      d.child.kill('SIGTERM')
      const timer = setTimeout(() => { d.child.kill('SIGKILL') }, 10_000)
      await exited
      clearTimeout(timer)
    }))
    await rm(dir, { recursive: true, force: true })
  }
  try {
    for (let i = 0; i < n; i++) {
      const repo = join(dir, `peer-${i}`)
      const config = await initRepo(repo)
      const extra = options.config?.(i)
      if (extra != null) {
        const merged: Record<string, unknown> = { ...config }
        for (const [k, v] of Object.entries(extra)) merged[k] = { ...(merged[k] as object), ...(v as object) }
        await writeFile(join(repo, 'config.json'), JSON.stringify(merged, null, 2))
      }
      const bootstrap = daemons.length > 0 ? [(await daemons[0].api.call<{ addresses: string[] }>('id')).addresses[0]] : []
      daemons.push(await startOne(repo, bootstrap, options.env ?? {}))
    }
    const until = Date.now() + 60_000
    for (const d of daemons) {
      while ((await d.api.call<unknown[]>('peers')).length < n - 1) {
        if (Date.now() > until) throw new Error('the daemons did not all connect')
        await sleep(200)
      }
    }
  } catch (err) {
    await stop()
    throw err
  }
  return { dir, daemons, stop }
}

export function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  if (s.length === 0) return NaN
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}
