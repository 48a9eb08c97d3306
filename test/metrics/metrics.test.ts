/**
 * Metrics of real peers: after a put and a job the counters that must move
 * did, each node's figures stay in its own registry (two nodes in one
 * process), gossipsub's figures are there, and a node without metrics has
 * none.
 */
import { describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { EDGESWARM_VERSION } from '../../src/node/index.ts'
import { useCleanup, waitFor } from '../helpers.ts'
import { enc, swarm } from '../jobs/swarm.ts'
import type { EdgeNode } from '../../src/index.ts'

/** The value of a sample in a node's exposition (`name{labels}`), 0 when absent. */
async function sample (node: EdgeNode, series: string): Promise<number> {
  const { text } = await (node.metrics as NonNullable<EdgeNode['metrics']>).exposition()
  const line = text.split('\n').find(l => l.startsWith(series + ' '))
  return line == null ? 0 : Number(line.slice(series.length + 1))
}

describe('metrics', () => {
  const t = useCleanup()

  it('move with a put and a job, and stay with the node that counted them', async () => {
    const [a, b, c] = await swarm(t.node, 3, { swarm: false })
    const text = Array.from({ length: 2000 }, (_, i) => `${i}`).join('\n') + '\n'
    const cid = await a.data.put(enc(text), { chunkSize: 1024, replicas: 1 })
    const shards = (await a.data.manifest(cid)).shards.length
    expect(shards).toBeGreaterThan(1)
    // a reads through c: c fetches what it does not hold from the swarm
    let got = 0
    for await (const chunk of c.data.get(cid)) got += chunk.length
    expect(got).toBe(text.length)
    const job = await b.jobs.submit({ fn: 'square', inputs: [cid.toString()] })
    await job.result({ signal: AbortSignal.timeout(30_000) })
    const nodes = [a, b, c]
    // every peer has the job's outcome (the done fact reaches the others by gossip or sync)
    expect(await waitFor(() => nodes.every(n => n.jobs.list().some(j => j.id === job.id && j.status === 'done')), 15_000)).toBe(true)

    const run = await Promise.all(nodes.map(async n => await sample(n, 'edgeswarm_scheduler_tasks_total{event="run"}')))
    expect(run.reduce((x, y) => x + y, 0)).toBeGreaterThanOrEqual(shards)
    for (const [i, n] of nodes.entries()) {
      // each node's registry counts its own runs, as its scheduler does
      expect(run[i]).toBe(n.scheduler.metrics.executed)
      expect(await sample(n, 'edgeswarm_scheduler_tasks_total{event="claimed"}')).toBe(n.scheduler.metrics.claimed)
      expect(await sample(n, 'edgeswarm_jobs_facts_received_total')).toBeGreaterThan(0)
      expect(await sample(n, 'edgeswarm_jobs{state="done"}')).toBe(1)
    }
    const histogramCount = await Promise.all(nodes.map(async n => await sample(n, 'edgeswarm_scheduler_task_run_seconds_count')))
    expect(histogramCount).toEqual(run)
    // the putter holds its own blocks (and result batches it made); the others hold copies for it
    expect(await sample(a, 'edgeswarm_data_blocks{holder="own"}')).toBeGreaterThanOrEqual(shards + 1)
    expect(await sample(b, 'edgeswarm_data_blocks{holder="others"}') + await sample(c, 'edgeswarm_data_blocks{holder="others"}')).toBeGreaterThan(0)
    expect(await sample(a, 'edgeswarm_data_block_bytes_total{direction="sent"}')).toBe(a.data.metrics.bytesSent)
    // c fetched blocks from the swarm, each timed once
    expect(c.data.metrics.fetches).toBeGreaterThan(0)
    expect(await sample(c, 'edgeswarm_data_fetches_total{outcome="found"}')).toBe(c.data.metrics.fetches)
    expect(await sample(c, 'edgeswarm_data_fetch_seconds_count')).toBe(c.data.metrics.fetches)
    // libp2p's own figures and bytes per protocol, in each node's registry
    expect(await sample(a, 'libp2p_kad_dht_routing_table_size')).toBeGreaterThan(0)
    expect(await sample(a, 'libp2p_data_transfer_bytes_total{protocol="/edgeswarm/shard/2.0.0",direction="sent"}')).toBeGreaterThan(0)
    expect(await sample(a, 'libp2p_data_transfer_bytes_total{protocol="global",direction="sent"}')).toBe(a.metrics?.bytes('global').sent)
    // gossipsub's figures, per topic label
    expect(await sample(b, 'gossipsub_msg_publish_count_total{topic="jobs"}')).toBeGreaterThan(0)
    // process figures come once, after the node's
    expect((await a.metrics?.exposition())?.text).toContain('process_cpu_user_seconds_total')
  })

  it('keeps two nodes of one process apart, and costs nothing when off', async () => {
    const [a, b] = await swarm(t.node, 2, { swarm: false })
    const off = await t.node({ metrics: false, swarm: false })
    expect(off.metrics).toBeUndefined()
    expect(a.metrics?.registry).not.toBe(b.metrics?.registry)
    await a.data.put(enc('only a puts\n'), { replicas: 1 })
    expect(await sample(a, 'edgeswarm_data_blocks{holder="own"}')).toBe(2)
    expect(await sample(b, 'edgeswarm_data_blocks{holder="own"}')).toBe(0)
    const own = a.metrics?.registerCounter('edgeswarm_test_only_a_total')
    own?.increment(5)
    expect(await sample(a, 'edgeswarm_test_only_a_total')).toBe(5)
    expect(await sample(b, 'edgeswarm_test_only_a_total')).toBe(0)
    // a name registered twice in one node is one metric
    a.metrics?.registerCounter('edgeswarm_test_only_a_total').increment()
    expect(await sample(a, 'edgeswarm_test_only_a_total')).toBe(6)
  })

  it('reports the version package.json says', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
    expect(EDGESWARM_VERSION).toBe(pkg.version)
  })
})
