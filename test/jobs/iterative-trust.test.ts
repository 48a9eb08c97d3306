/**
 * Iterative jobs against liars and bad input, on real peers over TCP on
 * 127.0.0.1: a forged pass state (and a forged result) is refused and never
 * built on; a peer returning wrong task results is outvoted with redundancy 3;
 * a pass that fails ends the job with its reason and keeps the passes before
 * it; a job whose input its function's checkInput refuses is refused at
 * submit, with nothing announced.
 */
import { describe, it, expect } from 'vitest'
import { cidOf } from '../../src/data/index.ts'
import { InvalidParamsError, type TaskFunction } from '../../src/functions/index.ts'
import { JobFailedError, resultHash, stateCid, type JobState, type SignedFact } from '../../src/jobs/index.ts'
import type { TaskRunner } from '../../src/scheduler/index.ts'
import type { EdgeNode } from '../../src/index.ts'
import { useCleanup, waitFor } from '../helpers.ts'
import { swarm, enc, dec } from './swarm.ts'
import { expectedResult, numbers, passSum, sumTo } from './iterative.ts'


/** An executor that runs every task, then returns its result with '!' appended: wrong, and plausible. */
function lying (executor: TaskRunner): TaskRunner {
  return {
    canRun: doc => executor.canRun(doc),
    prefetch: (doc, index) => { executor.prefetch(doc, index) },
    clearPrefetched: () => { executor.clearPrefetched() },
    run: async (doc, index, options) => enc(dec(await executor.run(doc, index, options)) + '!')
  }
}

/** A function that scales a CSV column by a number held in a block (`factor=CID`), checked at submit. */
const scale: TaskFunction = {
  name: 'scale',
  description: 'test: one line per record, its `column` times the number in block `factor`',
  lineOriented: true,
  needsHeader: true,
  blockParams: ['factor'],
  checkInput: (header, params, blocks, firstRecord) => {
    const columns = (header ?? '').split(',')
    const at = columns.indexOf(params.column ?? '')
    if (at < 0) throw new InvalidParamsError(`column "${params.column ?? ''}" is not in the header (${columns.join(', ')})`)
    if (!Number.isFinite(Number(dec(blocks.factor)))) throw new InvalidParamsError('factor: the block is not a number')
    if (firstRecord == null || !Number.isFinite(Number(firstRecord.split(',')[at]))) throw new InvalidParamsError(`column "${params.column ?? ''}" of the first record is not a number`)
  },
  run: async (input, params, ctx) => {
    const columns = (ctx.header ?? '').split(',')
    const at = columns.indexOf(params.column)
    const factor = Number(dec(ctx.blocks?.factor ?? new Uint8Array()))
    const out: string[] = []
    for (const line of dec(input).split('\n')) {
      if (line === '' || line === ctx.header) continue
      out.push(String(Number(line.split(',')[at]) * factor))
    }
    return enc(out.map(l => l + '\n').join(''))
  },
  reduce: async (results) => enc(results.map(dec).join(''))
}

describe('iterative jobs: trust and bad input', () => {
  const t = useCleanup()
  const register = (nodes: EdgeNode[]): void => { for (const n of nodes) n.functions.registerFunction(passSum) }

  it('a forged pass state is refused by every honest peer and never built on; the job ends right', async () => {
    // the forger runs no task (it lacks the function): it only publishes facts, signed with its own key
    const nodes = await swarm(t.node, 4)
    const [forger, ...honest] = nodes
    register(honest)
    const cid = await honest[0].data.put(enc(numbers(1500)), { chunkSize: 1024 })
    // a slow reduce, so the forged fact for pass 1 goes out before the honest one
    const job = await honest[1].jobs.submit({ fn: 'pass-sum', inputs: [cid.toString()], params: { passes: '3', 'reduce-ms': '300' } })
    const mine = (): JobState | undefined => forger.jobs.service.state(job.id)
    expect(await waitFor(() => mine()?.openPass === 1 && mine()?.passReady === true, 30_000, 5)).toBe(true)
    const forgerState = mine() as JobState
    const wrong = enc('12345')
    const forged: SignedFact = await forger.jobs.service.publish({
      t: 'pass', job: job.id, pass: 1, at: Date.now(), results: forgerState.resultsDigest(1) as string,
      state: stateCid(wrong).toString(), data: wrong, loss: 0.345
    })
    // and a forged result for the job
    const fake = enc('{"state":"12345"}')
    const forgedDone = await forger.jobs.service.publish({ t: 'done', job: job.id, at: Date.now(), result: cidOf(fake).toString(), hash: resultHash(fake), size: fake.length, data: fake })

    const result = JSON.parse(dec(await job.result({ signal: AbortSignal.timeout(60_000) })))
    const tasks = job.status().total / 3
    expect(result).toEqual(await expectedResult(honest[0], 3, tasks, sumTo(1500)))
    for (const n of honest) {
      await waitFor(() => n.jobs.service.state(job.id)?.doneResult() != null, 10_000)
      const state = n.jobs.service.state(job.id) as JobState
      expect(state.has(forged.id)).toBe(false)
      expect(state.has(forgedDone.id)).toBe(false)
      expect(state.passes?.get(1)?.fact.state).not.toBe(stateCid(wrong).toString())
      expect(n.jobs.service.stats.factsRejected).toBeGreaterThan(0)
    }
  }, 60_000)

  it('a peer returning wrong results, with redundancy 3: outvoted in every pass, the clean bits', async () => {
    const nodes = await swarm(t.node, 4, {}, i => i === 3 ? { decorate: { taskExecutor: lying } } : {})
    register(nodes)
    const liar = nodes[3]
    const cid = await nodes[0].data.put(enc(numbers(1200)), { chunkSize: 1024 })
    // the liar submits: it knows the job first, so it takes part in every task's vote
    const job = await liar.jobs.submit({ fn: 'pass-sum', inputs: [cid.toString()], params: { passes: '3' }, redundancy: 3 })
    const onHonest = await nodes[0].jobs.get(job.id)
    const result = JSON.parse(dec(await onHonest.result({ signal: AbortSignal.timeout(60_000) })))
    expect(result).toEqual(await expectedResult(nodes[0], 3, onHonest.status().total / 3, sumTo(1200)))
    expect(liar.scheduler.metrics.executed).toBeGreaterThan(0)
    expect(await waitFor(() => nodes[0].jobs.service.untrusted.has(liar.peerId.toString()), 10_000)).toBe(true)
  }, 60_000)

  it('a pass that fails ends the job with its reason; the passes before it stay in its view', async () => {
    const nodes = await swarm(t.node, 3)
    register(nodes)
    const cid = await nodes[0].data.put(enc(numbers(800)), { chunkSize: 1024 })
    const job = await nodes[1].jobs.submit({ fn: 'pass-sum', inputs: [cid.toString()], params: { passes: '5', 'fail-at': '2' } })
    await expect(job.result({ signal: AbortSignal.timeout(30_000) })).rejects.toThrow(JobFailedError)
    await expect(job.result()).rejects.toThrow(/pass 2: told to fail/)
    for (const n of nodes) {
      await waitFor(() => n.jobs.service.state(job.id)?.failed === true, 10_000)
      const view = n.jobs.service.view(job.id)
      expect(view.status).toBe('failed')
      expect(view.reason).toBe('pass 2: told to fail')
      expect(view.passes?.list.map(p => [p.pass, p.failure])).toEqual([[0, undefined], [1, undefined], [2, 'pass 2: told to fail']])
      expect(view.rounds).toHaveLength(2)
      expect(n.scheduler.metrics.running).toBe(0)
    }
  }, 60_000)

  it('refuses at submit, with one clear error and nothing announced, an input its function\'s check refuses; reads the blocks it names', async () => {
    const [a, b] = await swarm(t.node, 2)
    for (const n of [a, b]) n.functions.registerFunction(scale)
    const csv = 'device,value\npi,1.5\ngw,2\npi,4\n'
    const input = (await a.data.put(enc(csv))).toString()
    const factor = (await a.data.put(enc('3'))).toString()
    const notNumber = (await a.data.put(enc('three'))).toString()
    const missing = cidOf(enc('a block nobody stored')).toString()
    const submit = async (params: Record<string, string>): Promise<unknown> => await a.jobs.submit({ fn: 'scale', inputs: [input], params })
    await expect(submit({ column: 'temp', factor })).rejects.toThrow(/column "temp" is not in the header \(device, value\)/)
    await expect(submit({ column: 'device', factor })).rejects.toThrow(/first record is not a number/)
    await expect(submit({ column: 'value', factor: notNumber })).rejects.toThrow(/factor: the block is not a number/)
    await expect(submit({ column: 'value', factor: missing })).rejects.toThrow(new RegExp(`param factor=${missing}: `))
    await expect(submit({ column: 'value' })).rejects.toThrow(InvalidParamsError)
    expect(a.jobs.list()).toEqual([])
    expect(b.jobs.list()).toEqual([])
    // a good one runs with the block's bytes in ctx.blocks
    const job = await a.jobs.submit({ fn: 'scale', inputs: [input], params: { column: 'value', factor } })
    expect(dec(await job.result({ signal: AbortSignal.timeout(30_000) }))).toBe('4.5\n6\n12\n')
  }, 60_000)
})
