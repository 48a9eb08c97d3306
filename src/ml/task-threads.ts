/**
 * ml/task-threads: a small pool of worker threads that run training and inference tasks
 * (task-entry.ts) at background priority, so a CPU-heavy task never holds the peer's own
 * thread, where gossip and lease renewals run. A task goes preferably to the thread that last
 * ran the same input, whose parsed-input cache (record-cache.ts) then serves it; to any idle
 * thread otherwise. Aborting a running task sets a shared flag the task polls between
 * records, so the thread and its cache survive. Idle threads are unref'd and end after
 * ML_THREAD_IDLE_MS. With 0 threads, tasks run in the caller's thread. Trusted code only:
 * it never runs anything from the network.
 */

import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { ML_THREAD_HEAP_MB, ML_THREAD_IDLE_MS } from './constants.ts'
import { DatasetError, ExactSumFormatError, ModelBlockError, PartialResultError, TaskAbortedError, TrainSpecError } from './errors.ts'
import { handOver, runMlTask, type MlTaskRequest, type WorkerReply } from './task-entry.ts'

export interface TaskThreadsInit {
  /** worker threads at most; 0 runs tasks in the caller's thread. @default os.availableParallelism() */
  threads?: number
  /** an idle thread ends after this long. @default ML_THREAD_IDLE_MS */
  idleMs?: number
}

export interface TaskThreadsStats {
  /** threads started */
  started: number
  /** tasks run on a thread */
  runs: number
  /** tasks run on the thread that last ran the same input */
  affine: number
}

interface Pending {
  id: number
  request: MlTaskRequest
  key: string
  signal?: AbortSignal
  resolve: (bytes: Uint8Array) => void
  reject: (err: Error) => void
  onAbort: () => void
}

interface Thread {
  worker: Worker
  /** [0] = 1 asks the running task to stop */
  abort: Int32Array
  running: Pending | null
  idleTimer: ReturnType<typeof setTimeout> | undefined
}

const WORKER_URL = new URL(import.meta.url.endsWith('.ts') ? './task-worker.ts' : './task-worker.js', import.meta.url)

/** Flags of this process a worker must not inherit (Node refuses them for a worker), compared with `_` read as `-`. */
const WORKER_REFUSED_FLAGS = ['--input-type', '--max-old-space-size', '--max-semi-space-size', '--max-young-generation-size', '--stack-size', '--expose-gc', '--jitless']

const ERRORS: Record<string, new (message: string) => Error> = {
  TrainSpecError, DatasetError, ModelBlockError, PartialResultError, ExactSumFormatError, TaskAbortedError
}

export class TaskThreads {
  private readonly size: number
  private readonly idleMs: number
  private readonly threads = new Set<Thread>()
  private readonly queue: Pending[] = []
  /** the thread that last ran an input, by input key */
  private readonly lastThread = new Map<string, Thread>()
  private nextId = 1
  readonly stats: TaskThreadsStats = { started: 0, runs: 0, affine: 0 }

  constructor (init: TaskThreadsInit = {}) {
    const threads = init.threads ?? availableParallelism()
    if (!(Number.isSafeInteger(threads) && threads >= 0)) throw new RangeError(`threads must be a non-negative integer, got ${threads}`)
    this.size = threads
    this.idleMs = init.idleMs ?? ML_THREAD_IDLE_MS
  }

  /**
   * Runs one task: its result bytes.
   * @throws the task's ml error (re-created by name), or the signal's reason when aborted
   */
  async run (request: MlTaskRequest, options: { signal?: AbortSignal } = {}): Promise<Uint8Array> {
    const { signal } = options
    signal?.throwIfAborted()
    if (this.size === 0) {
      try {
        return runMlTask(request, () => signal?.aborted === true)
      } catch (err) {
        if (err instanceof TaskAbortedError && signal?.aborted === true) throw abortReason(signal)
        throw err
      }
    }
    return await new Promise<Uint8Array>((resolve, reject) => {
      const pending: Pending = {
        id: this.nextId++,
        request,
        key: inputKey(request.input),
        signal,
        resolve,
        reject,
        onAbort: () => { this.abort(pending) }
      }
      signal?.addEventListener('abort', pending.onAbort, { once: true })
      this.queue.push(pending)
      this.pump()
    })
  }

  /** Ends every thread; tasks running or queued are rejected. */
  async close (): Promise<void> {
    for (const pending of this.queue.splice(0)) this.settle(pending, new Error('the task threads were closed'))
    await Promise.all([...this.threads].map(async thread => { await this.end(thread, new Error('the task threads were closed')) }))
  }

  /** Starts queued tasks on idle threads, each preferably on the thread that last ran its input. */
  private pump (): void {
    while (this.queue.length > 0) {
      const idle = [...this.threads].filter(t => t.running === null)
      if (idle.length === 0 && this.threads.size >= this.size) return
      // a task whose input's thread is idle goes there; else the oldest task to any idle thread
      let at = this.queue.findIndex(p => { const t = this.lastThread.get(p.key); return t !== undefined && t.running === null && this.threads.has(t) })
      let thread: Thread
      if (at !== -1) {
        thread = this.lastThread.get(this.queue[at].key) as Thread
        this.stats.affine++
      } else {
        at = 0
        // leave a task whose thread is busy for that thread while other tasks can take the idle ones
        const free = this.queue.findIndex(p => { const t = this.lastThread.get(p.key); return t === undefined || !this.threads.has(t) })
        if (free !== -1) at = free
        thread = idle[0] ?? this.spawn()
      }
      const [pending] = this.queue.splice(at, 1)
      this.dispatch(thread, pending)
    }
  }

  private spawn (): Thread {
    const abort = new Int32Array(new SharedArrayBuffer(4))
    const worker = new Worker(WORKER_URL, {
      execArgv: process.execArgv.filter(inheritable),
      workerData: { abort: abort.buffer },
      resourceLimits: { maxOldGenerationSizeMb: ML_THREAD_HEAP_MB }
    })
    const thread: Thread = { worker, abort, running: null, idleTimer: undefined }
    worker.on('message', (reply: WorkerReply) => { this.onReply(thread, reply) })
    worker.on('error', (err: Error) => { void this.end(thread, err) })
    worker.on('exit', (code: number) => { void this.end(thread, new Error(`an ml worker thread exited (code ${code})`)) })
    this.threads.add(thread)
    this.stats.started++
    return thread
  }

  private dispatch (thread: Thread, pending: Pending): void {
    clearTimeout(thread.idleTimer)
    thread.idleTimer = undefined
    thread.worker.ref()
    Atomics.store(thread.abort, 0, 0)
    thread.running = pending
    this.lastThread.delete(pending.key)
    this.lastThread.set(pending.key, thread)
    if (this.lastThread.size > 4096) this.lastThread.delete(this.lastThread.keys().next().value as string)
    this.stats.runs++
    const { request, transfer } = handOver(pending.request)
    thread.worker.postMessage({ id: pending.id, request }, transfer)
  }

  private onReply (thread: Thread, reply: WorkerReply): void {
    const pending = thread.running
    if (pending?.id !== reply.id) return
    thread.running = null
    if ('ok' in reply) this.settle(pending, reply.ok)
    else this.settle(pending, rebuildError(reply.error, pending.signal))
    this.idle(thread)
  }

  private idle (thread: Thread): void {
    if (!this.threads.has(thread)) return
    this.pump()
    if (thread.running !== null) return
    thread.worker.unref()
    thread.idleTimer = setTimeout(() => { void this.end(thread, new Error('idle')) }, this.idleMs)
    thread.idleTimer.unref()
  }

  private abort (pending: Pending): void {
    const at = this.queue.indexOf(pending)
    if (at !== -1) {
      this.queue.splice(at, 1)
      this.settle(pending, abortReason(pending.signal))
      return
    }
    for (const thread of this.threads) {
      if (thread.running === pending) Atomics.store(thread.abort, 0, 1)
    }
  }

  private settle (pending: Pending, outcome: Uint8Array | Error): void {
    pending.signal?.removeEventListener('abort', pending.onAbort)
    if (outcome instanceof Error) pending.reject(outcome)
    else pending.resolve(outcome)
  }

  /** Removes a thread (it failed, idled out, or the pool closes), failing its task. */
  private async end (thread: Thread, reason: Error): Promise<void> {
    if (!this.threads.delete(thread)) return
    clearTimeout(thread.idleTimer)
    const pending = thread.running
    thread.running = null
    if (pending !== null) this.settle(pending, reason)
    try {
      await thread.worker.terminate()
    } catch {
      // already gone
    }
    this.pump()
  }
}

let shared: TaskThreads | undefined

/** The process's pool, created on first use with the defaults. */
export function sharedTaskThreads (): TaskThreads {
  shared ??= new TaskThreads()
  return shared
}

/** A key telling inputs apart cheaply (length and 32 sampled bytes); equal inputs always share it. */
function inputKey (input: Uint8Array): string {
  let sample = 0
  const step = Math.max(1, Math.floor(input.length / 32))
  for (let i = 0; i < input.length; i += step) sample = (Math.imul(sample, 31) + input[i]) | 0
  return `${input.length}:${sample}`
}

function inheritable (arg: string): boolean {
  const [name] = arg.split('=', 1)
  return !WORKER_REFUSED_FLAGS.includes(`--${name.replace(/^--/, '').replaceAll('_', '-')}`)
}

function abortReason (signal: AbortSignal | undefined): Error {
  return signal?.reason instanceof Error ? signal.reason : new TaskAbortedError('the task was aborted')
}

function rebuildError (error: { name: string, message: string }, signal: AbortSignal | undefined): Error {
  if (error.name === 'TaskAbortedError' && signal?.aborted === true) return abortReason(signal)
  const Class = ERRORS[error.name]
  if (Class !== undefined) return new Class(error.message)
  const err = new Error(error.message)
  err.name = error.name
  return err
}
