/**
 * The job layer's garbage, without a network: a finished job is collected
 * `keepMs` after its last fact and not a millisecond before (its facts gone
 * from memory and the datastore, a tombstone left that refuses its facts,
 * also after a restart); a job not finished is never collected; `keepMs` 0
 * keeps jobs forever; result batches are pinned until the final result is
 * stored, pass states until the job is collected; the puts this peer made
 * for a job are released (task results at its final result, document and
 * final result when collected), never another peer's.
 */
import { describe, it, expect } from 'vitest'
import { MemoryDatastore } from 'datastore-core'
import { logger } from '@libp2p/logger'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { buildDocument, encodeDocument, documentId, signFact, validateSpec } from '../../src/jobs/index.ts'
import { JobRetention } from '../../src/jobs/retention.ts'
import { BATCH, OTHER_BATCH, collectKeys, iterativeJobOf, jobOf, passStateOf, peer, sign, storeOf } from './fact-fixtures.ts'

describe('job retention', () => {
  it('collects a finished job keepMs after its last fact, not before; its facts leave the datastore and a tombstone refuses them, also after a restart', async () => {
    const [me, worker] = [await peer(), await peer()]
    const datastore = new MemoryDatastore()
    const { store, retention, released } = storeOf(me, datastore, 10_000)
    const t0 = Date.now() - 60_000
    const { id, fact } = await jobOf(me, t0)
    await store.accept(fact, true)
    const result = await sign(worker, { t: 'result', job: id, at: t0 + 100, batch: BATCH, results: [{ task: 0, hash: 'h0', size: 1, data: new Uint8Array([1]) }, { task: 1, hash: 'h1', size: 1, ref: 'bafyreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy' }] })
    await store.accept(result, true)
    // while the job is open, its batch is pinned; an unrelated block is not
    expect(retention.isPinned(CID.parse(BATCH))).toBe(true)
    expect(retention.isPinned(CID.parse(OTHER_BATCH))).toBe(false)
    // not finished: never collected, however old
    expect(await retention.collect(t0 + 10_000_000)).toEqual({ jobs: 0, facts: 0, released: 0 })

    const done = await sign(me, { t: 'done', job: id, at: t0 + 200, result: 'bafyreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy', hash: 'final', size: 1 })
    await store.accept(done, true)
    // the final result is stored: the batch is released; the worker's task result is not this peer's to release
    expect(retention.isPinned(CID.parse(BATCH))).toBe(false)
    await store.flush()
    expect((await collectKeys(datastore.queryKeys({ prefix: `/edgeswarm/job-facts/${id}/` }))).length).toBe(3)

    expect(await retention.collect(t0 + 200 + 9_999)).toMatchObject({ jobs: 0 })
    expect(store.state(id)).toBeDefined()
    const report = await retention.collect(t0 + 200 + 10_000)
    expect(report.jobs).toBe(1)
    expect(report.facts).toBe(3)
    expect(store.state(id)).toBeUndefined()
    expect((await collectKeys(datastore.queryKeys({ prefix: `/edgeswarm/job-facts/${id}/` }))).length).toBe(0)
    // this peer submitted and reduced it: it releases the document's and the final result's puts, never the worker's
    expect(released.sort()).toEqual([(await CID.createV1(0x71, await sha256.digest(fact.fact.t === 'job' ? fact.fact.doc : new Uint8Array()))).toString(), 'bafyreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'].sort())

    // gossip or sync bring its facts again: dropped
    expect(await store.accept(result, true)).toBe('collected')
    expect(await store.accept(fact, true)).toBe('collected')
    expect(store.state(id)).toBeUndefined()

    // a restart reads the tombstone back and holds none of its facts
    const again = storeOf(me, datastore, 10_000)
    await again.store.load()
    // nothing is unpinned before the facts are loaded
    const fresh = new JobRetention({ peerId: me.id, store: again.store, data: { cidFor: async () => CID.parse(BATCH) }, log: logger('test') })
    expect(fresh.isPinned(CID.parse(OTHER_BATCH))).toBe(true)
    expect(again.store.collected(id)).toBe(true)
    expect(again.store.state(id)).toBeUndefined()
    expect(await again.store.accept(done, true)).toBe('collected')
  })

  it('keepMs 0 keeps finished jobs forever; a failed or canceled job is collected like a done one', async () => {
    const me = await peer()
    const forever = storeOf(me, new MemoryDatastore(), 0)
    const t0 = Date.now() - 60_000
    const { id, fact } = await jobOf(me, t0)
    await forever.store.accept(fact, true)
    await forever.store.accept(await sign(me, { t: 'cancel', job: id, at: t0 + 50 }), true)
    expect(forever.store.state(id)?.view().status).toBe('canceled')
    expect(await forever.retention.collect(t0 + 1e12)).toMatchObject({ jobs: 0 })
    expect(forever.store.state(id)).toBeDefined()

    const kept = storeOf(me, new MemoryDatastore(), 1_000)
    await kept.store.accept(fact, true)
    await kept.store.accept(await sign(me, { t: 'cancel', job: id, at: t0 + 50 }), true)
    expect(await kept.retention.collect(t0 + 1_049)).toMatchObject({ jobs: 0 })
    expect(await kept.retention.collect(t0 + 1_050)).toMatchObject({ jobs: 1, facts: 2 })
  })

  it('an iterative job\'s pass states stay pinned after it is done, until it is collected', async () => {
    const [me, worker] = [await peer(), await peer()]
    const { store, retention } = storeOf(me, new MemoryDatastore(), 1_000)
    const t0 = Date.now() - 60_000
    const { id, fact } = await iterativeJobOf(me, t0, 2)
    await store.accept(fact, true)
    const { data: model, cid: stateCid } = await passStateOf(new Uint8Array([1, 2, 3]))
    await store.accept(await sign(worker, { t: 'pass', job: id, pass: 0, at: t0 + 10, results: 'r0', state: stateCid, data: model }), true)
    expect(retention.isPinned(CID.parse(stateCid))).toBe(true)
    await store.accept(await sign(worker, { t: 'pass', job: id, pass: 1, at: t0 + 20, results: 'r1', state: stateCid, data: model }), true)
    await store.accept(await sign(worker, { t: 'done', job: id, at: t0 + 30, result: stateCid, hash: 'final', size: 3 }), true)
    expect(store.state(id)?.view().status).toBe('done')
    // the models stay pinned while the job is kept
    expect(retention.isPinned(CID.parse(stateCid))).toBe(true)
    expect(await retention.collect(t0 + 1_030)).toMatchObject({ jobs: 1 })
    expect(retention.isPinned(CID.parse(stateCid))).toBe(false)
  })

  it('a job that ended by its deadline is kept from the deadline on', async () => {
    const me = await peer()
    const { store, retention } = storeOf(me, new MemoryDatastore(), 1_000)
    const t0 = Date.now() - 60_000
    const spec = validateSpec({ fn: 'square', inputs: [BATCH], deadlineMs: 5_000 })
    const doc = buildDocument(spec, [{ shards: [{ cid: CID.parse(BATCH) }] }], me.id, t0)
    const bytes = encodeDocument(doc)
    const id = (await documentId(bytes)).toString()
    await store.accept(await signFact(me.key, me.id, { t: 'job', job: id, doc: bytes }), true)
    expect(store.state(id)?.view().status).toBe('failed')
    expect(await retention.collect(t0 + 5_999)).toMatchObject({ jobs: 0 })
    expect(await retention.collect(t0 + 6_000)).toMatchObject({ jobs: 1 })
  })
})
