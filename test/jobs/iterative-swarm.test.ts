/**
 * Iterative jobs on real peers over TCP on 127.0.0.1: passes open in order,
 * each at the state the one before reduced to; peers dying mid-pass, the
 * submitter included, change nothing in the result; a peer that joins late
 * runs tasks of later passes.
 */
import { join } from 'node:path'
import { describe, it, expect } from 'vitest'
import { createEdgeNode, initRepo, type EdgeNode } from '../../src/index.ts'
import { JOBS_TOPIC, readAll, taskCount, type JobState, type RoundView } from '../../src/jobs/index.ts'
import { useCleanup, addrOf, waitFor } from '../helpers.ts'
import { swarm, enc, dec } from './swarm.ts'
import { expectedResult, numbers, passSum, sumTo } from './iterative.ts'


/** The tasks each peer claimed and reported in a job, by pass, from a peer's facts; and each accepted pass fact's time. */
function factsByPass (state: JobState): { claims: Array<{ from: string, pass: number, at: number }>, results: Array<{ pass: number, at: number }>, passAt: number[] } {
  const tasks = state.doc != null ? taskCount(state.doc) : 1
  const claims: Array<{ from: string, pass: number, at: number }> = []
  const results: Array<{ pass: number, at: number }> = []
  for (const sf of state.allFacts()) {
    const f = sf.fact
    const claimed = f.t === 'claim' ? f.tasks : f.t === 'result' ? f.claim?.tasks ?? [] : []
    for (const task of claimed) claims.push({ from: sf.from, pass: Math.floor(task / tasks), at: (f as { at: number }).at })
    if (f.t === 'result') for (const r of f.results) results.push({ pass: Math.floor(r.task / tasks), at: f.at })
  }
  return { claims, results, passAt: (state.passes?.accepted() ?? []).map(p => p.fact.at) }
}

describe('iterative jobs on a swarm', () => {
  const t = useCleanup()
  const register = (nodes: EdgeNode[]): void => { for (const n of nodes) n.functions.registerFunction(passSum) }

  it('runs the passes in order, each at the state before it: the result, the rounds and every peer\'s view agree', async () => {
    const nodes = await swarm(t.node, 4)
    register(nodes)
    const cid = await nodes[1].data.put(enc(numbers(2000)), { chunkSize: 1024 })
    const job = await nodes[0].jobs.submit({ fn: 'pass-sum', inputs: [cid.toString()], params: { passes: '4' } })
    const rounds: RoundView[] = []
    job.addEventListener('round', (evt) => { rounds.push((evt as CustomEvent<RoundView>).detail) })
    const result = JSON.parse(dec(await job.result({ signal: AbortSignal.timeout(60_000) })))
    const view = job.status()
    const tasks = view.total / 4
    expect(tasks).toBeGreaterThanOrEqual(8)
    expect(result).toEqual(await expectedResult(nodes[0], 4, tasks, sumTo(2000)))
    expect(view.passes?.done).toBe(4)
    expect(view.rounds?.map(r => r.loss)).toEqual(result.loss)
    expect(view.rounds?.[3].model).toBe(result.model)
    // the final state is stored in the swarm under its CID
    expect(dec(await readAll(nodes[3].data.get(result.model)))).toBe(result.state)
    // every round came as an event, in order
    await waitFor(() => rounds.length === 4, 5_000)
    expect(rounds).toEqual(view.rounds)
    // no task of pass p was reported before pass p − 1's state was published, nor claimed
    // before pass p − 2's (a peer claims its next pass's tasks with its last results of a pass)
    const state = nodes[2].jobs.service.state(job.id) as JobState
    const { claims, results, passAt } = factsByPass(state)
    expect(passAt).toHaveLength(4)
    for (const r of results) if (r.pass > 0) expect(r.at).toBeGreaterThanOrEqual(passAt[r.pass - 1])
    for (const c of claims) if (c.pass > 1) expect(c.at).toBeGreaterThanOrEqual(passAt[c.pass - 2])
    expect(new Set(claims.map(c => c.pass))).toEqual(new Set([0, 1, 2, 3]))
    expect(new Set(results.map(r => r.pass))).toEqual(new Set([0, 1, 2, 3]))
    // every peer accepted the same passes: once they hold the same facts (a pass fact of a
    // second reducer may still be on its way), their views are the same
    const passesOf = (n: EdgeNode): string => JSON.stringify(n.jobs.service.view(job.id).passes)
    for (const n of nodes) {
      await waitFor(() => n.jobs.service.state(job.id)?.doneResult() != null, 10_000)
      await waitFor(() => passesOf(n) === passesOf(nodes[0]), 10_000)
      expect(n.jobs.service.view(job.id).passes).toEqual(nodes[0].jobs.service.view(job.id).passes)
      expect(n.jobs.service.view(job.id).passes?.done).toBe(view.passes?.done)
    }
  }, 60_000)

  it('6 peers, 2 killed mid-pass: the same bytes as without faults', async () => {
    const nodes = await swarm(t.node, 6)
    register(nodes)
    const cid = await nodes[1].data.put(enc(numbers(3000)), { chunkSize: 1024 })
    const job = await nodes[0].jobs.submit({ fn: 'pass-sum', inputs: [cid.toString()], params: { passes: '5', ms: '150' }, leaseMs: 1000 })
    const state = nodes[0].jobs.service.state(job.id) as JobState
    // in pass 2, kill two peers other than the submitter that hold tasks
    let victims: EdgeNode[] = []
    await waitFor(() => {
      if (state.openPass !== 2) return false
      const holders = new Set<string>()
      for (const i of state.pendingTasks()) for (const p of state.task(i).running) holders.add(p)
      victims = nodes.slice(1).filter(n => holders.has(n.peerId.toString())).slice(0, 2)
      return victims.length === 2
    }, 40_000, 10)
    expect(victims).toHaveLength(2)
    await Promise.all(victims.map(async v => { await v.stop() }))
    const result = JSON.parse(dec(await job.result({ signal: AbortSignal.timeout(60_000) })))
    const tasks = job.status().total / 5
    expect(result).toEqual(await expectedResult(nodes[0], 5, tasks, sumTo(3000)))
    // the dead peers' tasks of pass 2 ran again elsewhere
    expect(job.status().retried).toBeGreaterThan(0)
  }, 90_000)

  it('the submitter dies after pass 2; the swarm finishes; back from its repo, it fetches the result', async () => {
    const repo = join(await t.tempDir(), 'submitter')
    await initRepo(repo, { listen: ['/ip4/127.0.0.1/tcp/0'] })
    const others = await swarm(t.node, 3)
    register(others)
    let submitter = await createEdgeNode({ repo, mdns: false, bootstrap: [addrOf(others[0])] })
    t.defer(async () => { await submitter.stop() })
    submitter.functions.registerFunction(passSum)
    await waitFor(() => submitter.libp2p.services.pubsub.getSubscribers(JOBS_TOPIC).length >= 2, 10_000)
    const cid = await others[1].data.put(enc(numbers(1500)), { chunkSize: 1024 })
    const job = await submitter.jobs.submit({ fn: 'pass-sum', inputs: [cid.toString()], params: { passes: '6', ms: '50' }, leaseMs: 1000 })
    const id = job.id
    expect(await waitFor(() => (submitter.jobs.service.state(id)?.openPass ?? 0) >= 2, 30_000, 10)).toBe(true)
    await submitter.stop()

    const onOther = await others[2].jobs.get(id)
    const bytes = await onOther.result({ signal: AbortSignal.timeout(60_000) })
    const tasks = onOther.status().total / 6
    expect(JSON.parse(dec(bytes))).toEqual(await expectedResult(others[0], 6, tasks, sumTo(1500)))

    submitter = await createEdgeNode({ repo, mdns: false, bootstrap: [addrOf(others[0])] })
    submitter.functions.registerFunction(passSum)
    const again = await submitter.jobs.get(id, { signal: AbortSignal.timeout(20_000) })
    expect(await again.result({ signal: AbortSignal.timeout(30_000) })).toEqual(bytes)
    expect(again.status().passes?.done).toBe(6)
  }, 90_000)

  it('a peer that joins at pass k runs tasks of later passes', async () => {
    const nodes = await swarm(t.node, 3)
    register(nodes)
    const cid = await nodes[1].data.put(enc(numbers(2000)), { chunkSize: 1024 })
    // tasks slow enough that the job is still running when the newcomer has caught up
    const job = await nodes[0].jobs.submit({ fn: 'pass-sum', inputs: [cid.toString()], params: { passes: '16', ms: '150' } })
    const state = nodes[0].jobs.service.state(job.id) as JobState
    expect(await waitFor(() => state.openPass >= 2, 30_000, 10)).toBe(true)
    const joinedAt = state.openPass
    const late = await t.node({ bootstrap: [addrOf(nodes[0])] })
    late.functions.registerFunction(passSum)
    const result = JSON.parse(dec(await job.result({ signal: AbortSignal.timeout(60_000) })))
    const tasks = job.status().total / 16
    expect(result).toEqual(await expectedResult(nodes[0], 16, tasks, sumTo(2000)))
    // the newcomer caught up, checking every pass, and ran tasks of passes after the one it joined at
    expect(await waitFor(() => late.jobs.service.state(job.id)?.doneResult() != null, 20_000)).toBe(true)
    expect(late.jobs.service.view(job.id).passes).toEqual(job.status().passes)
    const { claims } = factsByPass(state)
    const mine = claims.filter(c => c.from === late.peerId.toString())
    expect(mine.length).toBeGreaterThan(0)
    expect(Math.min(...mine.map(c => c.pass))).toBeGreaterThanOrEqual(joinedAt)
    expect(late.scheduler.metrics.executed).toBeGreaterThan(0)
  }, 90_000)
})
