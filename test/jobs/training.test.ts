/**
 * Training and inference on real peers over TCP on 127.0.0.1, against the
 * single-machine computation: random data, chunk sizes, shards per task and
 * peer counts give the bits of `trainLocally` (with and without
 * standardization), and many small shards are read several a task; a peer that
 * returns scaled gradients moves a mean-aggregated model far and a median one
 * little, and with redundancy 3 it is outvoted to the clean bits; `evaluate`
 * and `predict` equal their local computations; every bad input of a
 * training or an inference is one clear error, with nothing announced.
 */
import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import { jobView } from '../../src/api/views.ts'
import { cidOf } from '../../src/data/index.ts'
import { InvalidParamsError } from '../../src/functions/index.ts'
import { JobFailedError, stateCid, taskCount, type JobDocument, type TrainSpec } from '../../src/jobs/index.ts'
import {
  ExactBank, decodeModel, decodeTaskResult, encodeTaskResult, evaluateLocally, parseTrainSpec, predictLocally, trainLocally
} from '../../src/ml/index.ts'
import type { TaskRunner } from '../../src/scheduler/index.ts'
import { useCleanup } from '../helpers.ts'
import { swarm, enc, dec } from './swarm.ts'

/** A CSV of `rows` records over `features` numeric columns and a label fitting `kind`, seeded by fast-check's numbers. */
function csvOf (kind: string, features: number, values: number[][]): string {
  const header = [...Array.from({ length: features }, (_, j) => `x${j}`), 'y'].join(',')
  const lines = values.map(v => {
    const xs = v.slice(0, features).map(x => x.toFixed(3))
    const s = v.slice(0, features).reduce((a, x, j) => a + x * (j + 1), 0)
    const y = kind === 'linear' ? (s + v[features]).toFixed(3) : kind === 'logistic' ? (s > 0 ? '1' : '0') : ['a', 'b', 'c'][Math.abs(Math.floor(s * 1.7)) % 3]
    return [...xs, y].join(',')
  })
  return [header, ...lines].join('\n') + '\n'
}

/** The params `node.jobs.train` gives the `train` function for `spec` over columns x0.. (features explicit). */
function paramsOf (spec: TrainSpec, features: number): Record<string, string> {
  const p: Record<string, string> = { kind: spec.kind, label: spec.label, features: Array.from({ length: features }, (_, j) => `x${j}`).join(',') }
  if (spec.rounds != null) p.rounds = String(spec.rounds)
  if (spec.lr != null) p.lr = String(spec.lr)
  if (spec.standardize != null) p.standardize = String(spec.standardize)
  if (spec.aggregate != null) p.aggregate = String(spec.aggregate)
  return p
}

/** An executor whose gradient results are the true ones times `factor` (a peer that lies about its shard). */
function scaledGradients (factor: number, size: number) {
  return (executor: TaskRunner): TaskRunner => ({
    canRun: doc => executor.canRun(doc),
    prefetch: (doc, index) => { executor.prefetch(doc, index) },
    clearPrefetched: () => { executor.clearPrefetched() },
    run: async (doc, index, options) => {
      const bytes = await executor.run(doc, index, options)
      let r
      try { r = decodeTaskResult(bytes, 'gradient') } catch { return bytes }
      const bank = new ExactBank(size)
      bank.addPacked(r.gradient)
      const scaled = new ExactBank(size)
      scaled.addAll(bank.toArray().map(x => x * factor))
      return encodeTaskResult({ ...r, gradient: scaled.pack() })
    }
  })
}

/** Euclidean distance of two weight vectors. */
function distance (a: Float64Array, b: Float64Array): number {
  return Math.sqrt(a.reduce((s, x, i) => s + (x - b[i]) ** 2, 0))
}

describe('training on the swarm', () => {
  const t = useCleanup()

  it('property: random data, chunk sizes, shards per task and peer counts give the single-machine bits, standardized or not', async () => {
    await fc.assert(fc.asyncProperty(
      fc.record({
        peers: fc.integer({ min: 2, max: 4 }),
        kind: fc.constantFrom('linear', 'logistic', 'softmax'),
        features: fc.integer({ min: 1, max: 3 }),
        values: fc.array(fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: 4, maxLength: 4 }), { minLength: 30, maxLength: 120 }),
        chunkSize: fc.integer({ min: 1024, max: 2048 }),
        standardize: fc.boolean(),
        rounds: fc.integer({ min: 1, max: 4 }),
        shardsPerTask: fc.integer({ min: 1, max: 4 })
      }),
      async ({ peers, kind, features, values, chunkSize, standardize, rounds, shardsPerTask }) => {
        const nodes = await swarm(t.node, peers)
        try {
          const csv = csvOf(kind, features, values)
          const input = await nodes[peers - 1].data.put(enc(csv), { chunkSize })
          // tasks of several shards: exact sums do not depend on how the records are grouped
          const spec: TrainSpec = { kind, inputs: [input.toString()], label: 'y', rounds, lr: 0.2, standardize, shardsPerTask }
          const job = await nodes[0].jobs.train(spec)
          const bytes = await job.result({ signal: AbortSignal.timeout(60_000) })
          const local = await trainLocally(enc(csv), parseTrainSpec(paramsOf(spec, features)), { job: job.id, chunkSize })
          expect(local.failure).toBeNull()
          expect(dec(bytes)).toBe(dec(local.result as Uint8Array))
          // every pass's state, not only the last
          expect(job.status().passes?.list.map(p => p.state)).toEqual(local.states.map(s => stateCid(s).toString()))
        } finally {
          await Promise.all(nodes.map(async n => { await n.stop() }))
        }
      }
    ), { numRuns: 4 })
  }, 240_000)

  it('a gradient training over many small shards reads several a task, keeping 32 tasks a pass, with the single-machine bits; local steps and a median read one', async () => {
    const features = 3
    const values = Array.from({ length: 3000 }, (_, i) => [Math.sin(i) * 3, Math.cos(i * 1.3) * 2, Math.sin(i * 0.7), Math.sin(i * 7) * 0.1])
    const csv = csvOf('linear', features, values)
    const chunkSize = 1024
    const shards = Math.ceil(enc(csv).length / chunkSize)
    expect(shards).toBeGreaterThanOrEqual(64)
    const nodes = await swarm(t.node, 3)
    const input = (await nodes[0].data.put(enc(csv), { chunkSize })).toString()
    const spec: TrainSpec = { kind: 'linear', inputs: [input], label: 'y', rounds: 3, lr: 0.2 }
    const job = await nodes[1].jobs.train(spec)
    const doc = (await nodes[1].jobs.service.restore(job.id))?.doc
    expect(doc?.shardsPerTask).toBe(Math.floor(shards / 32))
    expect(taskCount(doc as JobDocument)).toBe(Math.ceil(shards / Math.floor(shards / 32)))
    const bytes = await job.result({ signal: AbortSignal.timeout(60_000) })
    const local = await trainLocally(enc(csv), parseTrainSpec(paramsOf(spec, features)), { job: job.id, chunkSize })
    expect(dec(bytes)).toBe(dec(local.result as Uint8Array))
    const fedAvg = await nodes[1].jobs.train({ ...spec, localSteps: 2, batchSize: 8 })
    expect((await nodes[1].jobs.service.restore(fedAvg.id))?.doc?.shardsPerTask).toBeUndefined()
    await fedAvg.cancel()
    // a median works per task: grouping would change its model, so it reads one shard a task
    const median = await nodes[1].jobs.train({ ...spec, aggregate: 'median' })
    expect((await nodes[1].jobs.service.restore(median.id))?.doc?.shardsPerTask).toBeUndefined()
    await median.cancel()
  }, 120_000)

  it('a peer returning scaled gradients: a mean moves far from the clean model, a median stays close; with redundancy 3 the clean bits', async () => {
    const features = 2
    // ~50 shards: the liar is designated for about a quarter of each pass's tasks, never for half of them
    const values = Array.from({ length: 2000 }, (_, i) => [Math.sin(i) * 3, Math.cos(i * 1.3) * 2, 0, Math.sin(i * 7) * 0.1])
    const csv = csvOf('linear', features, values)
    const size = features + 1
    const nodes = await swarm(t.node, 4, {}, i => i === 3 ? { decorate: { taskExecutor: scaledGradients(100, size) } } : {})
    const liar = nodes[3]
    const chunkSize = 1024
    const input = (await nodes[0].data.put(enc(csv), { chunkSize })).toString()
    const clean = async (aggregate: string, job: string): Promise<Float64Array> => {
      const local = await trainLocally(enc(csv), parseTrainSpec({ kind: 'linear', label: 'y', features: 'x0,x1', rounds: '5', lr: '0.2', aggregate }), { job, chunkSize })
      return decodeModel(local.states[local.states.length - 1]).weights
    }
    const model = async (aggregate: string, redundancy = 1): Promise<{ id: string, weights: Float64Array, bytes: string }> => {
      const job = await liar.jobs.train({ kind: 'linear', inputs: [input], label: 'y', rounds: 5, lr: 0.2, aggregate, redundancy })
      const bytes = dec(await (await nodes[0].jobs.get(job.id)).result({ signal: AbortSignal.timeout(60_000) }))
      const view = await nodes[0].jobs.model(JSON.parse(bytes).model)
      return { id: job.id, weights: Float64Array.from(view.weights.flat()), bytes }
    }
    const mean = await model('mean')
    const median = await model('median')
    expect(liar.scheduler.metrics.executed).toBeGreaterThan(0)
    const meanOff = distance(mean.weights, await clean('mean', mean.id))
    const medianOff = distance(median.weights, await clean('median', median.id))
    const scale = Math.hypot(...(await clean('mean', mean.id)))
    expect(meanOff).toBeGreaterThan(scale)
    expect(medianOff).toBeLessThan(scale / 10)
    // with redundancy 3 the liar is outvoted in every pass: the bits of the clean computation
    const voted = await model('mean', 3)
    const local = await trainLocally(enc(csv), parseTrainSpec({ kind: 'linear', label: 'y', features: 'x0,x1', rounds: '5', lr: '0.2', aggregate: 'mean' }), { job: voted.id, chunkSize })
    expect(voted.bytes).toBe(dec(local.result as Uint8Array))
  }, 180_000)

  it('evaluate and predict equal their local computations; model show reads the model', async () => {
    const nodes = await swarm(t.node, 3)
    const values = Array.from({ length: 300 }, (_, i) => [Math.sin(i), Math.cos(i * 0.7), Math.sin(i * 0.3), 0])
    const csv = csvOf('softmax', 3, values)
    const heldOut = csvOf('softmax', 3, values.slice(0, 120).map(v => v.map(x => x * 0.9)))
    const input = (await nodes[0].data.put(enc(csv), { chunkSize: 2048 })).toString()
    const test = (await nodes[1].data.put(enc(heldOut), { chunkSize: 1024 })).toString()
    const job = await nodes[2].jobs.train({ kind: 'softmax', inputs: [input], label: 'y', rounds: 6, lr: 0.5, standardize: true })
    const { model: modelCid, classes } = JSON.parse(dec(await job.result({ signal: AbortSignal.timeout(60_000) })))
    expect(classes).toEqual(['a', 'b', 'c'])
    const view = await nodes[0].jobs.model(modelCid)
    expect(view).toMatchObject({ cid: modelCid, kind: 'softmax', label: 'y', features: ['x0', 'x1', 'x2'], classes: ['a', 'b', 'c'], round: 6, job: job.id })
    expect(view.weights).toHaveLength(3)
    // the dashboard's job view charts the rounds: each one's loss and model, the last model the result's
    const rounds = (await jobView(nodes[2], job.id)).rounds ?? []
    expect(rounds.map(r => r.round)).toEqual([0, 1, 2, 3, 4, 5])
    expect(rounds.every(r => Number.isFinite(r.loss))).toBe(true)
    expect(rounds[5].model).toBe(modelCid)
    expect(rounds).toEqual(job.status().rounds)
    expect(view.standardization?.mean).toHaveLength(3)
    const model = decodeModel(await (async () => {
      const local = await trainLocally(enc(csv), parseTrainSpec({ kind: 'softmax', label: 'y', features: 'x0,x1,x2', rounds: '6', lr: '0.5', standardize: 'true' }), { job: job.id, chunkSize: 2048 })
      return local.states[local.states.length - 1]
    })())
    const evaluation = await nodes[1].jobs.submit({ fn: 'evaluate', inputs: [test], params: { model: modelCid, label: 'y' } })
    expect(dec(await evaluation.result({ signal: AbortSignal.timeout(30_000) }))).toBe(dec(evaluateLocally([enc(heldOut)], model, 'y')))
    const predictions = await nodes[0].jobs.submit({ fn: 'predict', inputs: [test], params: { model: modelCid } })
    expect(dec(await predictions.result({ signal: AbortSignal.timeout(30_000) }))).toBe(dec(predictLocally([enc(heldOut)], model)))
  }, 120_000)

  it('every bad input is one clear error, with nothing announced; a training that diverges fails with its round and reason', async () => {
    const [a, b] = await swarm(t.node, 2)
    const csv = 'device,temp,hum\npi,20.5,40\ngw,22,41\npi,19,39\n'
    const input = (await a.data.put(enc(csv))).toString()
    const words = (await a.data.put(enc('device,place\npi,hall\n'))).toString()
    const notModel = (await a.data.put(enc('{"not":"a model"}'))).toString()
    const base: TrainSpec = { kind: 'linear', inputs: [input], label: 'hum' }
    const refused = async (spec: Partial<TrainSpec>, message: RegExp): Promise<void> => {
      await expect(a.jobs.train({ ...base, ...spec })).rejects.toThrow(message)
    }
    await refused({ kind: 'forest' }, /unknown model kind "forest"/)
    await refused({ label: 'pressure' }, /label "pressure" is not a column/)
    await refused({ inputs: [words], label: 'place' }, /no numeric feature/)
    await refused({ rounds: 0 }, /rounds/)
    await refused({ rounds: 100_001 }, /rounds/)
    await refused({ lr: 0 }, /lr must be a finite number above 0/)
    await refused({ lr: -1 }, /lr must be a finite number above 0/)
    await refused({ lr: Infinity }, /lr must be a finite/)
    await refused({ aggregate: 'trimmed-mean', trim: 0.5 }, /trim must be in \[0, 0.5\)/)
    await refused({ aggregate: 'trimmed-mean', trim: -0.1 }, /trim must be in \[0, 0.5\)/)
    await refused({ features: ['temp', 'wind'] }, /feature "wind" is not a column/)
    // a model that is not a model, or whose features are not the input's
    const job = await a.jobs.train({ ...base, rounds: 2, lr: 0.01 })
    const { model } = JSON.parse(dec(await job.result({ signal: AbortSignal.timeout(30_000) })))
    const inference = async (fn: string, params: Record<string, string>, inputs = [input]): Promise<unknown> => await a.jobs.submit({ fn, inputs, params })
    await expect(inference('predict', { model: notModel })).rejects.toThrow(/not a model/)
    await expect(inference('evaluate', { model: cidOf(enc('nobody has this')).toString(), label: 'hum' })).rejects.toThrow(/no peer has it/)
    await expect(inference('predict', { model }, [words])).rejects.toThrow(/not a column of the input/)
    await expect(inference('evaluate', { model, label: 'nope' })).rejects.toThrow(/label "nope" is not a column/)
    await expect(a.jobs.model(notModel)).rejects.toThrow(InvalidParamsError)
    // nothing but the good training reached the swarm
    expect(a.jobs.list().map(j => j.id)).toEqual([job.id])
    expect(b.jobs.list().map(j => j.id)).toEqual([job.id])
    // a learning rate that makes the loss explode: failed, with the round and the reason, no NaN anywhere
    const wild = await a.jobs.train({ ...base, rounds: 200, lr: 1e6 })
    await expect(wild.result({ signal: AbortSignal.timeout(60_000) })).rejects.toThrow(JobFailedError)
    const view = wild.status()
    expect(view.status).toBe('failed')
    expect(view.reason).toMatch(/^round \d+: .*(not finite|diverged)/)
    expect(view.rounds?.every(r => Number.isFinite(r.loss))).toBe(true)
  }, 120_000)
})

