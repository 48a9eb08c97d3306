/**
 * sandbox/worker-pool: a bounded pool of reusable worker threads that host untrusted modules,
 * one run at a time each. A worker is reused only after an outcome its caller calls reusable;
 * one that timed out, was aborted, ran out of heap or crashed is terminated (and awaited)
 * before its run settles, and a new worker takes its place when needed. Idle
 * workers are unref'd, so they never keep the process alive, and retire after a while.
 * The pool moves messages; it never instantiates or runs module code on the main thread.
 */

import { Worker } from 'node:worker_threads'
import type { ResourceLimits } from 'node:worker_threads'
import { WasmMemoryLimitError, WasmTimeoutError } from './errors.ts'
import type { WorkerJob, WorkerOutcome } from './worker-protocol.ts'

/**
 * Flags of this process a worker must not inherit (Node refuses to start a
 * worker with per-process and V8 heap options), compared with `_` read as `-`.
 */
const WORKER_REFUSED_FLAGS = ['--input-type', '--max-old-space-size', '--max-semi-space-size', '--max-young-generation-size', '--stack-size', '--expose-gc', '--jitless']

/** Whether a worker may inherit this flag of the process. */
function inheritable (arg: string): boolean {
  const [name] = arg.split('=', 1)
  const normal = `--${name.replace(/^--/, '').replaceAll('_', '-')}`
  return !WORKER_REFUSED_FLAGS.includes(normal)
}

export interface WorkerPoolInit {
  /** the worker entry (wasm-worker.ts or its compiled .js) */
  url: URL
  /** most live workers, busy and idle */
  maxWorkers: number
  /** an idle worker is terminated after this long */
  idleTtlMs: number
  /** a worker is retired after this many runs */
  maxRunsPerWorker: number
  resourceLimits: ResourceLimits
}

export interface PoolRun {
  job: WorkerJob
  /** wall time from the moment a worker takes the job to its outcome */
  timeoutMs: number
  /** aborting before a worker takes the job drops it; after, terminates the worker */
  signal?: AbortSignal
  /** buffers of `job` the caller owns and hands over */
  transfer?: ArrayBuffer[]
  /**
   * May the worker run another job after this outcome? Default: only after 'ok'. A timeout,
   * an abort or a dead worker always retires it.
   */
  reusable?: (outcome: WorkerOutcome) => boolean
}

export interface WorkerPoolStats {
  /** workers started */
  spawned: number
  /** workers terminated (failed runs, idle timeout, run limit, crash) */
  retired: number
  /** runs handed to a worker */
  runs: number
  /** runs handed to a worker that had run before */
  reused: number
}

type WorkerEvent =
  | { type: 'message', outcome: WorkerOutcome }
  | { type: 'error', error: Error & { code?: string } }
  | { type: 'exit', code: number }

interface PooledWorker {
  worker: Worker
  runs: number
  /** the run in progress routes the worker's events here; undefined while idle */
  onEvent: ((event: WorkerEvent) => void) | undefined
  idleTimer: ReturnType<typeof setTimeout> | undefined
  retired: boolean
}

interface Waiting {
  run: PoolRun
  resolve: (outcome: WorkerOutcome) => void
  reject: (err: Error) => void
  onQueuedAbort: () => void
}

export class WorkerPool {
  private readonly init: WorkerPoolInit
  private readonly workers = new Set<PooledWorker>()
  /** idle workers, most recently used last (reused first: its code and caches are warm) */
  private readonly idleWorkers: PooledWorker[] = []
  private readonly queue: Waiting[] = []
  /** workers being terminated; they still count against maxWorkers until they are gone */
  private terminating = 0
  readonly stats: WorkerPoolStats = { spawned: 0, retired: 0, runs: 0, reused: 0 }

  constructor (init: WorkerPoolInit) {
    if (!(Number.isSafeInteger(init.maxWorkers) && init.maxWorkers >= 1)) throw new RangeError(`maxWorkers must be a positive integer, got ${init.maxWorkers}`)
    this.init = init
  }

  /** Live workers (busy and idle). */
  get size (): number {
    return this.workers.size
  }

  get idle (): number {
    return this.idleWorkers.length
  }

  /** Runs waiting for a worker. */
  get queued (): number {
    return this.queue.length
  }

  /** Thread ids of the live workers (for tests and diagnostics). */
  threadIds (): number[] {
    return [...this.workers].map(w => w.worker.threadId)
  }

  /**
   * Runs one job on a worker and resolves with what the worker reported.
   * @throws WasmTimeoutError, WasmMemoryLimitError (JS heap of the worker), the signal's
   * reason when aborted, or an Error when the worker died without an outcome
   */
  async run (run: PoolRun): Promise<WorkerOutcome> {
    run.signal?.throwIfAborted()
    return await new Promise<WorkerOutcome>((resolve, reject) => {
      const waiting: Waiting = {
        run,
        resolve,
        reject,
        onQueuedAbort: () => {
          const at = this.queue.indexOf(waiting)
          if (at >= 0) this.queue.splice(at, 1)
          reject(abortReason(run.signal))
        }
      }
      run.signal?.addEventListener('abort', waiting.onQueuedAbort, { once: true })
      this.queue.push(waiting)
      this.pump()
    })
  }

  /** Terminates every idle worker (busy ones finish their run first and are then kept or retired as usual). */
  async drain (): Promise<void> {
    await Promise.all([...this.idleWorkers].map(async w => { await this.retire(w) }))
  }

  /** Hands queued jobs to idle workers, starting workers while under the bound. */
  private pump (): void {
    while (this.queue.length > 0) {
      let slot = this.idleWorkers.pop()
      if (slot === undefined) {
        if (this.workers.size + this.terminating >= this.init.maxWorkers) return
        slot = this.spawn()
      }
      this.dispatch(slot, this.queue.shift() as Waiting)
    }
  }

  private spawn (): PooledWorker {
    const worker = new Worker(this.init.url, {
      // the worker entry is a file: `--input-type` (from `node -e` callers) would make Node refuse
      // it; heap sizes are per process (Node refuses them for a worker, whose limits are resourceLimits)
      execArgv: process.execArgv.filter(inheritable),
      env: {},
      stdout: true,
      stderr: true,
      resourceLimits: this.init.resourceLimits
    })
    const slot: PooledWorker = { worker, runs: 0, onEvent: undefined, idleTimer: undefined, retired: false }
    worker.on('message', (outcome: WorkerOutcome) => { slot.onEvent?.({ type: 'message', outcome }) })
    worker.on('error', (error: Error) => {
      if (slot.onEvent !== undefined) slot.onEvent({ type: 'error', error })
      else void this.retire(slot)
    })
    worker.on('exit', (code: number) => {
      if (slot.onEvent !== undefined) slot.onEvent({ type: 'exit', code })
      else this.forget(slot)
    })
    this.workers.add(slot)
    this.stats.spawned++
    return slot
  }

  private dispatch (slot: PooledWorker, waiting: Waiting): void {
    const { job, timeoutMs, signal, transfer, reusable = okOnly } = waiting.run
    signal?.removeEventListener('abort', waiting.onQueuedAbort)
    clearTimeout(slot.idleTimer)
    slot.idleTimer = undefined
    slot.worker.ref()
    if (slot.runs > 0) this.stats.reused++
    slot.runs++
    this.stats.runs++

    let settled = false
    const finish = (result: WorkerOutcome | Error, reusable: boolean): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      slot.onEvent = undefined
      const settle = (): void => { if (result instanceof Error) waiting.reject(result); else waiting.resolve(result) }
      if (reusable && slot.runs < this.init.maxRunsPerWorker) {
        this.release(slot)
        settle()
      } else {
        // wait for the thread to be gone, so a runaway module never outlives its run
        void this.retire(slot).then(settle)
      }
    }
    const onAbort = (): void => { finish(abortReason(signal), false) }
    const timer = setTimeout(() => {
      finish(new WasmTimeoutError(`wasm module did not finish within ${timeoutMs} ms`), false)
    }, timeoutMs)
    signal?.addEventListener('abort', onAbort, { once: true })
    slot.onEvent = (event) => {
      switch (event.type) {
        case 'message':
          finish(event.outcome, reusable(event.outcome))
          break
        case 'error':
          finish(event.error.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? new WasmMemoryLimitError(`wasm worker ran out of JS heap (${this.init.resourceLimits.maxOldGenerationSizeMb ?? '?'} MiB)`)
            : event.error, false)
          break
        case 'exit':
          finish(new Error(`wasm worker exited without a result (exit code ${event.code})`), false)
          break
      }
    }
    try {
      slot.worker.postMessage(job, transfer ?? [])
    } catch (err) {
      finish(err instanceof Error ? err : new Error(String(err)), true)
    }
  }

  /** Back to the idle list, or straight to the next queued job. */
  private release (slot: PooledWorker): void {
    if (slot.retired) return
    this.idleWorkers.push(slot)
    if (this.queue.length > 0) {
      this.pump()
      return
    }
    slot.worker.unref()
    slot.idleTimer = setTimeout(() => { void this.retire(slot) }, this.init.idleTtlMs)
    slot.idleTimer.unref()
  }

  /** Terminates a worker and resolves once its thread is gone; then lets queued jobs start. */
  private async retire (slot: PooledWorker): Promise<void> {
    if (slot.retired) return
    this.forget(slot)
    this.terminating++
    try {
      await slot.worker.terminate()
    } catch {
      // already gone
    } finally {
      this.terminating--
      this.pump()
    }
  }

  /** Removes a worker from the pool's books (it is terminating or has exited). */
  private forget (slot: PooledWorker): void {
    if (slot.retired) return
    slot.retired = true
    clearTimeout(slot.idleTimer)
    this.workers.delete(slot)
    const at = this.idleWorkers.indexOf(slot)
    if (at >= 0) this.idleWorkers.splice(at, 1)
    this.stats.retired++
  }
}

function okOnly (outcome: WorkerOutcome): boolean {
  return outcome.kind === 'ok'
}

function abortReason (signal: AbortSignal | undefined): Error {
  return signal?.reason instanceof Error ? signal.reason : new Error('aborted')
}
