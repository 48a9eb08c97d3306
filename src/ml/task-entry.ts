/**
 * ml/task-entry: the one door to the task computations of training and inference, as plain
 * structured-cloneable requests, so a task runs the same way in a worker thread or in the
 * caller's thread, and how their bytes cross to a thread (copied once, then transferred).
 * Dispatches to training-tasks.ts and inference.ts; owns no math.
 */

import { decodeModel } from './model-block.ts'
import { parseTrainSpec } from './spec.ts'
import { predictTask, evaluateTask } from './inference.ts'
import { roundTask, scanTask } from './training-tasks.ts'

interface TaskRequestBase {
  /** the task's input: whole records */
  input: Uint8Array
  /** the first line of its input file */
  header: string | null
  /** its index within its input file (0 holds the header line) */
  taskIndex: number
}

/** A task of training (pass 0: the scan; pass p ≥ 1: round p − 1 at `state`), predict or evaluate. */
export type MlTaskRequest =
  | TaskRequestBase & { op: 'train', params: Record<string, string>, job: string, pass: number, state: Uint8Array | null }
  | TaskRequestBase & { op: 'predict', model: Uint8Array }
  | TaskRequestBase & { op: 'evaluate', model: Uint8Array, label: string }

/** What a worker thread posts back for a task. */
export type WorkerReply = { id: number, ok: Uint8Array } | { id: number, error: { name: string, message: string } }

/**
 * The request with copies of its bytes, and their buffers to transfer: one copy each, and
 * never a view's whole buffer (a shard's input is a view of the shard, which a message would
 * clone whole).
 */
export function handOver (request: MlTaskRequest): { request: MlTaskRequest, transfer: ArrayBuffer[] } {
  const input = ownCopy(request.input)
  switch (request.op) {
    case 'train': {
      const state = request.state === null ? null : ownCopy(request.state)
      return { request: { ...request, input, state }, transfer: state === null ? [input.buffer] : [input.buffer, state.buffer] }
    }
    default: {
      const model = ownCopy(request.model)
      return { request: { ...request, input, model }, transfer: [input.buffer, model.buffer] }
    }
  }
}

/** A copy of the bytes in a buffer of their own, which a message can transfer (a Buffer's slice is a view, maybe of a shared pool). */
export function ownCopy (bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const copy = new Uint8Array(bytes.byteLength)
  copy.set(bytes)
  return copy
}

/** Runs one task: its result bytes. Throws the ml errors (TrainSpecError, DatasetError, ModelBlockError, TaskAbortedError). */
export function runMlTask (request: MlTaskRequest, isAborted?: () => boolean): Uint8Array {
  const place = { header: request.header, taskIndex: request.taskIndex, isAborted }
  switch (request.op) {
    case 'train': {
      const spec = parseTrainSpec(request.params)
      const trainPlace = { ...place, job: request.job }
      if (request.pass === 0) return scanTask(request.input, spec, trainPlace)
      if (request.state === null) throw new TypeError('a training round needs the state of the pass before it')
      return roundTask(request.input, spec, decodeModel(request.state), request.pass - 1, trainPlace)
    }
    case 'predict':
      return predictTask(request.input, decodeModel(request.model), place)
    case 'evaluate':
      return evaluateTask(request.input, decodeModel(request.model), request.label, place)
  }
}
