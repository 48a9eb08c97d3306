/**
 * No work lost, no central server: executors and the submitter die mid-job
 * and the swarm still finishes it, correctly.
 */
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, it, expect } from 'vitest'
import { initRepo, createEdgeNode, type EdgeNode } from '../../src/index.ts'
import { createPeer } from '../../src/node/index.ts'
import { lpStream } from '@libp2p/utils'
import * as dagCbor from '@ipld/dag-cbor'
import { JOBS_TOPIC, JOB_SYNC_PROTOCOL, MAX_FACT_BYTES, openFact } from '../../src/jobs/index.ts'
import { useCleanup, addrOf, waitFor } from '../helpers.ts'
import { swarm, enc, dec, computeLocally } from './swarm.ts'

/** A trusted JS function that squares slowly, so a job is still running when peers die. */
function registerSlowSquare (node: EdgeNode, ms = 250): void {
  node.functions.register('slow-square', async (input) => {
    await sleep(ms)
    const out = new TextDecoder().decode(input).split('\n').filter(l => l.trim() !== '').map(l => `${Number(l) ** 2}\n`).join('')
    return enc(out)
  })
}

const numbers = (n: number): string => Array.from({ length: n }, (_, i) => String(i + 1)).join('\n') + '\n'

describe('jobs: faults', () => {
  const t = useCleanup()

  /** A new device repo in a temp dir, listening on 127.0.0.1. */
  const newRepo = async (name: string): Promise<string> => {
    const repo = join(await t.tempDir(), name)
    await initRepo(repo, { listen: ['/ip4/127.0.0.1/tcp/0'] })
    return repo
  }
  /** Waits until each of two peers sees the other on the jobs topic. */
  const meshed = async (x: EdgeNode, y: EdgeNode): Promise<boolean> =>
    await waitFor(() => [x, y].every(n => n.libp2p.services.pubsub.getSubscribers(JOBS_TOPIC).length >= 1), 10_000)

  it('6 peers, 60+ tasks: 2 executors killed mid-job, their tasks re-run elsewhere, result correct', async () => {
    const nodes = await swarm(t.node, 6)
    nodes.forEach(n => { registerSlowSquare(n) })
    const [submitter] = nodes
    const text = numbers(12_000)
    const cid = await nodes[1].data.put(enc(text), { chunkSize: 1024 })
    const job = await submitter.jobs.submit({ fn: 'slow-square', inputs: [cid.toString()], leaseMs: 1000 })
    expect(job.status().total).toBeGreaterThanOrEqual(60)
    const state = submitter.jobs.service.state(job.id)
    if (state == null) throw new Error('no state')

    // wait until the submitter sees two other peers holding unfinished tasks, then kill both
    let victims: EdgeNode[] = []
    const holdersNow = (): Map<string, number[]> => {
      const held = new Map<string, number[]>()
      for (const i of state.pendingTasks()) {
        for (const peer of state.task(i).running) held.set(peer, [...(held.get(peer) ?? []), i])
      }
      return held
    }
    await waitFor(() => {
      const held = holdersNow()
      victims = nodes.slice(1).filter(n => (held.get(n.peerId.toString())?.length ?? 0) > 0).slice(0, 2)
      return victims.length === 2
    }, 30_000, 20)
    expect(victims).toHaveLength(2)
    const held = holdersNow()
    const orphaned = victims.flatMap(v => held.get(v.peerId.toString()) ?? [])
    expect(orphaned.length).toBeGreaterThan(0)
    await Promise.all(victims.map(async v => { await v.stop() }))

    const out = dec(await job.result({ signal: AbortSignal.timeout(60_000) }))
    expect(out).toBe(Array.from({ length: 12_000 }, (_, i) => `${(i + 1) ** 2}\n`).join(''))
    // the killed peers' tasks were run again by live peers
    for (const i of orphaned) {
      const accepted = state.task(i).accepted
      expect(accepted).toBeDefined()
      expect(state.task(i).retried).toBeGreaterThan(0)
    }
    expect(job.status().retried).toBeGreaterThanOrEqual(orphaned.length)
  }, 120_000)

  it('the submitter dies right after submitting; the swarm finishes; it comes back and fetches the result', async () => {
    const repo = join(await t.tempDir(), 'submitter')
    await initRepo(repo, { listen: ['/ip4/127.0.0.1/tcp/0'] })
    const others = await swarm(t.node, 3)
    others.forEach(n => { registerSlowSquare(n, 100) })
    let submitter = await createEdgeNode({ repo, mdns: false, bootstrap: [addrOf(others[0])] })
    t.defer(async () => { await submitter.stop() })
    registerSlowSquare(submitter, 100)
    await waitFor(() => submitter.libp2p.services.pubsub.getSubscribers(JOBS_TOPIC).length >= 2, 10_000)

    const text = numbers(3000)
    const cid = await others[1].data.put(enc(text), { chunkSize: 1024 })
    const job = await submitter.jobs.submit({ fn: 'slow-square', inputs: [cid.toString()], leaseMs: 1000 })
    const id = job.id
    await submitter.stop()   // gone, right after submitting

    // the rest of the swarm finishes the job without it
    const onOther = await others[2].jobs.get(id)
    const result = dec(await onOther.result({ signal: AbortSignal.timeout(60_000) }))
    expect(result).toBe(Array.from({ length: 3000 }, (_, i) => `${(i + 1) ** 2}\n`).join(''))

    // the submitter restarts from its repo and fetches the result
    submitter = await createEdgeNode({ repo, mdns: false, bootstrap: [addrOf(others[0])] })
    registerSlowSquare(submitter, 100)
    const again = await submitter.jobs.get(id, { signal: AbortSignal.timeout(20_000) })
    expect(dec(await again.result({ signal: AbortSignal.timeout(30_000) }))).toBe(result)
    expect(again.status().status).toBe('done')
    expect(await computeLocally('square', text)).toBe(result)
  }, 120_000)

  it('a peer restarted alone from its repo burns no attempts on tasks it cannot fetch, and runs them once connected', async () => {
    const repoA = await newRepo('holder')
    const repoC = await newRepo('lonely')
    let a = await createEdgeNode({ repo: repoA, mdns: false })
    t.defer(async () => { await a.stop() })
    // alone, A holds every shard
    const text = numbers(200)
    const cid = await a.data.put(enc(text), { chunkSize: 1024 })
    let c = await createEdgeNode({ repo: repoC, mdns: false, bootstrap: [addrOf(a)] })
    t.defer(async () => { await c.stop() })
    await meshed(a, c)
    // only a peer labelled lab-c may run it, and nobody is yet
    const job = await a.jobs.submit({ fn: 'square', inputs: [cid.toString()], requirements: { labels: ['lab-c'] } })
    await waitFor(() => c.jobs.service.state(job.id)?.doc != null, 10_000)
    await c.stop()
    await a.stop()

    // C comes back, now able to run the job: its shards are out of reach, and its one
    // connection is to a peer outside the job layer (on no jobs topic, serving no shards)
    c = await createEdgeNode({ repo: repoC, mdns: false, scheduler: { labels: ['lab-c'] } })
    const outsider = await createPeer({ listen: ['/ip4/127.0.0.1/tcp/0'] })
    t.defer(async () => { await outsider.stop() })
    await c.libp2p.dial(outsider.getMultiaddrs()[0])
    await sleep(2_500)
    expect(c.peers()).toHaveLength(1)
    expect(c.jobs.service.jobPeers()).toBe(0)
    expect(c.scheduler.metrics.failed).toBe(0)
    expect(c.jobs.service.state(job.id)?.failed).toBe(false)
    expect(c.jobs.service.state(job.id)?.allFacts().some(f => f.fact.t === 'fail')).toBe(false)

    // the holder returns: C runs every task, the result is right
    a = await createEdgeNode({ repo: repoA, mdns: false })
    await c.libp2p.dial(a.multiaddrs[0])
    const again = await c.jobs.get(job.id)
    const result = dec(await again.result({ signal: AbortSignal.timeout(30_000) }))
    expect(result).toBe(await computeLocally('square', text))
    expect(c.scheduler.metrics.executed).toBeGreaterThan(0)
  }, 90_000)

  it('a job failed in one peer\'s partial view is checked with its peers before result() reports it', async () => {
    const repoA = await newRepo('right')
    const repoB = await newRepo('broken')
    let a = await createEdgeNode({ repo: repoA, mdns: false })
    t.defer(async () => { await a.stop() })
    registerSlowSquare(a, 0)
    let b = await createEdgeNode({ repo: repoB, mdns: false, bootstrap: [addrOf(a)] })
    t.defer(async () => { await b.stop() })
    const text = numbers(20)
    const cid = await a.data.put(enc(text), { chunkSize: 1024 })
    expect((await b.data.put(enc(text), { chunkSize: 1024 })).toString()).toBe(cid.toString())
    await meshed(a, b)
    // one task nobody may run yet (no peer has the label)
    const job = await a.jobs.submit({ fn: 'slow-square', inputs: [cid.toString()], requirements: { labels: ['lab-x'] }, maxAttempts: 2 })
    expect(job.status().total).toBe(1)
    await waitFor(() => b.jobs.service.state(job.id)?.doc != null, 10_000)
    await b.stop()
    await a.stop()

    // apart, both may run it: A squares right, B's function always throws
    a = await createEdgeNode({ repo: repoA, mdns: false, scheduler: { labels: ['lab-x'] } })
    registerSlowSquare(a, 0)
    b = await createEdgeNode({ repo: repoB, mdns: false, scheduler: { labels: ['lab-x'] } })
    b.functions.register('slow-square', async () => { throw new Error('broken on this device') })
    expect(await waitFor(() => a.jobs.service.state(job.id)?.doneResult() != null, 20_000)).toBe(true)
    expect(await waitFor(() => b.jobs.service.state(job.id)?.failed === true, 20_000)).toBe(true)

    // B meets A again: its view said failed, the swarm's says done; result() asks before it answers
    await b.libp2p.dial(a.multiaddrs[0])
    const bytes = await (await b.jobs.get(job.id)).result({ signal: AbortSignal.timeout(20_000) })
    expect(dec(bytes)).toBe(await computeLocally('square', text))
    expect(b.jobs.service.state(job.id)?.failed).toBe(false)
  }, 90_000)

  it('a device just started finds a job it never saw once a peer connects; alone, it says why it cannot', async () => {
    const [a] = await swarm(t.node, 2)
    const cid = await a.data.put(enc(numbers(10)), { chunkSize: 1024 })
    const job = await a.jobs.submit({ fn: 'square', inputs: [cid.toString()] })
    await job.result({ signal: AbortSignal.timeout(30_000) })
    const late = await createEdgeNode({ repo: await newRepo('late'), mdns: false })
    t.defer(async () => { await late.stop() })
    expect(late.peers()).toHaveLength(0)
    // alone until its limit: the error says there was nobody to ask
    await expect(late.jobs.get(job.id, { signal: AbortSignal.timeout(1_500) }))
      .rejects.toMatchObject({ name: 'JobNotFoundError', message: expect.stringMatching(/no connection to ask/) })
    // asked before it has a peer, it waits for one
    const found = late.jobs.get(job.id, { signal: AbortSignal.timeout(20_000) })
    await sleep(500)
    await late.libp2p.dial(a.multiaddrs[0])
    const bytes = await (await found).result({ signal: AbortSignal.timeout(20_000) })
    expect(dec(bytes)).toBe(await computeLocally('square', numbers(10)))
    // a job no peer knows is unknown as soon as a peer has answered
    const started = performance.now()
    await expect(late.jobs.get('bafyreid3mxj7fstrh53tnqgpab4thyu2n7phb22sophaapg63ie2vaehum'))
      .rejects.toMatchObject({ name: 'JobNotFoundError', message: expect.stringMatching(/none of the 1 peers asked knows it/) })
    expect(performance.now() - started).toBeLessThan(5_000)
  }, 60_000)

  it('a task that failed on one peer is tried next on another, not again on the same', async () => {
    // rank steps of 500 ms: A leaves a task it failed for 5 s, B's turn comes within 1 s, a margin
    // that holds on a loaded test machine (with 100 ms steps, and once in the whole suite with 300 ms,
    // B was late and A retook a task)
    const [a, b] = await swarm(t.node, 2, { scheduler: { stealRankStepMs: 500 } })
    // A's copy of the function is broken, B's works; with 2 attempts a task A retook at once would fail the job
    a.functions.register('picky', async () => { throw new Error('broken on A') })
    b.functions.register('picky', async (input) => input)
    const text = numbers(2000)
    const cid = await a.data.put(enc(text), { chunkSize: 1024 })
    const job = await a.jobs.submit({ fn: 'picky', inputs: [cid.toString()], maxAttempts: 2 })
    expect(job.status().total).toBeGreaterThanOrEqual(6)
    expect(dec(await job.result({ signal: AbortSignal.timeout(30_000) }))).toBe(text)
    expect(a.scheduler.metrics.failed).toBeGreaterThan(0)
    // and it keeps why
    expect(a.scheduler.recentFailures.length).toBe(Math.min(a.scheduler.metrics.failed, 50))
    expect(a.scheduler.recentFailures.every(r => r === 'Error: broken on A')).toBe(true)
    // no task failed twice: every failure of A was followed by B's attempt
    const fails = (a.jobs.service.state(job.id)?.allFacts() ?? []).filter(f => f.fact.t === 'fail').map(f => f.fact.t === 'fail' ? f.fact.task : -1)
    expect(new Set(fails).size).toBe(fails.length)
  }, 60_000)

  it('a sync offers fact ids, sends only the facts asked for, the job and done facts first', async () => {
    const [a, b] = await swarm(t.node, 2)
    const cid = await a.data.put(enc(numbers(1000)), { chunkSize: 1024 })
    const job = await a.jobs.submit({ fn: 'square', inputs: [cid.toString()] })
    expect(job.status().total).toBeGreaterThanOrEqual(3)
    await job.result({ signal: AbortSignal.timeout(30_000) })
    const held = a.jobs.service.state(job.id)?.allFacts() ?? []
    // the done fact reached the peer after the claims and results it ends
    expect(held.findIndex(sf => sf.fact.t === 'done')).toBeGreaterThan(2)

    const exchange = async (have: unknown, want: (offer: string[]) => string[]): Promise<{ offer: string[], kinds: string[] }> => {
      const stream = await b.libp2p.dialProtocol(a.peerId, JOB_SYNC_PROTOCOL)
      const lp = lpStream(stream, { maxDataLength: MAX_FACT_BYTES })
      await lp.write(dagCbor.encode({ have }))
      const read = async (): Promise<Uint8Array> => (await lp.read({ signal: AbortSignal.timeout(5000) })).subarray()
      await read() // a's summary
      // the offer: frames of ids by job, then an empty frame
      const offer: string[] = []
      for (let frame = await read(); frame.length > 0; frame = await read()) {
        offer.push(...(dagCbor.decode<{ ids: Record<string, string[]> }>(frame).ids[job.id] ?? []))
      }
      // an id never offered is not sent, even when asked for
      await lp.write(dagCbor.encode({ ids: { [job.id]: [...want(offer), 'not-an-offered-id'] } }))
      await lp.write(new Uint8Array(0))
      const kinds: string[] = []
      while (true) {
        const frame = (await lp.read({ signal: AbortSignal.timeout(5000) })).subarray()
        if (frame.length === 0) break
        kinds.push((await openFact(frame)).fact.t)
      }
      await stream.close()
      return { offer, kinds }
    }

    // a peer that knows nothing is offered every fact of the job, job and done first, and gets what it asks for
    const all = await exchange({}, offer => offer)
    expect(new Set(all.offer)).toEqual(new Set(held.map(sf => sf.id)))
    expect(all.kinds.length).toBe(held.length)
    expect(all.kinds.slice(0, 2)).toEqual(['job', 'done'])
    expect(all.kinds.slice(2)).not.toContain('done')
    // asking for two facts brings exactly those two
    const two = await exchange({}, offer => offer.slice(1, 3))
    expect(two.kinds).toEqual(['done', held.find(sf => sf.id === two.offer[2])?.fact.t])
    // a peer that holds as many facts of every author is offered nothing
    const counts = Object.fromEntries(a.jobs.service.state(job.id)?.authorCounts ?? [])
    const none = await exchange({ [job.id]: counts }, offer => offer)
    expect(none.offer).toEqual([])
    expect(none.kinds).toEqual([])
  }, 60_000)
})
