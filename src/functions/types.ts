/**
 * functions/types: the task-function model shared by the job layer, the scheduler and the
 * sandbox. Owns the shapes only; it must never hold behaviour, state or I/O.
 */

/** Job parameters as given on the CLI (`k=v`) or the API: always strings. */
export type Params = Record<string, string>

export interface TaskContext {
  /** index within its input file of the task's first shard (0: the task starts the file) */
  taskIndex: number
  /** shards of this input file */
  taskCount: number
  /** the first line of the input file (without '\n'), for functions with needsHeader; null if empty file */
  header: string | null
  signal?: AbortSignal
  /** The job's id: seeds anything a task draws at random, so every peer that runs the task draws the same. */
  job?: string
  /** Of an iterative function: the pass this task belongs to (0 first). */
  pass?: number
  /** Of an iterative function: the state the previous pass reduced to (null for pass 0). */
  state?: Uint8Array | null
  /** The verified bytes of the blocks named by the function's `blockParams`, by param name. */
  blocks?: Readonly<Record<string, Uint8Array>>
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
  /**
   * optional: params whose values are CIDs of blocks in the swarm (a model, say). The executor
   * fetches and verifies each block once per job and passes its bytes in `ctx.blocks`; submit
   * fetches them too, to check the input against them (`checkInput`).
   */
  blockParams?: readonly string[]
  /**
   * optional: checks a job's input before anything is stored or started, from the first input's
   * header line (and its first record, null when there is none) and the blocks of `blockParams`;
   * throws InvalidParamsError naming what is wrong (a column not in the header, a model whose
   * features do not match).
   */
  checkInput?(header: string | null, params: Params, blocks: Readonly<Record<string, Uint8Array>>, firstRecord?: string | null): void
  /** optional: makes the job iterative: it runs `passes.count(params)` passes over its tasks (see PassFunctions). */
  passes?: PassFunctions
}

/**
 * An iterative job: every pass maps every task of the job, at the state the previous pass
 * reduced to, and reduces the results into the next state. A pass's reduce is deterministic, so
 * every peer can recompute a state from the accepted task results and refuse one that does not
 * follow from them. For an iterative function the job layer calls these, not `run`/`reduce`.
 */
export interface PassFunctions {
  /** Passes of a job with these params, at least 1. */
  count(params: Params): number
  /** One task of pass `ctx.pass`, at state `ctx.state`: its result bytes. */
  run(input: Uint8Array, params: Params, ctx: TaskContext): Promise<Uint8Array>
  /**
   * Reduces pass `pass`: the state it ran at (null for pass 0) and its task results in task
   * order give the next state, or a failure that ends the job (a training that diverged).
   * Must be a pure function of its arguments: the same bytes on every peer.
   */
  reduce(pass: number, state: Uint8Array | null, results: Uint8Array[], params: Params): Promise<PassOutcome>
  /**
   * The job's final result from the last pass's state (and its CID: the state is stored in the
   * swarm as a block) and every pass's report, in pass order.
   */
  finish(last: { state: Uint8Array, cid: string }, reports: PassReport[], params: Params): Promise<Uint8Array>
}

/** What a pass's reduce gives: the next state and what to report of the pass, or why the job fails. */
export type PassOutcome =
  | { state: Uint8Array, report: PassReport }
  | { failure: string }

/** What a pass reports for status views (a training round's loss at the state it ran at). */
export interface PassReport {
  /** A mean loss, when the pass computes one. */
  loss?: number
}

/** What `FunctionRegistry.list()` reports for each function. */
export interface FunctionInfo {
  name: string
  description: string
  builtin: boolean
}
