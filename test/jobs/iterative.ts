/**
 * An iterative test function, and what its jobs must give: `pass-sum` runs
 * `passes` passes (param, default 3); a task of a pass returns the sum of its
 * lines (integers) plus the state it runs at; a pass's reduce adds its
 * results to the state before it, so state_p = (T + 1)·state_{p−1} + S for T
 * tasks over numbers summing to S, a value that depends on every pass having
 * run at the right state. Its report's loss is a function of the state; with
 * `fail-at=p` pass p fails; with `ms=N` a task takes N ms, with
 * `reduce-ms=N` a pass's reduce does.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { TaskFunction } from '../../src/functions/index.ts'
import { InvalidParamsError } from '../../src/functions/index.ts'
import { stateCid } from '../../src/jobs/index.ts'

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
const dec = (b: Uint8Array): string => new TextDecoder().decode(b)

/** The loss pass-sum reports for a state. */
export function lossOf (state: bigint): number {
  return Number(state % 1000n) / 1000
}

export const passSum: TaskFunction = {
  name: 'pass-sum',
  description: 'test: passes that add their tasks\' sums (plus the state) to the state',
  lineOriented: true,
  needsHeader: false,
  run: async () => { throw new Error('pass-sum is iterative: the job layer calls passes.run') },
  reduce: async () => { throw new Error('pass-sum is iterative: the job layer calls passes.reduce') },
  validateParams: (params) => {
    if (params.passes != null && !/^[1-9]\d*$/.test(params.passes)) throw new InvalidParamsError(`passes must be a positive whole number, got "${params.passes}"`)
  },
  passes: {
    count: (params) => Number(params.passes ?? '3'),
    run: async (input, params, ctx) => {
      if (params.ms != null) await sleep(Number(params.ms), undefined, { signal: ctx.signal })
      const base = ctx.state == null ? 0n : BigInt(dec(ctx.state))
      let sum = 0n
      for (const line of dec(input).split('\n')) if (line.trim() !== '') sum += BigInt(line.trim())
      return enc(String(sum + base))
    },
    reduce: async (pass, state, results, params) => {
      if (params['reduce-ms'] != null) await sleep(Number(params['reduce-ms']))
      if (params['fail-at'] === String(pass)) return { failure: `pass ${pass}: told to fail` }
      let total = state == null ? 0n : BigInt(dec(state))
      for (const r of results) total += BigInt(dec(r))
      return { state: enc(String(total)), report: { loss: lossOf(total) } }
    },
    finish: async (last, reports) => enc(JSON.stringify({ state: dec(last.state), model: last.cid, loss: reports.map(r => r.loss) }))
  }
}

/** The states pass-sum goes through over `tasks` tasks whose lines sum to `sum`. */
export function expectedStates (passes: number, tasks: number, sum: bigint): bigint[] {
  const out: bigint[] = []
  let state = 0n
  for (let p = 0; p < passes; p++) {
    state = state * BigInt(tasks + 1) + sum
    out.push(state)
  }
  return out
}

/** Lines of the numbers 1..n. */
export const numbers = (n: number): string => Array.from({ length: n }, (_, i) => String(i + 1)).join('\n') + '\n'
/** 1 + 2 + … + n. */
export const sumTo = (n: number): bigint => BigInt(n) * BigInt(n + 1) / 2n

/** What pass-sum's job must give: its last state, that state's CID, and every pass's loss. */
export async function expectedResult (_node: unknown, passes: number, tasks: number, sum: bigint): Promise<unknown> {
  const states = expectedStates(passes, tasks, sum)
  const last = enc(String(states[passes - 1]))
  return { state: String(states[passes - 1]), model: stateCid(last).toString(), loss: states.map(lossOf) }
}
