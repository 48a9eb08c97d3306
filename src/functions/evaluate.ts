/**
 * functions/evaluate: the `evaluate` built-in: a trained model (param `model`) compared with a
 * label column of CSV records; JSON figures (count, loss, accuracy and confusion, or RMSE)
 * from exact sums, so they never depend on how the input was cut. The math is ml/'s; this
 * adapter checks params, the model and the input's header, runs tasks on the ml task threads
 * and maps errors. Never touches the network.
 */

import { decodeModel, headerColumns, reduceEvaluate, sharedTaskThreads, type TaskThreads } from '../ml/index.ts'
import { InvalidParamsError } from './errors.ts'
import { withFunctionErrors, withFunctionErrorsAsync } from './ml-errors.ts'
import { checkModelInput, checkModelParams, modelBlock, type InferenceFunctionOptions } from './model-input.ts'
import type { TaskFunction } from './types.ts'

/** An `evaluate` function whose tasks run on the given threads. */
export function evaluateFunction (options: InferenceFunctionOptions = {}): TaskFunction {
  const threads = (): TaskThreads => options.threads ?? sharedTaskThreads()
  return {
    name: 'evaluate',
    description: 'Evaluates a trained model on labelled CSV records: params model=<CID of a model block>, label=<column> (default: the model\'s label). Outputs JSON {"count", "accuracy", "loss", "confusion", "classes", "skipped"} for classifiers, {"count", "rmse", "loss", "skipped"} for linear models; sums are exact, so figures do not depend on how the input is cut.',
    lineOriented: true,
    needsHeader: true,
    blockParams: ['model'],

    validateParams (params) {
      checkModelParams('evaluate', params, ['model', 'label'])
      if (params.label?.trim() === '') throw new InvalidParamsError('evaluate: label must name a column when given')
    },

    checkInput (header, params, blocks) {
      const model = checkModelInput('evaluate', header, params, blocks, params.label ?? null)
      if (params.label === undefined && !headerColumns(header ?? '').includes(model.label)) {
        throw new InvalidParamsError(`evaluate: the model's label "${model.label}" is not a column of the input (give label=<column>)`)
      }
    },

    async run (input, params, ctx) {
      const bytes = modelBlock('evaluate', params, ctx)
      const label = params.label?.trim() ?? withFunctionErrors('evaluate', () => decodeModel(bytes)).label
      return await withFunctionErrorsAsync('evaluate', async () => await threads().run({ op: 'evaluate', input, header: ctx.header, taskIndex: ctx.taskIndex, model: bytes, label }, { signal: ctx.signal }))
    },

    async reduce (results) {
      return withFunctionErrors('evaluate', () => reduceEvaluate(results))
    }
  }
}

/** The `evaluate` built-in. */
export const evaluate: TaskFunction = evaluateFunction()
