/**
 * ml/task-entry: the one door to the task computations of training and inference, as plain
 * structured-cloneable requests, so a task runs the same way in a worker thread or in the
 * caller's thread. Dispatches to training-tasks.ts and inference.ts; owns no math.
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
