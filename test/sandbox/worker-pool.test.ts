import { spawn } from 'node:child_process'
import { pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import { runWasm, validateWasm, WasmExitError, WasmMemoryLimitError, WasmTimeoutError } from '../../src/sandbox/index.ts'
import { sandboxModuleCache, sandboxWorkerPool } from '../../src/sandbox/run-wasm.ts'
import { WorkerPool } from '../../src/sandbox/worker-pool.ts'
import type { WorkerJob, WorkerOutcome } from '../../src/sandbox/worker-protocol.ts'
import type { WasmModule } from '../../src/sandbox/webassembly.ts'
import * as fixtures from './wasm-fixtures.ts'

const encode = (s: string): Uint8Array => new TextEncoder().encode(s)
const decode = (b: Uint8Array): string => new TextDecoder().decode(b)
const empty = new Uint8Array(0)

/** How long the idle-pool child process may take to exit by itself. */
const CHILD_EXIT_LIMIT_MS = 10_000

const WORKER_URL = new URL('../../src/sandbox/wasm-worker.ts', import.meta.url)
const compile = async (bytes: Uint8Array): Promise<WasmModule> =>
  await (globalThis as unknown as { WebAssembly: { compile: (b: Uint8Array) => Promise<WasmModule> } }).WebAssembly.compile(bytes)
const job = (module: WasmModule, input: Uint8Array = empty): WorkerJob =>
  ({ module, input, args: ['x'], maxOutputBytes: 1 << 20, maxStderrTailBytes: 1024 })
const smallPool = (): WorkerPool => new WorkerPool({
  url: WORKER_URL,
  maxWorkers: 1,
  idleTtlMs: 60_000,
  maxRunsPerWorker: 1_000,
  resourceLimits: { maxOldGenerationSizeMb: 64, stackSizeMb: 4 }
})

describe('runWasm on the pooled workers', () => {
  it('runs 50 small modules in a row on reused workers, every output right, compiling once', async () => {
    const pool = sandboxWorkerPool()
    const cache = sandboxModuleCache()
    // distinct bytes (a data segment no one reads) so this module is new to the cache
    const module = fixtures.assemble({ ...fixtures.echoSpec, data: [[70_000, 'pool-test-50']] })
    const spawnedBefore = pool.stats.spawned
    const missesBefore = cache.stats.misses
    for (let i = 0; i < 50; i++) {
      const line = `run ${i}: ${'x'.repeat(i)}\n`
      expect(decode(await runWasm(module, encode(line), ['echo']))).toBe(line)
    }
    expect(cache.stats.misses - missesBefore).toBe(1)
    // sequential runs need one worker, reused
    expect(pool.stats.spawned - spawnedBefore).toBeLessThanOrEqual(1)
  })

  it('retires the worker of a run that timed out, and the next run works', async () => {
    const pool = sandboxWorkerPool()
    const retiredBefore = pool.stats.retired
    await expect(runWasm(fixtures.loopForever, empty, ['spin'], { timeoutMs: 200 })).rejects.toThrow(WasmTimeoutError)
    expect(pool.stats.retired - retiredBefore).toBe(1)
    expect(decode(await runWasm(fixtures.echo, encode('after\n'), ['echo']))).toBe('after\n')
  })

  it('retires the worker of a module that hit the memory cap, but reuses one after a plain non-zero exit', async () => {
    const pool = sandboxWorkerPool()
    let retired = pool.stats.retired
    await expect(runWasm(fixtures.growForever, empty, ['grow'], { memoryMB: 16 })).rejects.toThrow(WasmMemoryLimitError)
    expect(pool.stats.retired - retired).toBe(1)
    retired = pool.stats.retired
    await expect(runWasm(fixtures.exitThree, empty, ['x'])).rejects.toThrow(WasmExitError)
    expect(pool.stats.retired - retired).toBe(0)
  })

  it('runs more jobs at once than the pool has workers', async () => {
    const pool = sandboxWorkerPool()
    const count = pool.size + 20
    const outputs = await Promise.all(Array.from({ length: count }, async (_, i) => decode(await runWasm(fixtures.echo, encode(`${i}\n`), ['echo']))))
    expect(outputs).toEqual(Array.from({ length: count }, (_, i) => `${i}\n`))
  })

  it('shares one compilation between validateWasm calls of the same bytes', async () => {
    const cache = sandboxModuleCache()
    const module = fixtures.assemble({ ...fixtures.echoSpec, data: [[70_000, 'validate-twice']] })
    const missesBefore = cache.stats.misses
    await validateWasm(module)
    await validateWasm(module)
    expect(cache.stats.misses - missesBefore).toBe(1)
  })

  it('lets a process with an idle pool exit by itself', async () => {
    const sandbox = pathToFileURL(new URL('../../src/sandbox/index.ts', import.meta.url).pathname).href
    const wasm = Buffer.from(fixtures.echo).toString('base64')
    const script = [
      `import { runWasm } from ${JSON.stringify(sandbox)}`,
      `const out = await runWasm(Buffer.from(${JSON.stringify(wasm)}, 'base64'), new TextEncoder().encode('hi\\n'), ['echo'])`,
      'process.stdout.write(new TextDecoder().decode(out))'
    ].join('\n')
    const started = Date.now()
    const { code, stdout, stderr } = await new Promise<{ code: number | null, stdout: string, stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] })
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
      const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`child did not exit within ${CHILD_EXIT_LIMIT_MS} ms`)) }, CHILD_EXIT_LIMIT_MS)
      child.on('exit', (exitCode) => { clearTimeout(timer); resolve({ code: exitCode, stdout, stderr }) })
    })
    expect(stderr.replace(/.*ExperimentalWarning.*\n?|.*--trace-warnings.*\n?/g, '')).toBe('')
    expect(code).toBe(0)
    expect(stdout).toBe('hi\n')
    expect(Date.now() - started).toBeLessThan(CHILD_EXIT_LIMIT_MS)
  }, CHILD_EXIT_LIMIT_MS + 5_000)
})

describe('WorkerPool', () => {
  it('replaces a worker that timed out with a fresh thread', async () => {
    const pool = smallPool()
    const echo = await compile(fixtures.echo)
    const ok = await pool.run({ job: job(echo, encode('a\n')), timeoutMs: 5_000 })
    expect(ok).toMatchObject({ kind: 'ok' })
    const [first] = pool.threadIds()
    await pool.run({ job: job(await compile(fixtures.loopForever)), timeoutMs: 200 }).then(
      () => { throw new Error('expected a timeout') },
      (err: unknown) => { expect(err).toBeInstanceOf(WasmTimeoutError) })
    expect(pool.threadIds()).toEqual([])
    const again = await pool.run({ job: job(echo, encode('b\n')), timeoutMs: 5_000 }) as WorkerOutcome & { kind: 'ok' }
    expect(decode(again.stdout)).toBe('b\n')
    const [second] = pool.threadIds()
    expect(second).not.toBe(first)
    expect(pool.stats).toMatchObject({ spawned: 2, retired: 1 })
    await pool.drain()
    expect(pool.size).toBe(0)
  })

  it('reuses a worker after a good run, and terminates it when the run is aborted', async () => {
    const pool = smallPool()
    const echo = await compile(fixtures.echo)
    await pool.run({ job: job(echo, encode('1\n')), timeoutMs: 5_000 })
    await pool.run({ job: job(echo, encode('2\n')), timeoutMs: 5_000 })
    expect(pool.stats).toMatchObject({ spawned: 1, reused: 1, retired: 0 })
    const controller = new AbortController()
    setTimeout(() => { controller.abort(new DOMException('stop', 'AbortError')) }, 100)
    await expect(pool.run({ job: job(await compile(fixtures.loopForever)), timeoutMs: 30_000, signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' })
    expect(pool.stats.retired).toBe(1)
    expect(pool.size).toBe(0)
  })

  it('starts the wall-time limit of a queued run when a worker takes it, and drops a run aborted while queued', async () => {
    const pool = smallPool()
    const echo = await compile(fixtures.echo)
    // the queued run's limit is shorter than its wait: it would time out if its clock started in the queue
    const spin = pool.run({ job: job(await compile(fixtures.loopForever)), timeoutMs: 1_000 })
    const queued = pool.run({ job: job(echo, encode('late\n')), timeoutMs: 800 })
    const controller = new AbortController()
    const dropped = pool.run({ job: job(echo, encode('never\n')), timeoutMs: 5_000, signal: controller.signal })
    expect(pool.queued).toBe(2)
    controller.abort(new Error('changed my mind'))
    await expect(dropped).rejects.toThrow('changed my mind')
    await expect(spin).rejects.toThrow(WasmTimeoutError)
    const late = await queued as WorkerOutcome & { kind: 'ok' }
    expect(decode(late.stdout)).toBe('late\n')
    expect(pool.stats.runs).toBe(2)
    await pool.drain()
  })
})
