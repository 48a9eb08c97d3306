/**
 * Few facts per task: every fact costs each peer of the swarm a receipt and a
 * signature check, so peers claim in batches, renew a job's leases together
 * and report results when they ask for more work, in the same fact.
 */
import { describe, it, expect } from 'vitest'
import { useCleanup } from '../helpers.ts'
import { swarm, enc, dec } from '../jobs/swarm.ts'

const LINE = 1024
const line = (text: string): string => ' '.repeat(LINE - 1 - text.length) + text + '\n'

describe('scheduler batching', () => {
  const t = useCleanup()

  it('a job of 120 tasks of 30 ms on 3 peers takes far fewer facts than tasks', async () => {
    const nodes = await swarm(t.node, 3)
    // a trusted function of a steady 30 ms, registered on every peer: results finish one by one
    for (const node of nodes) {
      node.functions.register('slow-echo', async (input) => { await new Promise(resolve => setTimeout(resolve, 30)); return input })
    }
    const n = 120
    const text = Array.from({ length: n }, (_, i) => line(String(i))).join('')
    const input = await nodes[0].data.put(enc(text), { chunkSize: LINE })
    const started = Date.now()
    const job = await nodes[1].jobs.submit({ fn: 'slow-echo', inputs: [input.toString()] })
    const out = dec(await job.result({ signal: AbortSignal.timeout(60_000) }))
    expect(out).toBe(text)
    const elapsedMs = Date.now() - started
    const facts = nodes[1].jobs.service.state(job.id)?.allFacts() ?? []
    const count = (t: string): number => facts.filter(f => f.fact.t === t).length
    const results = facts.flatMap(f => f.fact.t === 'result' ? f.fact.results : [])
    const claimsWithResults = facts.filter(f => f.fact.t === 'result' && f.fact.claim != null).length
    expect(results.length).toBeGreaterThanOrEqual(n)
    // claims and results: per batch, not per task (one fact per result would be ~n/2 here)
    expect(count('claim') + count('result')).toBeLessThan(n / 3)
    // a peer's work requests after its first travel with its finished results, in one fact
    expect(claimsWithResults).toBeGreaterThan(count('claim'))
    // renewals: one per peer per job per half lease (1.5 s of the default 3 s) at most, however many
    // tasks are held; bounded here by one a second
    expect(count('renew')).toBeLessThanOrEqual(nodes.length * (Math.ceil(elapsedMs / 1000) + 1))
  }, 90_000)
})
