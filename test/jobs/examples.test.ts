/**
 * The seeds' example workloads through a real swarm, each equal to the
 * single-machine computation, and a property test over random inputs and
 * chunk sizes.
 */
import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import { useCleanup } from '../helpers.ts'
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import { MAX_FACT_BYTES, resultHash } from '../../src/jobs/index.ts'
import { cidOf, closestPeers } from '../../src/data/index.ts'
import { swarm, computeLocally, enc, dec } from './swarm.ts'

describe('jobs: the seeds\' examples', () => {
  const t = useCleanup()

  it('squares of 100 numbers, temperature per device, and word counting', async () => {
    const [a, b, c] = await swarm(t.node, 3)
    // seed 003: squares of 100 numbers, over several shards
    const numbers = Array.from({ length: 100 }, (_, i) => String(i + 1)).join('\n') + '\n'
    const nums = await a.data.put(enc(numbers), { chunkSize: 1024 })
    const squares = await b.jobs.submit({ fn: 'square', inputs: [nums.toString()] })
    expect(dec(await squares.result({ signal: AbortSignal.timeout(30_000) }))).toBe(await computeLocally('square', numbers))
    expect(dec(await squares.result())).toBe(Array.from({ length: 100 }, (_, i) => `${(i + 1) ** 2}\n`).join(''))

    // seed 001: temperature per device
    const devices = ['gw-1', 'pi-2', 'laptop-3', 'pi-4']
    let csv = 'device,temperature,humidity\n'
    for (let i = 0; i < 400; i++) csv += `${devices[i % 4]},${(15 + ((i * 37) % 200) / 10).toFixed(1)},${40 + (i % 30)}\n`
    const csvCid = await b.data.put(enc(csv), { chunkSize: 1024 })
    const temps = await c.jobs.submit({ fn: 'csv-stats', inputs: [csvCid.toString()], params: { by: 'device', column: 'temperature' } })
    const tempResult = dec(await temps.result({ signal: AbortSignal.timeout(30_000) }))
    expect(tempResult).toBe(await computeLocally('csv-stats', csv, { by: 'device', column: 'temperature' }))
    const parsed = JSON.parse(tempResult) as Record<string, { count: number }>
    expect(Object.keys(parsed).sort()).toEqual([...devices].sort())
    expect(parsed['gw-1'].count).toBe(100)
    expect(temps.status().total).toBeGreaterThan(5)
    // a small final result travels in the done fact, reduced by one peer, and is stored in the swarm under its CID too
    // read where result() returned: the done fact may not have reached the other peers yet
    const state = c.jobs.service.state(temps.id)
    const done = state?.doneResult()
    expect(done?.data !== undefined && dec(done.data)).toBe(tempResult)
    expect(new Set(state?.allFacts().filter(f => f.fact.t === 'done').map(f => f.from)).size).toBe(1)
    await expect.poll(async () => await a.data.hasLocal(done?.result ?? '') || await b.data.hasLocal(done?.result ?? '') || await c.data.hasLocal(done?.result ?? ''), { timeout: 10_000 }).toBe(true)

    // seed 004: counting
    const words = 'the edge counts the words, the EDGE counts them all: état, Straße, 数据 数据\n'.repeat(60)
    const wordsCid = await c.data.put(enc(words), { chunkSize: 1024 })
    const wc = await a.jobs.submit({ fn: 'word-count', inputs: [wordsCid.toString()] })
    const counted = dec(await wc.result({ signal: AbortSignal.timeout(30_000) }))
    expect(counted).toBe(await computeLocally('word-count', words))
    expect(JSON.parse(counted)).toMatchObject({ the: 180, edge: 120, 数据: 120, straße: 60 })
  })

  it('many fast tasks with results just under the inline limit: batched into facts that fit, the batches stored in the swarm', async () => {
    const nodes = await swarm(t.node, 2)
    // each task's result is ~15 KiB (inline); a peer finishes dozens within one batching window
    const RESULT_BYTES = 15 * 1024
    for (const n of nodes) {
      n.functions.register('widen', (input) => {
        const lines = new TextDecoder().decode(input).split('\n').filter(l => l !== '')
        return enc(lines.map(l => l.padEnd(RESULT_BYTES, '.') + '\n').join(''))
      })
    }
    const text = Array.from({ length: 120 }, (_, i) => String(i).padStart(1023, ' ')).join('\n') + '\n'
    const cid = await nodes[0].data.put(enc(text), { chunkSize: 1024 })
    const job = await nodes[1].jobs.submit({ fn: 'widen', inputs: [cid.toString()] })
    expect(job.status().total).toBeGreaterThanOrEqual(100)
    const out = dec(await job.result({ signal: AbortSignal.timeout(60_000) }))
    expect(out).toBe(text.split('\n').filter(l => l !== '').map(l => l.padEnd(RESULT_BYTES, '.') + '\n').join(''))
    // every result fact fits a fact's size limit, and names the batch stored in the swarm, which another peer reads by its CID
    const facts = (nodes[0].jobs.service.state(job.id)?.allFacts() ?? []).filter(f => f.fact.t === 'result')
    expect(facts.length).toBeGreaterThan(1)
    for (const f of facts) expect(f.envelope.length).toBeLessThanOrEqual(MAX_FACT_BYTES)
    const withBatch = facts.filter(f => f.fact.t === 'result' && f.fact.batch != null)
    expect(withBatch.length).toBe(facts.length)
    const batchFact = withBatch[0].fact
    if (batchFact.t !== 'result' || batchFact.batch == null) throw new Error('no batch')
    const reader = nodes.find(n => n.peerId.toString() !== withBatch[0].from) ?? nodes[0]
    const stored = dagCbor.decode(await reader.data.getShard(batchFact.batch, { signal: AbortSignal.timeout(10_000) })) as { job: string, results: Array<{ task: number, data: Uint8Array }> }
    expect(stored.job).toBe(job.id)
    expect(stored.results.map(r => r.task)).toEqual(batchFact.results.map(r => r.task))
    for (const r of stored.results) expect(resultHash(r.data)).toBe(batchFact.results.find(e => e.task === r.task)?.hash)
  }, 90_000)

  it('result batches are kept by the peers closest to them, from the fact, with no transfer; read after their author stops', async () => {
    const nodes = await swarm(t.node, 5)
    const text = Array.from({ length: 40 }, (_, i) => String(i).padStart(1023, ' ')).join('\n') + '\n'
    const cid = await nodes[0].data.put(enc(text), { chunkSize: 1024 })
    const adoptedBefore = nodes.map(n => n.data.metrics.adopted)
    const job = await nodes[1].jobs.submit({ fn: 'square', inputs: [cid.toString()] })
    await job.result({ signal: AbortSignal.timeout(30_000) })
    const batches = (nodes[1].jobs.service.state(job.id)?.allFacts() ?? [])
      .flatMap(f => f.fact.t === 'result' && f.fact.batch != null ? [{ author: f.from, batch: f.fact.batch, fact: f.fact }] : [])
    expect(batches.length).toBeGreaterThan(0)
    const byId = new Map(nodes.map(n => [n.peerId.toString(), n]))
    // the replicas (3) closest of the whole swarm hold each batch, and so does its author
    const closestOf = (batch: string): string[] => closestPeers(CID.parse(batch), nodes.map(n => n.peerId), 3).map(p => p.toString())
    for (const { author, batch } of batches) {
      for (const holder of new Set([author, ...closestOf(batch)])) {
        await expect.poll(async () => await byId.get(holder)?.data.hasLocal(batch), { timeout: 10_000 }).toBe(true)
      }
    }
    // kept from the facts: every closest peer other than the author adopted its copy
    const expectedAdoptions = new Map<string, number>()
    for (const { author, batch } of batches) for (const p of closestOf(batch)) if (p !== author) expectedAdoptions.set(p, (expectedAdoptions.get(p) ?? 0) + 1)
    for (const [i, n] of nodes.entries()) expect(n.data.metrics.adopted - adoptedBefore[i]).toBeGreaterThanOrEqual(expectedAdoptions.get(n.peerId.toString()) ?? 0)
    // a batch stays readable, by its CID, from a peer that does not hold it, once its author is gone
    const { author, batch, fact } = batches.find(b => !closestOf(b.batch).includes(b.author)) ?? batches[0]
    await byId.get(author)?.stop()
    const holders = new Set([author, ...closestOf(batch)])
    const reader = nodes.find(n => !holders.has(n.peerId.toString())) ?? nodes.find(n => n.peerId.toString() !== author) ?? nodes[0]
    const stored = dagCbor.decode(await reader.data.getShard(batch, { signal: AbortSignal.timeout(10_000) })) as { job: string, results: Array<{ task: number, data: Uint8Array }> }
    expect(stored.job).toBe(job.id)
    if (fact.t !== 'result') throw new Error('not a result fact')
    expect(stored.results.map(r => r.task)).toEqual(fact.results.map(r => r.task))
    for (const r of stored.results) expect(resultHash(r.data)).toBe(fact.results.find(e => e.task === r.task)?.hash)
  }, 60_000)

  it('a peer adopts only a block it is among the closest to, and only bytes that hash to its CID', async () => {
    const nodes = await swarm(t.node, 5)
    const blocks = Array.from({ length: 24 }, (_, i) => enc(`block ${i}\n`))
    for (const bytes of blocks) {
      const c = cidOf(bytes)
      const closest = closestPeers(c, nodes.map(n => n.peerId), 3).map(p => p.toString())
      for (const n of nodes) {
        // wrong bytes for the CID are never kept
        expect(await n.data.adoptBlock(c, () => enc('not the block'))).toBe(false)
        expect(await n.data.adoptBlock(c, () => bytes)).toBe(closest.includes(n.peerId.toString()))
        expect(await n.data.hasLocal(c)).toBe(closest.includes(n.peerId.toString()))
      }
    }
    // a malformed CID is refused, not thrown
    expect(await nodes[0].data.adoptBlock('not-a-cid', () => blocks[0])).toBe(false)
  })

  it('any swarm result equals the local result, for random inputs and chunk sizes', async () => {
    const [a, b] = await swarm(t.node, 2)
    const line = fc.oneof(
      fc.integer({ min: -1000, max: 1000 }).map(String),
      fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true }).map(String)
    )
    const numbersText = fc.array(line, { minLength: 1, maxLength: 300 }).map(ls => ls.join('\n') + '\n')
    const wordText = fc.array(fc.constantFrom('alpha', 'Beta', 'γάμμα', 'δ', 'x1', '42', ' ', ', ', '\n', '--', 'Ωmega'), { maxLength: 600 }).map(ws => ws.join(''))
    const csvText = fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.double({ min: -100, max: 100, noNaN: true }), fc.boolean()), { minLength: 1, maxLength: 200 })
      .map(rows => 'group,value\n' + rows.map(([g, v, ok]) => `${g},${ok ? String(v) : 'n/a'}`).join('\n') + '\n')
    const chunk = fc.integer({ min: 1024, max: 4096 })
    const cases = fc.oneof(
      fc.record({ fn: fc.constant('square'), text: numbersText, chunk, params: fc.constant({}) }),
      fc.record({ fn: fc.constant('word-count'), text: wordText, chunk, params: fc.constant({}) }),
      fc.record({ fn: fc.constant('csv-stats'), text: csvText, chunk, params: fc.constant({ by: 'group', column: 'value' }) })
    )
    await fc.assert(fc.asyncProperty(cases, async ({ fn, text, chunk, params }) => {
      const cid = await a.data.put(enc(text), { chunkSize: chunk })
      const job = await b.jobs.submit({ fn, inputs: [cid.toString()], params })
      const got = dec(await job.result({ signal: AbortSignal.timeout(30_000) }))
      expect(got).toBe(await computeLocally(fn, text, params))
    }), { numRuns: 12 })
  })
})
