/**
 * functions/types: the task-function model shared by the job layer, the scheduler and the
 * sandbox. Owns the shapes only; it must never hold behaviour, state or I/O.
 */

/** Job parameters as given on the CLI (`k=v`) or the API: always strings. */
export type Params = Record<string, string>

export interface TaskContext {
  /** index of this task within its input file */
  taskIndex: number
  /** tasks for this input file */
  taskCount: number
  /** the first line of the input file (without '\n'), for functions with needsHeader; null if empty file */
  header: string | null
  signal?: AbortSignal
}

export interface TaskFunction {
  name: string
  description: string
  /** inputs are split on '\n' record boundaries */
  lineOriented: boolean
  /** ctx.header must be supplied */
  needsHeader: boolean
  run(input: Uint8Array, params: Params, ctx: TaskContext): Promise<Uint8Array>
  /** merges task results, given in task order (over all input files in order), into the final job result bytes */
  reduce(results: Uint8Array[], params: Params): Promise<Uint8Array>
  /** optional: validate params up front; throw InvalidParamsError with a clear message */
  validateParams?(params: Params): void
}

/** What `FunctionRegistry.list()` reports for each function. */
export interface FunctionInfo {
  name: string
  description: string
  builtin: boolean
}
