/**
 * functions/registry: the name -> TaskFunction table a peer executes from. Owns name rules and
 * duplicate detection; it must never run a function or load code itself.
 */

import { FUNCTION_NAME_PATTERN } from './constants.ts'
import { FunctionRegistrationError, UnknownFunctionError } from './errors.ts'
import type { FunctionInfo, Params, TaskContext, TaskFunction } from './types.ts'

export interface SimpleFunctionOptions {
  description?: string
  /** default true: inputs are split on '\n' record boundaries */
  lineOriented?: boolean
  /** default false */
  needsHeader?: boolean
  validateParams?(params: Params): void
}

export type SimpleRun = (input: Uint8Array, params: Params, ctx: TaskContext) => Uint8Array | Promise<Uint8Array>
export type SimpleReduce = (results: Uint8Array[], params: Params) => Uint8Array | Promise<Uint8Array>

export class FunctionRegistry {
  private readonly functions = new Map<string, { fn: TaskFunction, builtin: boolean }>()

  /** @param builtins functions registered as built-in (e.g. `builtinFunctions`) */
  constructor (builtins: Iterable<TaskFunction> = []) {
    for (const fn of builtins) this.add(fn, true)
  }

  /** Registers a function. @throws FunctionRegistrationError on a bad or duplicate name */
  register (fn: TaskFunction): void {
    this.add(fn, false)
  }

  /** Registers a user function from plain (possibly synchronous) run and reduce callbacks. */
  registerSimple (name: string, run: SimpleRun, reduce: SimpleReduce, opts: SimpleFunctionOptions = {}): void {
    const fn: TaskFunction = {
      name,
      description: opts.description ?? '',
      lineOriented: opts.lineOriented ?? true,
      needsHeader: opts.needsHeader ?? false,
      run: async (input, params, ctx) => await run(input, params, ctx),
      reduce: async (results, params) => await reduce(results, params)
    }
    if (opts.validateParams !== undefined) fn.validateParams = opts.validateParams
    this.register(fn)
  }

  /** @throws UnknownFunctionError */
  get (name: string): TaskFunction {
    const entry = this.functions.get(name)
    if (entry === undefined) {
      throw new UnknownFunctionError(`unknown function "${name}" (known: ${[...this.functions.keys()].join(', ') || 'none'})`)
    }
    return entry.fn
  }

  has (name: string): boolean {
    return this.functions.has(name)
  }

  list (): FunctionInfo[] {
    return [...this.functions.values()].map(({ fn, builtin }) => ({ name: fn.name, description: fn.description, builtin }))
  }

  private add (fn: TaskFunction, builtin: boolean): void {
    if (!FUNCTION_NAME_PATTERN.test(fn.name)) {
      throw new FunctionRegistrationError(`invalid function name "${fn.name}": must match ${FUNCTION_NAME_PATTERN}`)
    }
    if (this.functions.has(fn.name)) throw new FunctionRegistrationError(`function "${fn.name}" is already registered`)
    this.functions.set(fn.name, { fn, builtin })
  }
}
