/**
 * functions/model-input: what `predict` and `evaluate` check before they run: their params
 * (a model CID), the model block (it must be a model) against the input's header (its
 * features, and the label, must be columns), and the block a task gets from the executor.
 * Checks only; never fetches a block.
 */

import { CID } from 'multiformats/cid'
import { decodeModel, headerColumns, type Model, type TaskThreads } from '../ml/index.ts'
import { InvalidParamsError, InvalidTaskInputError } from './errors.ts'
import type { Params, TaskContext } from './types.ts'

export interface InferenceFunctionOptions {
  /** where tasks run. @default the process's shared ml task threads */
  threads?: TaskThreads
}

/** @throws InvalidParamsError for an unknown parameter or a missing or malformed model CID */
export function checkModelParams (fn: string, params: Params, known: string[]): void {
  for (const key of Object.keys(params)) {
    if (!known.includes(key)) throw new InvalidParamsError(`${fn}: unknown parameter "${key}" (known: ${known.join(', ')})`)
  }
  const cid = params.model?.trim() ?? ''
  if (cid === '') throw new InvalidParamsError(`${fn}: parameter "model" (the CID of a trained model) is required`)
  try {
    CID.parse(cid)
  } catch {
    throw new InvalidParamsError(`${fn}: model must be a CID, got "${params.model}"`)
  }
}

/**
 * The model of `blocks.model`, checked against the input's header (and `label` when given).
 * @throws InvalidParamsError naming what does not fit
 */
export function checkModelInput (fn: string, header: string | null, params: Params, blocks: Readonly<Record<string, Uint8Array>>, label: string | null): Model {
  const bytes = blocks.model
  if (bytes === undefined) throw new InvalidParamsError(`${fn}: the block of model=${params.model} was not given`)
  let model: Model
  try {
    model = decodeModel(bytes)
  } catch (err) {
    throw new InvalidParamsError(`${fn}: model ${params.model}: ${(err as Error).message}`)
  }
  if (header === null) throw new InvalidParamsError(`${fn}: the input is empty: it has no header line`)
  const columns = headerColumns(header)
  const missing = model.features.filter(f => !columns.includes(f))
  if (missing.length > 0) throw new InvalidParamsError(`${fn}: the model's feature${missing.length > 1 ? 's' : ''} ${missing.map(f => `"${f}"`).join(', ')} ${missing.length > 1 ? 'are' : 'is'} not a column of the input (columns: ${columns.join(', ')})`)
  if (label !== null && !columns.includes(label.trim())) throw new InvalidParamsError(`${fn}: label "${label.trim()}" is not a column of the input (columns: ${columns.join(', ')})`)
  return model
}

/** The model block the executor passed to a task. */
export function modelBlock (fn: string, params: Params, ctx: TaskContext): Uint8Array {
  const bytes = ctx.blocks?.model
  if (bytes === undefined) throw new InvalidTaskInputError(`${fn}: the executor did not pass the block of model=${params.model}`)
  return bytes
}
