/**
 * test/ml/swarm-passes: runs an iterative task function the way the job layer does, on one
 * machine: every pass maps every task of every file (cut into byte ranges, record-aligned)
 * at the previous pass's state, in any completion order, and reduces the results in task
 * order; then finish. So tests can compare any partition and order with trainLocally.
 */

import { dagCborCid } from '../../src/ml/index.ts'
import { firstLine, type Params, type PassReport, type TaskFunction } from '../../src/functions/index.ts'
import { alignAll } from '../functions/partition.ts'

export interface PassesRun {
  states: Uint8Array[]
  reports: PassReport[]
  result: Uint8Array | null
  failure: string | null
}

/**
 * Runs `fn`'s passes over files cut into ranges. `order(n)` gives the order in which the n
 * tasks of a pass complete (default: task order); results are reduced in task order anyway.
 */
export async function runPasses (fn: TaskFunction, files: Uint8Array[][], params: Params, job: string, order?: (n: number, pass: number) => number[]): Promise<PassesRun> {
  const passes = fn.passes
  if (passes === undefined) throw new Error(`${fn.name} is not iterative`)
  const tasks: Array<{ input: Uint8Array, taskIndex: number, taskCount: number, header: string | null }> = []
  for (const ranges of files) {
    let j = 1
    const header = await firstLine(ranges[0] ?? new Uint8Array(0), async () => j < ranges.length ? ranges[j++] : null)
    const inputs = await alignAll(ranges)
    inputs.forEach((input, taskIndex) => tasks.push({ input, taskIndex, taskCount: inputs.length, header }))
  }
  const states: Uint8Array[] = []
  const reports: PassReport[] = []
  let state: Uint8Array | null = null
  const count = passes.count(params)
  for (let pass = 0; pass < count; pass++) {
    const results = new Array<Uint8Array>(tasks.length)
    for (const i of order?.(tasks.length, pass) ?? tasks.map((_, i) => i)) {
      const t = tasks[i]
      results[i] = await passes.run(t.input, params, { taskIndex: t.taskIndex, taskCount: t.taskCount, header: t.header, job, pass, state })
    }
    const outcome = await passes.reduce(pass, state, results, params)
    if ('failure' in outcome) return { states, reports, result: null, failure: outcome.failure }
    state = outcome.state
    states.push(state)
    reports.push(outcome.report)
  }
  if (state === null) throw new Error('no pass ran')
  const result = await passes.finish({ state, cid: await dagCborCid(state) }, reports, params)
  return { states, reports, result, failure: null }
}
