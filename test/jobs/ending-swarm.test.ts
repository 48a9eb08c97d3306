/**
 * How jobs end early, on real peers over TCP on 127.0.0.1: the submitter's
 * cancel ends a running job on every peer (runs aborted, no result) and an
 * iterative job mid-pass, while anyone else's is refused; a deadline fails a
 * job with the same reason on every peer and aborts its runs, and a job done
 * before its deadline stays done; a job whose label no live peer has says
 * so within seconds, and the warning clears when a peer with it joins and
 * runs it.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, it, expect } from 'vitest'
import { CancelRefusedError, InvalidFactError, JobCanceledError, JobFailedError } from '../../src/jobs/index.ts'
import type { EdgeNode } from '../../src/index.ts'
import type { TaskRunner } from '../../src/scheduler/index.ts'
import { useCleanup, addrOf, waitFor } from '../helpers.ts'
import { swarm, enc, dec } from './swarm.ts'

const numbers = (n: number): string => Array.from({ length: n }, (_, i) => String(i + 1)).join('\n') + '\n'

/** A trusted function that squares each line after `ms`, stopping at once when its run is aborted. */
function registerSlowSquare (node: EdgeNode, ms: number): void {
  node.functions.register('slow-square', async (input, _params, ctx) => {
    await sleep(ms, undefined, { signal: ctx.signal })
    return enc(new TextDecoder().decode(input).split('\n').filter(l => l.trim() !== '').map(l => `${Number(l) ** 2}\n`).join(''))
  })
}

/** An executor whose runs take `ms` longer (aborted with their signal). */
function slowRuns (ms: number) {
  return (executor: TaskRunner): TaskRunner => ({
    canRun: doc => executor.canRun(doc),
    prefetch: (doc, index) => { executor.prefetch(doc, index) },
    clearPrefetched: () => { executor.clearPrefetched() },
    run: async (doc, index, options) => {
      await sleep(ms, undefined, { signal: options?.signal })
      return await executor.run(doc, index, options)
    }
  })
}

/** Whether no peer holds (queued or running) any task any more. */
const idle = (nodes: EdgeNode[]): boolean => nodes.every(n => n.scheduler.held === 0 && n.scheduler.metrics.running === 0)

describe('jobs: how they end early, on a swarm', () => {
  const t = useCleanup()

  it('the submitter cancels a running job: every peer sees it canceled, runs are aborted, no result; anyone else is refused', async () => {
    const nodes = await swarm(t.node, 3)
    // 28+ tasks of 1.5 s on 3 peers: still running when it is canceled
    nodes.forEach(n => { registerSlowSquare(n, 1_500) })
    const [submitter, other] = nodes
    const cid = await submitter.data.put(enc(numbers(6000)), { chunkSize: 1024 })
    const job = await submitter.jobs.submit({ fn: 'slow-square', inputs: [cid.toString()], leaseMs: 2000 })
    const id = job.id
    // running on the others too
    expect(await waitFor(() => nodes.some(n => n !== submitter && n.scheduler.metrics.running > 0), 20_000)).toBe(true)

    // another peer may not cancel it: refused locally, and a cancel fact of its own is refused by its own store
    await expect(other.jobs.cancel(id)).rejects.toBeInstanceOf(CancelRefusedError)
    await expect(other.jobs.service.publish({ t: 'cancel', job: id, at: Date.now() })).rejects.toBeInstanceOf(InvalidFactError)
    expect(job.status().status).toBe('running')

    const view = await job.cancel()
    expect(view.status).toBe('canceled')
    expect(view.canceled?.by).toBe(submitter.peerId.toString())
    // every peer, and every run stopped within a bound
    expect(await waitFor(() => nodes.every(n => n.jobs.service.state(id)?.view().status === 'canceled'), 10_000)).toBe(true)
    expect(await waitFor(() => idle(nodes), 5_000)).toBe(true)
    const doneBefore = nodes.map(n => n.jobs.service.state(id)?.view().done)
    await sleep(1_500)
    // no more claims or results, no reduce
    expect(nodes.map(n => n.jobs.service.state(id)?.view().done)).toEqual(doneBefore)
    for (const n of nodes) expect(n.jobs.service.state(id)?.doneResult()).toBeUndefined()
    await expect(job.result()).rejects.toBeInstanceOf(JobCanceledError)
    await expect((await other.jobs.get(id)).result()).rejects.toBeInstanceOf(JobCanceledError)
    // a second cancel says it has ended
    await expect(job.cancel()).rejects.toThrow(/has ended already: canceled/)
  }, 90_000)

  it('a cancel of an iterative job mid-pass: the passes stop and every peer sees it canceled', async () => {
    const nodes = await swarm(t.node, 3, { decorate: { taskExecutor: slowRuns(150) } })
    const [submitter] = nodes
    const rows = Array.from({ length: 400 }, (_, i) => `${(i % 17) / 10},${(i % 5) / 3},${((i % 17) / 10 * 2 + (i % 5) / 3).toFixed(3)}`)
    const cid = await submitter.data.put(enc(['x0,x1,y', ...rows].join('\n') + '\n'), { chunkSize: 1024 })
    const training = await submitter.jobs.train({ kind: 'linear', inputs: [cid.toString()], label: 'y', rounds: 200, lr: 0.1 })
    const id = training.id
    // between passes is easy; wait until a pass is accepted and tasks of the next one run
    expect(await waitFor(() => (training.status().passes?.done ?? 0) >= 2 && nodes.some(n => n.scheduler.metrics.running > 0), 60_000, 20)).toBe(true)
    await training.cancel()
    expect(await waitFor(() => nodes.every(n => n.jobs.service.state(id)?.view().status === 'canceled'), 10_000)).toBe(true)
    expect(await waitFor(() => idle(nodes), 5_000)).toBe(true)
    const passes = nodes.map(n => n.jobs.service.state(id)?.view().passes?.done)
    await sleep(1_500)
    expect(nodes.map(n => n.jobs.service.state(id)?.view().passes?.done)).toEqual(passes)
    expect(passes[0]).toBeLessThan(201)
    await expect(training.result()).rejects.toBeInstanceOf(JobCanceledError)
  }, 120_000)

  it('a deadline fails a job with the same reason on every peer and aborts its runs; a job done before its deadline stays done', async () => {
    const nodes = await swarm(t.node, 3)
    // 30+ tasks of 2 s on 3 peers: far longer than the 3 s deadline
    nodes.forEach(n => { registerSlowSquare(n, 2_000) })
    const [submitter] = nodes
    const slow = await submitter.data.put(enc(numbers(7000)), { chunkSize: 1024 })
    const quick = await submitter.data.put(enc(numbers(10)))

    // long enough to be done by it on a loaded machine, short enough to pass during the test
    const kept = await submitter.jobs.submit({ fn: 'square', inputs: [quick.toString()], deadlineMs: 8_000 })
    expect(dec(await kept.result({ signal: AbortSignal.timeout(20_000) }))).toBe(Array.from({ length: 10 }, (_, i) => `${(i + 1) ** 2}\n`).join(''))

    const job = await submitter.jobs.submit({ fn: 'slow-square', inputs: [slow.toString()], deadlineMs: 3_000, leaseMs: 2000 })
    const listed = submitter.jobs.list().find(j => j.id === job.id)
    expect(job.status().deadline).toBe((listed?.createdAt ?? 0) + 3_000)
    const total = job.status().total
    await expect(job.result({ signal: AbortSignal.timeout(30_000) })).rejects.toBeInstanceOf(JobFailedError)
    const reasons = async (): Promise<Array<string | undefined>> => nodes.map(n => n.jobs.service.state(job.id)?.view().reason)
    expect(await waitFor(async () => (await reasons()).every(r => r != null), 10_000)).toBe(true)
    const first = (await reasons())[0] as string
    expect(first).toMatch(new RegExp(`^deadline of 3 s passed with \\d+ of ${total} tasks done$`))
    // every peer: the same verdict, counted from the facts stamped by the deadline (sync brings any missed one)
    expect(await waitFor(async () => (await reasons()).every(r => r === first), 10_000)).toBe(true)
    expect(await waitFor(() => idle(nodes), 5_000)).toBe(true)
    // the job done before its deadline is still done once its deadline has passed
    const keptDeadline = kept.status().deadline as number
    expect(await waitFor(() => Date.now() > keptDeadline + 200, 15_000)).toBe(true)
    expect(kept.status().status).toBe('done')
    expect(kept.status().reason).toBeUndefined()
  }, 90_000)

  it('a job whose label no live peer has says so within seconds; the warning clears when a peer with the label joins and runs it', async () => {
    const status = { intervalMs: 500 }
    const nodes = await swarm(t.node, 2, { swarm: status, scheduler: { labels: ['lab-1'] } })
    const [submitter] = nodes
    const cid = await submitter.data.put(enc(numbers(20)))
    const started = Date.now()
    const job = await submitter.jobs.submit({ fn: 'square', inputs: [cid.toString()], requirements: { labels: ['lab-7'] } })
    expect(await waitFor(() => job.status().warning === "no live peer has label 'lab-7' (2 peers: labels lab-1)", 10_000)).toBe(true)
    expect(Date.now() - started).toBeLessThan(10_000)
    expect(job.status().status).toBe('queued')
    // the others see it too (the list carries it)
    expect(await waitFor(() => nodes[1].jobs.list().find(j => j.id === job.id)?.warning?.includes("label 'lab-7'") === true, 10_000)).toBe(true)

    const capable = await t.node({ bootstrap: [addrOf(submitter)], swarm: status, scheduler: { labels: ['lab-7'] } })
    expect(await waitFor(() => job.status().warning == null, 15_000)).toBe(true)
    expect(dec(await job.result({ signal: AbortSignal.timeout(30_000) }))).toBe(Array.from({ length: 20 }, (_, i) => `${(i + 1) ** 2}\n`).join(''))
    expect(capable.scheduler.metrics.executed).toBeGreaterThan(0)
    expect(job.status().warning).toBeUndefined()
  }, 90_000)
})
