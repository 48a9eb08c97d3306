/**
 * The seeds' example workloads through a real swarm, each equal to the
 * single-machine computation, and a property test over random inputs and
 * chunk sizes.
 */
import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import { useCleanup } from '../helpers.ts'
import * as dagCbor from '@ipld/dag-cbor'
import { MAX_FACT_BYTES, resultHash } from '../../src/jobs/index.ts'
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
