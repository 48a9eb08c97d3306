/**
 * Test fixture: the `edgeswarm` command run in child processes from its source
 * entry, as an operator runs it, with every child killed after its test even
 * when the test fails.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'
import { afterEach, expect } from 'vitest'
import { waitFor } from '../helpers.ts'

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname

export interface CliResult { code: number | null, signal: NodeJS.Signals | null, stdout: string, stderr: string, ms: number }

export interface CliDaemon {
  child: ChildProcess
  /** stdout and stderr so far. */
  output: () => string
  stderr: () => string
  exited: Promise<number | null>
}

export interface RunOptions {
  env?: Record<string, string>
  stdin?: string
  /** Kill the command after this long (it then has code null): a hang fails the test instead of the run. @default 60_000 */
  timeoutMs?: number
  /** Run as this user and group id (for permission tests as root). */
  uid?: number
}

/** Registers the after-test kill of every child the returned functions start. */
export function useCli (): {
  run: (args: string[], options?: RunOptions) => Promise<CliResult>
  daemon: (repo: string, extra?: string[], options?: { env?: Record<string, string> }) => Promise<CliDaemon>
  spawnDaemon: (repo: string, extra?: string[]) => CliDaemon
} {
  const children: ChildProcess[] = []
  afterEach(async () => {
    for (const child of children.splice(0)) {
      if (child.exitCode == null && child.signalCode == null) {
        child.kill('SIGKILL')
        await new Promise(resolve => child.once('exit', resolve))
      }
    }
  })

  const start = (args: string[], options: SpawnOptions): ChildProcess => {
    const child = spawn(process.execPath, [MAIN, ...args], options)
    children.push(child)
    return child
  }

  const run = async (args: string[], options: RunOptions = {}): Promise<CliResult> => await new Promise((resolve, reject) => {
    const started = Date.now()
    const child = start(args, {
      env: { ...process.env, ...options.env },
      stdio: [options.stdin != null ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      ...(options.uid != null ? { uid: options.uid, gid: options.uid } : {})
    })
    if (options.stdin != null) child.stdin?.end(options.stdin)
    let stdout = ''
    let stderr = ''
    child.stdout?.on('data', d => { stdout += String(d) })
    child.stderr?.on('data', d => { stderr += String(d) })
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000)
    child.once('error', reject)
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started })
    })
  })

  const spawnDaemon = (repo: string, extra: string[] = [], env: Record<string, string> = {}): CliDaemon => {
    const child = start(['daemon', '--repo', repo, '--no-mdns', ...extra], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } })
    let out = ''
    let err = ''
    child.stdout?.on('data', d => { out += String(d) })
    child.stderr?.on('data', d => { out += String(d); err += String(d) })
    const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)))
    return { child, output: () => out, stderr: () => err, exited }
  }

  const daemon = async (repo: string, extra: string[] = [], options: { env?: Record<string, string> } = {}): Promise<CliDaemon> => {
    const d = spawnDaemon(repo, extra, options.env)
    const ready = await waitFor(() => d.output().includes('daemon is ready') || d.child.exitCode != null, 30_000)
    if (!ready || !d.output().includes('daemon is ready')) throw new Error(`daemon did not start: ${d.output()}`)
    return d
  }

  return { run, daemon, spawnDaemon: (repo, extra) => spawnDaemon(repo, extra) }
}

/** A user mistake: a non-zero exit (not a kill), and one line on stderr, no stack trace. */
export function expectOneLineError (r: CliResult, mentions?: string | RegExp): void {
  expect(r.signal, `killed: it hung (${r.stderr})`).toBeNull()
  expect(r.code).not.toBe(0)
  const lines = r.stderr.trim().split('\n')
  expect(lines, r.stderr).toHaveLength(1)
  expect(lines[0]).toMatch(/^edgeswarm: /)
  expect(r.stderr).not.toMatch(/\n\s+at /)
  if (typeof mentions === 'string') expect(lines[0]).toContain(mentions)
  else if (mentions != null) expect(lines[0]).toMatch(mentions)
}
