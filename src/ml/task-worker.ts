/**
 * ml/task-worker: the worker_threads entry of task-threads.ts. Runs one task at a time
 * (task-entry.ts) and hands back a copy of its bytes, or its error's name and message; a task
 * polls the shared abort flag between records. The thread runs at background priority, set once before
 * any task. Trusted code only; it never loads code it is sent.
 */

import { parentPort, workerData } from 'node:worker_threads'
import { lowerThisThreadPriority } from '../sandbox/index.ts'
import { ML_THREAD_NICENESS } from './constants.ts'
import { ownCopy, runMlTask, type MlTaskRequest, type WorkerReply } from './task-entry.ts'

const abort = new Int32Array((workerData as { abort: SharedArrayBuffer }).abort)
const isAborted = (): boolean => Atomics.load(abort, 0) !== 0

lowerThisThreadPriority(ML_THREAD_NICENESS)

parentPort?.on('message', ({ id, request }: { id: number, request: MlTaskRequest }) => {
  let reply: WorkerReply
  const transfer: ArrayBuffer[] = []
  try {
    // a copy of just the result, handed over: a view's whole buffer would be cloned otherwise
    const ok = ownCopy(runMlTask(request, isAborted))
    transfer.push(ok.buffer)
    reply = { id, ok }
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err))
    reply = { id, error: { name: error.name, message: error.message } }
  }
  parentPort?.postMessage(reply, transfer)
})
