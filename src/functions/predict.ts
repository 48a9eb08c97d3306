/**
 * functions/predict: the `predict` built-in: a trained model (the block named by param
 * `model`) applied to CSV records, one output line per record (the class or value), in record
 * order. The math is ml/'s; this adapter checks params, the model and the input's header,
 * runs tasks on the ml task threads and maps errors. Never touches the network.
 */

import { concat } from 'uint8arrays/concat'
import { sharedTaskThreads, type TaskThreads } from '../ml/index.ts'
import { InvalidTaskResultError } from './errors.ts'
import { withFunctionErrorsAsync } from './ml-errors.ts'
import { checkModelInput, checkModelParams, modelBlock, type InferenceFunctionOptions } from './model-input.ts'
import type { TaskFunction } from './types.ts'

/** A `predict` function whose tasks run on the given threads. */
export function predictFunction (options: InferenceFunctionOptions = {}): TaskFunction {
  const threads = (): TaskThreads => options.threads ?? sharedTaskThreads()
  return {
    name: 'predict',
    description: 'Applies a trained model to CSV records: param model=<CID of a model block>. Outputs one line per record after the header, in record order: the predicted class (classifiers) or value (linear); an empty line for a record whose features do not parse.',
    lineOriented: true,
    needsHeader: true,
    blockParams: ['model'],

    validateParams (params) {
      checkModelParams('predict', params, ['model'])
    },

    checkInput (header, params, blocks) {
      checkModelInput('predict', header, params, blocks, null)
    },

    async run (input, params, ctx) {
      const model = modelBlock('predict', params, ctx)
      return await withFunctionErrorsAsync('predict', async () => await threads().run({ op: 'predict', input, header: ctx.header, taskIndex: ctx.taskIndex, model }, { signal: ctx.signal }))
    },

    async reduce (results) {
      for (const r of results) {
        if (r.length > 0 && r[r.length - 1] !== 0x0a) throw new InvalidTaskResultError('predict: a task result does not end in a newline')
      }
      return concat(results)
    }
  }
}

/** The `predict` built-in. */
export const predict: TaskFunction = predictFunction()
