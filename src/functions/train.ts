/**
 * functions/train: the `train` built-in, an iterative function. Pass 0 scans the records
 * (counts, classes, standardization), pass r + 1 is round r at the model θ_r; every pass's
 * state is a model block. The math is ml/'s (docs/TRAINING.md); this adapter checks the
 * parameters and the input's header, runs tasks on the ml task threads and maps ml errors to
 * the functions layer's. Never touches the network or the filesystem.
 */

import {
  decodeModel, encodeModel, headerColumns, parseTrainSpec, reduceRound, reduceScan, resolveFeatures as resolveMlFeatures,
  sharedTaskThreads, trainingResult, type TaskThreads
} from '../ml/index.ts'
import { InvalidParamsError, InvalidTaskResultError } from './errors.ts'
import { withFunctionErrors, withFunctionErrorsAsync } from './ml-errors.ts'
import type { Params, TaskFunction } from './types.ts'

export interface TrainFunctionOptions {
  /** where tasks run. @default the process's shared ml task threads */
  threads?: TaskThreads
}

/**
 * The features of a training over an input whose header and first record are given:
 * `features` when given (each must be a column), else every column but the label that holds
 * a number in the first record. Submit calls it when params lack `features`.
 * @throws InvalidParamsError naming the column at fault, or saying no column is numeric
 */
export function resolveFeatures (header: string | null, firstRecord: string | null, label: string, features?: string): string[] {
  return withFunctionErrors('train', () => resolveMlFeatures(header, firstRecord, label, features))
}

/** A `train` function whose tasks run on the given threads. */
export function trainFunction (options: TrainFunctionOptions = {}): TaskFunction {
  const threads = (): TaskThreads => options.threads ?? sharedTaskThreads()
  const notDirect = async (): Promise<Uint8Array> => {
    throw new InvalidParamsError('train: an iterative function runs as passes (see `passes`), not as one map and reduce')
  }
  return {
    name: 'train',
    description: 'Trains a model by gradient descent over CSV records: params kind=linear|logistic|softmax, label=<column>, features=a,b,c (default: the numeric columns), rounds, lr, l2, standardize=true, localSteps and batchSize (FedAvg), aggregate=mean|median|trimmed-mean, trim. Pass 0 scans the data, then one pass per round; every pass\'s state is a model block. Sums are exact, so the model does not depend on how the input is cut. Result: JSON {"model", "rounds", "loss", "classes"}.',
    lineOriented: true,
    needsHeader: true,
    run: notDirect,
    reduce: notDirect,

    validateParams (params) {
      withFunctionErrors('train', () => parseTrainSpec(params, true))
    },

    checkInput (header, params, _blocks, firstRecord?: string | null) {
      const spec = withFunctionErrors('train', () => parseTrainSpec(params, true))
      if (header === null) throw new InvalidParamsError('train: the input is empty: it has no header line')
      if (spec.features.length > 0) {
        resolveFeatures(header, null, spec.label, spec.features.join(','))
        return
      }
      // a job pins its features: the label and numeric columns are checked, then the list is asked for
      const found = resolveFeatures(header, firstRecord ?? null, spec.label)
      throw new InvalidParamsError(`train: parameter "features" is required (the numeric columns of the input are ${found.join(',')})`)
    },

    passes: {
      count (params) {
        return 1 + withFunctionErrors('train', () => parseTrainSpec(params, true)).rounds
      },

      async run (input, params, ctx) {
        return await withFunctionErrorsAsync('train', async () => await threads().run({
          op: 'train',
          input,
          header: ctx.header,
          taskIndex: ctx.taskIndex,
          params,
          job: ctx.job ?? '',
          pass: ctx.pass ?? 0,
          state: ctx.state ?? null
        }, { signal: ctx.signal }))
      },

      async reduce (pass, state, results, params) {
        return withFunctionErrors('train', () => {
          const spec = parseTrainSpec(params)
          if (pass === 0) {
            const scanned = reduceScan(results, spec)
            return 'failure' in scanned ? scanned : { state: encodeModel(scanned.model), report: {} }
          }
          if (state === null) throw new InvalidTaskResultError(`train: pass ${pass} has no state to start from`)
          const outcome = reduceRound(pass - 1, decodeModel(state), results, spec)
          return 'failure' in outcome ? outcome : { state: encodeModel(outcome.model), report: { loss: outcome.loss } }
        })
      },

      async finish (last, reports, params: Params) {
        return withFunctionErrors('train', () => {
          const model = decodeModel(last.state)
          const losses = reports.slice(1).map((report, r) => {
            if (typeof report.loss !== 'number') throw new InvalidTaskResultError(`train: round ${r} reported no loss`)
            return report.loss
          })
          if (losses.length !== parseTrainSpec(params, true).rounds) throw new InvalidTaskResultError(`train: ${losses.length} rounds reported, ${params.rounds ?? 'the default'} asked`)
          return trainingResult(last.cid, losses, model.classes)
        })
      }
    }
  }
}

/** The `train` built-in: tasks on the process's shared ml task threads. */
export const train: TaskFunction = trainFunction()
