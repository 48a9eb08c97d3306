/**
 * The job layer's garbage on real peers over TCP on 127.0.0.1: result
 * batches are pinned while their job runs and collected by the data layer
 * once its final result is stored; each peer collects a finished job after
 * its own retention (facts, and the datastore's copy of them), not before;
 * `keepMs` 0 keeps it; and a peer that collected a job never gets it back
 * from a peer that still holds it, by gossip or by sync.
 */
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, it, expect } from 'vitest'
import { CID } from 'multiformats/cid'
import { initRepo, type EdgeNode } from '../../src/index.ts'
import { SYNC_INTERVAL_MS } from '../../src/jobs/index.ts'
import { useCleanup, addrOf, waitFor } from '../helpers.ts'
import { enc, dec } from './swarm.ts'

/** Every key an async source yields. */
async function collectKeys<T> (source: AsyncIterable<T> | Iterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const k of source) out.push(k)
  return out
}

const numbers = (n: number): string => Array.from({ length: n }, (_, i) => String(i + 1)).join('\n') + '\n'

function registerSlowSquare (node: EdgeNode, ms: number): void {
  node.functions.register('slow-square', async (input, _params, ctx) => {
    await sleep(ms, undefined, { signal: ctx.signal })
    return enc(new TextDecoder().decode(input).split('\n').filter(l => l.trim() !== '').map(l => `${Number(l) ** 2}\n`).join(''))
  })
}

/** The batch blocks the result facts of job `id` name, as this peer holds them. */
function batchesOf (node: EdgeNode, id: string): string[] {
  const out: string[] = []
  for (const sf of node.jobs.service.state(id)?.allFacts() ?? []) if (sf.fact.t === 'result' && sf.fact.batch != null) out.push(sf.fact.batch)
  return out
}

describe('jobs: retention on a swarm', () => {
  const t = useCleanup()

  it('batches pinned until the final result; a finished job collected after --keep on each peer, kept with 0, never synced back', async () => {
    const keepMs = 6_000
    const dataGc = { gcGraceMs: 500, gcIntervalMs: 0 }
    const repo = join(await t.tempDir(), 'a')
    await initRepo(repo, { listen: ['/ip4/127.0.0.1/tcp/0'] })
    const a = await t.node({ repo, jobKeepMs: keepMs, data: dataGc })
    const b = await t.node({ bootstrap: [addrOf(a)], jobKeepMs: keepMs, data: dataGc })
    const c = await t.node({ bootstrap: [addrOf(a)], jobKeepMs: 0, data: dataGc })
    const nodes = [a, b, c]
    expect(await waitFor(() => nodes.every(n => n.peers().length >= 2), 15_000)).toBe(true)
    nodes.forEach(n => { registerSlowSquare(n, 600) })

    const cid = await a.data.put(enc(numbers(6000)), { chunkSize: 1024 })
    const job = await a.jobs.submit({ fn: 'slow-square', inputs: [cid.toString()] })
    const id = job.id
    // a batch while the job runs: pinned, on each peer that holds its fact
    const pinnedWhileOpen = (n: EdgeNode): boolean => {
      const state = n.jobs.service.state(id)
      const batches = batchesOf(n, id)
      return state?.doneResult() == null && batches.length > 0 && batches.every(b => n.jobs.service.isPinned(CID.parse(b)))
    }
    expect(await waitFor(() => pinnedWhileOpen(c), 30_000, 10)).toBe(true)
    expect(await waitFor(() => pinnedWhileOpen(b), 30_000, 10)).toBe(true)

    expect(dec(await job.result({ signal: AbortSignal.timeout(60_000) }))).toBe(Array.from({ length: 6000 }, (_, i) => `${(i + 1) ** 2}\n`).join(''))
    expect(await waitFor(() => nodes.every(n => n.jobs.service.state(id)?.doneResult() != null), 10_000)).toBe(true)
    const finishedAt = a.jobs.service.state(id)?.finishedAt() as number
    // the final result is stored: no batch is pinned any more, and the data layer collects them after its grace
    const batches = [...new Set(nodes.flatMap(n => batchesOf(n, id)))].map(b => CID.parse(b))
    expect(batches.length).toBeGreaterThan(0)
    for (const n of nodes) for (const bc of batches) expect(n.jobs.service.isPinned(bc)).toBe(false)
    const held = async (): Promise<number> => {
      let k = 0
      for (const n of nodes) for (const bc of batches) if (await n.data.hasLocal(bc)) k++
      return k
    }
    expect(await held()).toBeGreaterThan(0)
    await sleep(600)
    await Promise.all(nodes.map(async n => await n.data.gc()))
    expect(await held()).toBe(0)

    // not before the retention: every peer still has it
    const before = Date.now()
    for (const n of nodes) expect(n.jobs.list().some(j => j.id === id)).toBe(true)
    expect(before - finishedAt).toBeLessThan(keepMs)
    // after it, on each peer on its own (a check at least every keepMs)
    expect(await waitFor(() => [a, b].every(n => n.jobs.service.state(id) == null), 3 * keepMs, 100)).toBe(true)
    expect(Date.now() - finishedAt).toBeGreaterThanOrEqual(keepMs)
    for (const n of [a, b]) expect(n.jobs.list().some(j => j.id === id)).toBe(false)
    await expect(a.jobs.get(id)).rejects.toThrow(/was collected here/)
    // and from its datastore (written in a batch just after)
    const persisted = async (): Promise<number> => (await collectKeys(a.repo?.datastore.queryKeys({ prefix: `/edgeswarm/job-facts/${id}/` }) ?? [])).length
    expect(await waitFor(async () => await persisted() === 0, 5_000)).toBe(true)
    // 0 keeps it
    expect(c.jobs.list().find(j => j.id === id)?.status).toBe('done')

    // c still holds it and syncs with them every interval: it never comes back
    await sleep(3 * SYNC_INTERVAL_MS)
    for (const n of [a, b]) expect(n.jobs.service.state(id)).toBeUndefined()
    // a fact of it gossiped anew is dropped too
    await c.jobs.service.publish({ t: 'renew', job: id, tasks: [0], at: Date.now(), lease: 1000 })
    await sleep(500)
    for (const n of [a, b]) expect(n.jobs.service.state(id)).toBeUndefined()
    expect((await a.gc()).jobs.jobs).toBe(0)
  }, 120_000)
})
