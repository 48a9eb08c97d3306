/**
 * @packageDocumentation
 *
 * functions/: the task functions a job can name, their reducers, and the record alignment
 * that makes task results independent of how input files were cut. Everything here is pure:
 * it must never touch the network, the filesystem or untrusted code (that is sandbox/).
 * `train` (iterative), `predict` and `evaluate` adapt the numerical core in ml/.
 *
 * @example
 *
 * ```ts
 * import { FunctionRegistry, builtinFunctions } from './functions/index.ts'
 *
 * const registry = new FunctionRegistry(builtinFunctions)
 * const square = registry.get('square')
 * const input = new TextEncoder().encode('1\n2\n3\n')
 * const part = await square.run(input, {}, { taskIndex: 0, taskCount: 1, header: null })
 * const result = await square.reduce([part], {}) // "1\n4\n9\n"
 * ```
 */

import { csvStats } from './csv-stats.ts'
import { evaluate, evaluateFunction } from './evaluate.ts'
import { predict, predictFunction } from './predict.ts'
import { square } from './square.ts'
import { train, trainFunction, resolveFeatures } from './train.ts'
import { wordCount } from './word-count.ts'
import type { TaskFunction } from './types.ts'

export type { Params, TaskContext, TaskFunction, FunctionInfo, PassFunctions, PassOutcome, PassReport } from './types.ts'
export { FunctionRegistry } from './registry.ts'
export type { SimpleFunctionOptions, SimpleRun, SimpleReduce } from './registry.ts'
export { alignRecords, firstLine, decodeLines } from './records.ts'
export type { NextRange } from './records.ts'
export {
  InvalidParamsError, InvalidTaskInputError, InvalidTaskResultError, RecordTooLargeError,
  FunctionRegistrationError, UnknownFunctionError
} from './errors.ts'
export { square, wordCount, csvStats, train, predict, evaluate }
export { trainFunction, predictFunction, evaluateFunction, resolveFeatures }
export type { TrainFunctionOptions } from './train.ts'
export type { InferenceFunctionOptions } from './model-input.ts'

/** The built-in task functions, in the order `list()` shows them. */
export const builtinFunctions: TaskFunction[] = [square, wordCount, csvStats, train, predict, evaluate]
