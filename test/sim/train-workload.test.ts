/**
 * The simulation's `train` workload end to end: the devices' own readings
 * train a model while a peer is killed mid-training, the model is the
 * single-machine computation bit for bit, and its evaluation on held-out
 * readings equals the local one.
 */
import { describe, it, expect } from 'vitest'
import { runSimulation, formatReport } from '../../src/sim/index.ts'

describe('sim: the train workload', () => {
  it('5 peers, 1 killed mid-training: the model and its held-out evaluation equal the single-machine ones', async () => {
    const report = await runSimulation({
      peers: 5, kill: 1, restart: 0, processes: 1, seed: 'train', workload: 'train', rowsPerDevice: 150, chunkSize: 2048,
      dhtSamples: 2, gossipSamples: 2, jobTimeoutMs: 45_000
    }, { signal: AbortSignal.timeout(55_000) })
    expect(report.correct, formatReport(report)).toBe(true)
    expect(report.jobs.map(j => j.fn)).toEqual(['train', 'evaluate'])
    expect(report.jobs.every(j => j.correct && j.status === 'done')).toBe(true)
    // a training's tasks count once per pass: a scan and 20 rounds over every device's shards
    expect(report.jobs[0].tasks % 21).toBe(0)
    expect(report.jobs[0].preview).toMatch(/^\{"model":"bafy/)
    expect(report.jobs[1].preview).toMatch(/^\{"count":\d+,"rmse":/)
    expect(report.killed).toBe(1)
    expect(report.faults.some(f => f.kind === 'kill' && f.doneFraction < 1)).toBe(true)
  }, 60_000)
})
