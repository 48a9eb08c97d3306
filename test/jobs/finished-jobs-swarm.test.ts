/**
 * Finished jobs out of memory on real peers over TCP on 127.0.0.1, each with
 * a repo on disk: once idle, a done job's facts leave every peer's memory and
 * its status, list and result still answer (the result reads them back); a
 * peer that joins later gets the job by sync from peers that hold it on disk
 * only; a restarted peer knows it without holding it in memory.
 */
import { join } from 'node:path'
import { describe, it, expect } from 'vitest'
import { initRepo, type EdgeNode, type EdgeNodeOptions } from '../../src/index.ts'
import { jobView } from '../../src/api/views.ts'
import { useCleanup, addrOf, waitFor } from '../helpers.ts'
import { computeLocally, dec, enc } from './swarm.ts'

const IDLE_MS = 300
const numbers = (n: number): string => Array.from({ length: n }, (_, i) => String(i + 1)).join('\n') + '\n'

describe('jobs: finished jobs out of memory on a swarm', () => {
  const t = useCleanup()

  /** A node on a fresh repo of its own. */
  const peerWithRepo = async (name: string, options: EdgeNodeOptions = {}): Promise<{ node: EdgeNode, repo: string }> => {
    const repo = join(await t.tempDir(), name)
    await initRepo(repo, { listen: ['/ip4/127.0.0.1/tcp/0'] })
    return { node: await t.node({ repo, jobFinishedIdleMs: IDLE_MS, ...options }), repo }
  }

  it('answers status, list and result from disk; syncs the job to a late peer; a restart keeps it out of memory', async () => {
    const a = await peerWithRepo('a')
    const b = await peerWithRepo('b', { bootstrap: [addrOf(a.node)] })
    const c = await peerWithRepo('c', { bootstrap: [addrOf(a.node)] })
    const nodes = [a.node, b.node, c.node]
    expect(await waitFor(() => nodes.every(n => n.peers().length >= 2), 15_000)).toBe(true)

    const text = numbers(3000)
    const cid = await a.node.data.put(enc(text), { chunkSize: 2048 })
    const job = await a.node.jobs.submit({ fn: 'square', inputs: [cid.toString()] })
    const expected = await computeLocally('square', text)
    expect(dec(await job.result())).toBe(expected)
    const view = a.node.jobs.service.view(job.id)
    expect(view.status).toBe('done')

    // idle: every peer keeps the summary only
    const outOfMemory = (n: EdgeNode): boolean => n.jobs.service.state(job.id) == null && n.jobs.service.known().some(j => j.id === job.id)
    expect(await waitFor(() => nodes.every(outOfMemory), 10_000)).toBe(true)
    for (const n of nodes) {
      expect(n.jobs.service.view(job.id)).toMatchObject({ status: 'done', done: view.done, result: view.result })
      expect(n.jobs.list().find(j => j.id === job.id)?.status).toBe('done')
    }
    // the result and the dashboard's timeline read the facts back
    expect(dec(await (await b.node.jobs.get(job.id)).result())).toBe(expected)
    expect(b.node.jobs.service.state(job.id)).toBeDefined()
    expect((await jobView(c.node, job.id)).spans.length).toBeGreaterThan(0)
    expect(await waitFor(() => nodes.every(outOfMemory), 10_000)).toBe(true)

    // a peer that joins now gets the whole job from peers holding it on disk only
    const late = await peerWithRepo('late', { bootstrap: [addrOf(a.node)] })
    const found = await late.node.jobs.get(job.id, { signal: AbortSignal.timeout(15_000) })
    expect(dec(await found.result())).toBe(expected)
    const factCount = (await a.node.jobs.service.restore(job.id))?.factCount
    expect(await waitFor(() => late.node.jobs.service.state(job.id)?.factCount === factCount, 15_000)).toBe(true)

    // a restart: known, out of memory, its result still there
    await c.node.stop()
    const again = await t.node({ repo: c.repo, jobFinishedIdleMs: IDLE_MS, bootstrap: [addrOf(a.node)] })
    expect(again.jobs.service.state(job.id)).toBeUndefined()
    expect(again.jobs.service.view(job.id).status).toBe('done')
    expect(dec(await (await again.jobs.get(job.id)).result())).toBe(expected)
  })
})
