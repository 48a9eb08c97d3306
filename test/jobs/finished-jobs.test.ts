/**
 * Finished jobs out of memory, without a network: a finished job idle for
 * `finishedIdleMs` keeps only its summary in memory (the same view, author
 * counts and pins) and its facts on disk; reading it back gives the same
 * state; a new fact of it brings it back and counts, a known one does not; a
 * job not finished, or one read back recently, stays; a start holds finished
 * jobs out of memory; retention still collects them and releases their puts.
 */
import { describe, it, expect } from 'vitest'
import { MemoryDatastore } from 'datastore-core'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import type { SignedFact } from '../../src/jobs/index.ts'
import { collectKeys, iterativeJobOf, jobOf, passStateOf, peer, sign, storeOf, type Peer } from './fact-fixtures.ts'

const IDLE = 5_000
const FINAL = 'bafyreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'

/** The facts of a finished job of `me` whose two tasks `worker` ran, created at `t0`. */
async function finishedJob (me: Peer, worker: Peer, t0: number): Promise<{ id: string, facts: SignedFact[] }> {
  const { id, fact } = await jobOf(me, t0)
  const claim = await sign(worker, { t: 'claim', job: id, at: t0 + 10, tasks: [0, 1], lease: 3_000 })
  const result = await sign(worker, { t: 'result', job: id, at: t0 + 100, results: [{ task: 0, hash: 'h0', size: 1, data: new Uint8Array([1]) }, { task: 1, hash: 'h1', size: 1, data: new Uint8Array([2]) }] })
  const done = await sign(me, { t: 'done', job: id, at: t0 + 200, result: FINAL, hash: 'final', size: 1 })
  return { id, facts: [fact, claim, result, done] }
}

describe('finished jobs out of memory', () => {
  it('keeps a finished job\'s summary in memory once idle, its facts on disk, and reads them back whole', async () => {
    const [me, worker] = [await peer(), await peer()]
    const datastore = new MemoryDatastore()
    const { store } = storeOf(me, datastore, 0, IDLE)
    const t0 = Date.now() - 60_000
    const { id, facts } = await finishedJob(me, worker, t0)
    for (const sf of facts) expect(await store.accept(sf, true)).toBe('new')
    const before = store.state(id)?.view()
    expect(before?.status).toBe('done')
    const counts = new Map(store.state(id)?.authorCounts)

    // not idle yet: stays whole
    expect(await store.offload(Date.now() + IDLE - 1_000)).toBe(0)
    expect(store.state(id)).toBeDefined()
    expect(await store.offload(Date.now() + IDLE + 1)).toBe(1)
    expect(store.state(id)).toBeUndefined()
    expect([...store.entries()]).toHaveLength(0)
    const summary = store.known(id)
    expect(summary?.view()).toEqual(before)
    expect(new Map(summary?.authorCounts)).toEqual(counts)
    expect(summary?.doc?.submitter).toBe(me.id)
    expect(facts.some(sf => store.knows(sf.id))).toBe(false)
    expect((await collectKeys(datastore.queryKeys({ prefix: `/edgeswarm/job-facts/${id}/` })))).toHaveLength(4)

    // read back: the same state, every fact held again
    const [a, b] = await Promise.all([store.restore(id), store.restore(id)])
    expect(a).toBe(b)
    expect(a?.view()).toEqual(before)
    expect(a?.factCount).toBe(4)
    expect(facts.every(sf => store.knows(sf.id))).toBe(true)
    expect(a?.doneResult()?.result).toBe(FINAL)
    // read back just now: not idle
    expect(await store.offload(Date.now() + 1_000)).toBe(0)
    expect(await store.offload(Date.now() + IDLE + 1)).toBe(1)

    // a known fact of it is known; a new one (another reducer's done) brings it back and counts
    expect(await store.accept(facts[2], true)).toBe('known')
    expect(await store.offload(Date.now() + IDLE + 1)).toBe(1)
    const late = await sign(worker, { t: 'done', job: id, at: t0 + 300, result: FINAL, hash: 'final', size: 1 })
    expect(await store.accept(late, true)).toBe('new')
    expect(store.state(id)?.factCount).toBe(5)
    expect(store.known(id)?.authorCounts.get(worker.id)).toBe(3)
  })

  it('never moves a job that has not finished, nor any job without a datastore', async () => {
    const [me, worker] = [await peer(), await peer()]
    const { store } = storeOf(me, new MemoryDatastore(), 0, IDLE)
    const t0 = Date.now() - 60_000
    const { id, facts } = await finishedJob(me, worker, t0)
    for (const sf of facts.slice(0, 3)) await store.accept(sf, true)
    expect(store.state(id)?.view().status).toBe('running')
    expect(await store.offload(Date.now() + 1e9)).toBe(0)
    expect(store.state(id)).toBeDefined()

    const { store: memoryOnly } = storeOf(me, undefined, 0, IDLE)
    for (const sf of facts) await memoryOnly.accept(sf, true)
    expect(await memoryOnly.offload(Date.now() + 1e9)).toBe(0)
    expect(memoryOnly.state(id)?.view().status).toBe('done')
  })

  it('a start holds finished jobs out of memory and the others whole', async () => {
    const [me, worker] = [await peer(), await peer()]
    const datastore = new MemoryDatastore()
    const { store } = storeOf(me, datastore, 0, IDLE)
    const t0 = Date.now() - 60_000
    const done = await finishedJob(me, worker, t0)
    const open = await finishedJob(me, worker, t0 + 1)
    for (const sf of [...done.facts, ...open.facts.slice(0, 3)]) await store.accept(sf, true)
    await store.flush()

    const again = storeOf(me, datastore, 0, IDLE).store
    await again.load()
    expect(again.state(done.id)).toBeUndefined()
    expect(again.known(done.id)?.view().status).toBe('done')
    expect(again.state(open.id)?.view().status).toBe('running')
    expect((await again.restore(done.id))?.factCount).toBe(4)
  })

  it('retention collects a job out of memory: its facts leave the datastore and its own puts are released', async () => {
    const [me, worker] = [await peer(), await peer()]
    const datastore = new MemoryDatastore()
    const { store, retention, released } = storeOf(me, datastore, 10_000, IDLE)
    const t0 = Date.now() - 60_000
    const { id, facts } = await finishedJob(me, worker, t0)
    for (const sf of facts) await store.accept(sf, true)
    expect(await store.offload(Date.now() + IDLE + 1)).toBe(1)

    expect(await retention.collect(t0 + 200 + 9_999)).toMatchObject({ jobs: 0 })
    expect(await retention.collect(t0 + 200 + 10_000)).toEqual({ jobs: 1, facts: 4, released: 2 })
    expect(store.known(id)).toBeUndefined()
    expect(await collectKeys(datastore.queryKeys({ prefix: `/edgeswarm/job-facts/${id}/` }))).toHaveLength(0)
    const docBytes = facts[0].fact.t === 'job' ? facts[0].fact.doc : new Uint8Array()
    expect(released.sort()).toEqual([CID.createV1(0x71, await sha256.digest(docBytes)).toString(), FINAL].sort())
    expect(await store.accept(facts[3], true)).toBe('collected')
  })

  it('an iterative job out of memory keeps its pass states pinned', async () => {
    const [me, worker] = [await peer(), await peer()]
    const { store, retention } = storeOf(me, new MemoryDatastore(), 0, IDLE)
    const t0 = Date.now() - 60_000
    const { id, fact } = await iterativeJobOf(me, t0, 1)
    await store.accept(fact, true)
    const { data: model, cid: stateCid } = await passStateOf(new Uint8Array([1, 2, 3]))
    await store.accept(await sign(worker, { t: 'pass', job: id, pass: 0, at: t0 + 10, results: 'r0', state: stateCid, data: model }), true)
    await store.accept(await sign(worker, { t: 'done', job: id, at: t0 + 30, result: stateCid, hash: 'final', size: 3 }), true)
    expect(await store.offload(Date.now() + IDLE + 1)).toBe(1)
    expect(store.known(id)?.acceptedStates()).toEqual([stateCid])
    expect(retention.isPinned(CID.parse(stateCid))).toBe(true)
  })
})
