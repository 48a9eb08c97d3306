/**
 * The simulation as a library: a small scenario end to end (6 real peers in
 * this process, one killed during the job and restarted from its repo, a
 * small dataset), and the pure parts it stands on (seeded data and fault
 * plans, option checks, percentiles). runSimulation cleans up after itself,
 * also on failure; the abort signal bounds a hung run.
 */
import { describe, it, expect } from 'vitest'
import {
  runSimulation, planFaults, deviceData, resolveSimOptions, percentiles, formatReport, InvalidSimOptionsError, NOT_SUBMITTED
} from '../../src/sim/index.ts'
import { failureKind } from '../../src/sim/samples.ts'

/** A run must finish well inside the test's own limit. */
const RUN_LIMIT_MS = 50_000

describe('sim: pure parts', () => {
  it('counts failed attempts of one kind together: CIDs, peer ids and numbers masked', () => {
    const a = 'NotFoundError: bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy not found: none of the peers asked holds it (23 peers asked: 23 have none, 0 did not answer)'
    const b = 'NotFoundError: bafkreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm not found: none of the peers asked holds it (9 peers asked: 7 have none, 2 did not answer)'
    expect(failureKind(a)).toBe(failureKind(b))
    expect(failureKind(a)).toBe('NotFoundError: <cid> not found: none of the peers asked holds it (N peers asked: N have none, N did not answer)')
    expect(failureKind('peer 12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK left after 1.5 s'))
      .toBe('peer <peer> left after N s')
    expect(failureKind('WasmTimeoutError: over 10000 ms')).not.toBe(failureKind('WasmMemoryLimitError: over 256 MB'))
  })

  it('same seed, same data and same fault plan; another seed, others', () => {
    expect(deviceData('csv-stats', 's', 3, 50)).toBe(deviceData('csv-stats', 's', 3, 50))
    expect(deviceData('csv-stats', 's', 3, 50)).not.toBe(deviceData('csv-stats', 't', 3, 50))
    expect(deviceData('csv-stats', 's', 3, 50).split('\n')[0]).toBe('device,ts,temperature,humidity')
    const input = { seed: 's', peers: 12, kill: 2, restart: 1, churnPerMin: 6, horizonMs: 60_000 }
    expect(planFaults(input)).toEqual(planFaults(input))
    expect(planFaults(input)).not.toEqual(planFaults({ ...input, seed: 't' }))
    const plan = planFaults(input)
    expect(new Set(plan.kills.map(k => k.peer)).size).toBe(2)
    expect(plan.kills[0].atFraction).toBe(0)
    expect(plan.restarts.map(r => r.peer)).toEqual([plan.kills[0].peer])
    expect(plan.churn.length).toBeGreaterThan(0)
  })

  it('rejects bad options with a message naming them', () => {
    expect(() => resolveSimOptions({ peers: 1 })).toThrow(InvalidSimOptionsError)
    expect(() => resolveSimOptions({ peers: 6, kill: 6 })).toThrow(/kill/)
    expect(() => resolveSimOptions({ kill: 1, restart: 2 })).toThrow(/restart/)
    expect(() => resolveSimOptions({ workload: 'nope' as 'wasm' })).toThrow(/workload/)
    expect(() => resolveSimOptions({ workload: 'wasm' })).toThrow(/wasm/)
    expect(resolveSimOptions({ peers: 200 }).processes).toBe(2)
    expect(resolveSimOptions({}).processes).toBe(1)
    // leases and the job phase's limit grow with the swarm; a given value wins
    expect([12, 50, 200].map(peers => resolveSimOptions({ peers }).leaseMs)).toEqual([2_000, 6_000, 60_000])
    expect([12, 200].map(peers => resolveSimOptions({ peers }).jobTimeoutMs)).toEqual([300_000, 1_800_000])
    expect(resolveSimOptions({ peers: 200, leaseMs: 3_000, jobTimeoutMs: 60_000 })).toMatchObject({ leaseMs: 3_000, jobTimeoutMs: 60_000 })
  })

  it('percentiles by nearest rank', () => {
    expect(percentiles([])).toEqual({ p50: null, p95: null, p99: null })
    expect(percentiles(Array.from({ length: 100 }, (_, i) => i + 1))).toEqual({ p50: 50, p95: 95, p99: 99 })
  })
})

describe('sim: a small swarm end to end', () => {
  it('6 peers, 1 killed during the job and restarted: the result equals the single-machine one', async () => {
    const phases = new Set<string>()
    const report = await runSimulation({
      peers: 6, kill: 1, restart: 1, processes: 1, seed: 'test', rowsPerDevice: 200, chunkSize: 2048,
      dhtSamples: 6, gossipSamples: 3, jobTimeoutMs: 40_000
    }, { signal: AbortSignal.timeout(RUN_LIMIT_MS), onProgress: p => { phases.add(p.phase) } })

    expect(report.correct, formatReport(report)).toBe(true)
    expect(report.killed).toBe(1)
    expect(report.restarted).toBe(1)
    expect(report.refetch).toEqual({ peers: 1, ok: 1, failures: [] })
    expect(report.peers).toBe(6)
    expect(report.processes).toBe(1)
    expect(report.tasks).toBeGreaterThan(6)
    expect(report.jobs.map(j => j.params)).toEqual([{ by: 'device', column: 'temperature' }, { column: 'humidity' }])
    expect(report.jobs.every(j => j.correct && j.resultSha256 === j.expectedSha256)).toBe(true)
    expect(report.jobs.every(j => j.submitMs != null && j.submitMs > 0 && j.submitMs <= report.durationMs)).toBe(true)
    expect(report.faults.map(f => f.kind)).toEqual(['kill', 'restart'])
    // every task ran at least once, the rate is of the job phase's time, and the hosts' memory was sampled
    expect(report.durationMs).toBeGreaterThan(0)
    expect(report.tasksExecuted).toBeGreaterThanOrEqual(report.tasks)
    expect(report.tasksPerSecond).toBeCloseTo(report.tasks / (report.durationMs / 1000), 0)
    expect(report.rssPerPeerMB).toBeGreaterThan(0)
    expect(report.bytesStored).toBeGreaterThan(report.bytesInput)
    // the kinds shown are counted from failed attempts: never more than there were
    expect(report.failureReasons.reduce((a, f) => a + f.count, 0)).toBeLessThanOrEqual(report.failedAttempts)
    // 6 peers announce their readings well within the wait's limit
    expect(report.announcementsSettled).toBe(true)
    expect(report.announceMs).toBeLessThan(60_000)
    expect(report.bytesMoved).toBeGreaterThan(0)
    for (const p of [report.dhtPutMs, report.dhtGetMs, report.gossipMs]) {
      for (const v of [p.p50, p.p95, p.p99]) {
        expect(typeof v).toBe('number')
        expect(v).toBeGreaterThanOrEqual(0)
      }
    }
    expect(report.gossip.received).toBe(report.gossip.expected)
    expect(JSON.parse(JSON.stringify(report))).toEqual(report)
    expect([...phases]).toEqual(expect.arrayContaining(['start', 'connect', 'load', 'dht', 'gossip', 'job', 'verify', 'teardown']))
  }, 60_000)

  it('with child processes a kill target runs alone and dies by SIGKILL; it restarts in a new process from its repo', async () => {
    const report = await runSimulation({
      peers: 6, kill: 1, restart: 1, processes: 2, seed: 'crash', rowsPerDevice: 200, chunkSize: 2048,
      dhtSamples: 4, gossipSamples: 3, jobTimeoutMs: 40_000
    }, { signal: AbortSignal.timeout(RUN_LIMIT_MS) })

    expect(report.correct, formatReport(report)).toBe(true)
    expect(report.processes).toBe(2)
    // the target's first process, then the one it restarted in
    expect(report.soloProcesses).toBe(2)
    expect(report.killed).toBe(1)
    expect(report.restarted).toBe(1)
    expect(report.refetch).toEqual({ peers: 1, ok: 1, failures: [] })
    expect(report.faults.map(f => f.kind)).toEqual(['kill', 'restart'])
    expect(report.errors).toEqual([])
    // every peer, the crashed one included, answered the gossip probes before the job
    expect(report.gossip.received).toBe(report.gossip.expected)
    expect(formatReport(report)).toMatch(/\+2 one-device processes for the kill targets/)
  }, 60_000)

  it('a job that cannot be submitted (an invalid WebAssembly module) still gets a report, not correct, with the reason', async () => {
    const report = await runSimulation({
      peers: 4, kill: 0, restart: 0, processes: 1, seed: 'nosubmit', workload: 'wasm', wasmModule: new Uint8Array([0, 1, 2, 3]),
      rowsPerDevice: 20, chunkSize: 2048, dhtSamples: 2, gossipSamples: 2, jobTimeoutMs: 20_000
    }, { signal: AbortSignal.timeout(RUN_LIMIT_MS) })
    expect(report.correct).toBe(false)
    expect(report.jobs.length).toBeGreaterThan(0)
    expect(report.jobs[0]).toMatchObject({ status: NOT_SUBMITTED, submitMs: null, correct: false })
    expect(report.jobs[0].reason).toMatch(/could not submit .*not a WebAssembly module/)
    // what ran before the job is still measured
    expect(report.gossip.received).toBe(report.gossip.expected)
    expect(report.dhtPutMs.p50).not.toBeNull()
    expect(formatReport(report)).toMatch(/NOT CARRIED OUT/)
  }, 60_000)
})
