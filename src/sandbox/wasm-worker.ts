/**
 * sandbox/wasm-worker: the worker_threads entry of the sandbox's pool. For each WorkerJob it
 * receives (a module already compiled and vetted by run-wasm.ts), it instantiates the module
 * afresh with a fresh WASI shim — new instance, new linear memory, new tables; nothing of a
 * previous run is reachable — runs `_start` and posts back a WorkerOutcome. One job at a time.
 * It must never give the module anything that reaches the filesystem, the network or the
 * host: the module sees only the shim. The thread itself runs at background priority
 * (thread-priority.ts), set once before any module runs.
 */

import { parentPort } from 'node:worker_threads'
import { WASM_PAGE_BYTES } from './constants.ts'
import { lowerThisThreadPriority } from './thread-priority.ts'
import { OutputLimitExceeded, ProcExit, WasiShim } from './wasi-shim.ts'
import { webAssembly } from './webassembly.ts'
import type { WasmInstance } from './webassembly.ts'
import type { WorkerJob, WorkerOutcome } from './worker-protocol.ts'

async function run (job: WorkerJob): Promise<WorkerOutcome> {
  const shim = new WasiShim({
    stdin: job.input,
    args: job.args,
    maxStdoutBytes: job.maxOutputBytes,
    maxStderrTailBytes: job.maxStderrTailBytes
  })
  let instance: WasmInstance | null = null
  let failure: unknown = null
  try {
    // a module with a wasm start section already runs its code here
    instance = await webAssembly.instantiate(job.module, shim.imports())
  } catch (err) {
    if (err instanceof webAssembly.LinkError) return { kind: 'invalid', message: `module does not link: ${err.message}` }
    failure = err
  }
  const memory = instance?.exports.memory instanceof webAssembly.Memory ? instance.exports.memory : null
  const memoryPages = (): number => memory === null ? 0 : memory.buffer.byteLength / WASM_PAGE_BYTES
  if (instance !== null) {
    const start = instance.exports._start
    if (typeof start !== 'function') return { kind: 'invalid', message: 'module does not export a "_start" function' }
    shim.setMemory(memory)
    try {
      start()
    } catch (err) {
      failure = err
    }
  }
  if (shim.outputLimitExceeded || failure instanceof OutputLimitExceeded) return { kind: 'output-limit', stderr: shim.stderrTail() }
  if (shim.exitCode !== null && shim.exitCode !== 0) {
    return { kind: 'exit', code: shim.exitCode, stderr: shim.stderrTail(), memoryPages: memoryPages() }
  }
  if (failure !== null && !(failure instanceof ProcExit)) {
    const message = failure instanceof Error ? failure.message : String(failure)
    return { kind: 'trap', message, stderr: shim.stderrTail(), memoryPages: memoryPages() }
  }
  return { kind: 'ok', stdout: shim.stdout() }
}

const port = parentPort
if (port === null) throw new Error('sandbox/wasm-worker must run as a worker thread')
lowerThisThreadPriority()
port.on('message', (job: WorkerJob) => {
  void run(job).then((outcome) => {
    const transfer = outcome.kind === 'ok' ? [outcome.stdout.buffer as ArrayBuffer] : []
    port.postMessage(outcome, transfer)
  })
})
