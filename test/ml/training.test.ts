import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { trainFunction } from '../../src/functions/index.ts'
import {
  decodeModel, parseTrainSpec, TaskThreads, trainLocally, type ModelKind
} from '../../src/ml/index.ts'
import { cutAt } from '../functions/partition.ts'
import { chunkCuts, cutsOf, datasetOf, shuffled } from './datasets.ts'
import { runPasses, type PassesRun } from './swarm-passes.ts'

const inProcess = trainFunction({ threads: new TaskThreads({ threads: 0 }) })
const kinds: ModelKind[] = ['linear', 'logistic', 'softmax']
const encode = (s: string): Uint8Array => new TextEncoder().encode(s)
const decode = (b: Uint8Array | null): string => b === null ? '' : new TextDecoder().decode(b)

/** The swarm run and the single-machine run agree: same failure, every state's bytes, the result. */
function expectSameTraining (swarm: PassesRun, local: Awaited<ReturnType<typeof trainLocally>>): void {
  expect(swarm.failure).toBe(local.failure)
  expect(swarm.states.length).toBe(local.states.length)
  swarm.states.forEach((state, i) => { expect(state).toEqual(local.states[i]) })
  expect(decode(swarm.result)).toBe(decode(local.result))
  expect(swarm.reports.slice(1).map(r => r.loss)).toEqual(local.loss)
}

describe('train: full-batch rounds', () => {
  it('gives the bits of the single-machine computation for any data, cut, completion order and kind', async () => {
    await fc.assert(fc.asyncProperty(
      fc.constantFrom(...kinds).chain(kind => fc.tuple(fc.constant(kind), datasetOf(kind))),
      fc.boolean(), fc.integer({ min: 1, max: 3 }), fc.constantFrom('0.05', '0.3', '1.5'), fc.nat(), fc.nat(),
      async ([kind, data], standardize, rounds, lr, cutSeed, orderSeed) => {
        const params = { kind, label: data.label, features: data.features.join(','), rounds: String(rounds), lr, standardize: String(standardize), l2: '0.01' }
        const cuts = fc.sample(cutsOf(data.csv.length), { seed: cutSeed, numRuns: 1 })[0]
        const swarm = await runPasses(inProcess, [cutAt(data.csv, cuts)], params, 'job-1', (n, pass) => shuffled(n, orderSeed + pass))
        const local = await trainLocally(data.csv, parseTrainSpec(params), { job: 'job-1' })
        expectSameTraining(swarm, local)
      }
    ), { numRuns: 60 })
  })

  it('adds several input files, each with its own header and column order', async () => {
    const a = encode('x,z,y\n1,5,0\n2,1,1\n3,0,1\n')
    const b = encode('y,x,z\n0,-1,2\n1,4,4\n')
    const params = { kind: 'logistic', label: 'y', features: 'x,z', rounds: '3', standardize: 'true' }
    const swarm = await runPasses(inProcess, [cutAt(a, [7]), cutAt(b, [3, 9])], params, 'j')
    const local = await trainLocally([a, b], parseTrainSpec(params), { job: 'j' })
    expectSameTraining(swarm, local)
    expect(decodeModel(local.states[0]).records).toBe(5)
  })

  it('computes the documented update: θ1 = θ0 − α·(∇/n + λ·θ0), intercepts unpenalized, loss at θ0', async () => {
    // linear, no standardization: at θ0 = 0 every residual is −y
    const csv = encode('x,y\n1,2\n3,4\n')
    const params = { kind: 'linear', label: 'y', features: 'x', rounds: '2', lr: '0.1', l2: '0.5' }
    const local = await trainLocally(csv, parseTrainSpec(params))
    const θ1 = decodeModel(local.states[1]).weights
    // ∇ = Σ e·[1, x] with e = −y: [−6, −14]; n = 2
    expect([...θ1]).toEqual([0 - 0.1 * (-6 / 2), 0 - 0.1 * (-14 / 2 + 0.5 * 0)])
    expect(local.loss[0]).toBe((0.5 * 4 + 0.5 * 16) / 2)
    // round 1 at θ1: e_i = b + w·x_i − y_i, the intercept without λ, the weight with it
    const [b, w] = θ1
    const e = [b + w * 1 - 2, b + w * 3 - 4]
    const θ2 = decodeModel(local.states[2]).weights
    expect([...θ2]).toEqual([b - 0.1 * ((e[0] + e[1]) / 2), w - 0.1 * ((e[0] * 1 + e[1] * 3) / 2 + 0.5 * w)])
    expect(local.loss[1]).toBe((0.5 * (e[0] * e[0]) + 0.5 * (e[1] * e[1])) / 2)
  })

  it('starts logistic and softmax at log 2 and log K, with the gradients of p − y', async () => {
    const csv = encode('x,y,c\n2,1,a\n-1,0,b\n4,1,c\n')
    const logistic = await trainLocally(csv, parseTrainSpec({ kind: 'logistic', label: 'y', features: 'x', rounds: '1', lr: '1' }))
    // the exact sum of three equal losses, rounded once, over 3
    expect(logistic.loss[0]).toBe((3 * Math.log(2)) / 3)
    // ∇ = Σ (0.5 − y)·[1, x] = [−0.5, −0.5·2 + 0.5·(−1) − 0.5·4] = [−0.5, −3.5]
    expect([...decodeModel(logistic.states[1]).weights]).toEqual([0.5 / 3, 3.5 / 3])
    const softmax = await trainLocally(csv, parseTrainSpec({ kind: 'softmax', label: 'c', features: 'x', rounds: '1', lr: '1' }))
    expect(softmax.loss[0]).toBe((3 * Math.log1p(2)) / 3)
    expect(decodeModel(softmax.states[0]).classes).toEqual(['a', 'b', 'c'])
  })

  it('standardizes with the exact mean and population standard deviation; a constant column is centered only', async () => {
    // (values below 1e-100 would make squares whose rounding error underflows: exact only above)
    const value = fc.double({ min: -1e6, max: 1e6, noNaN: true }).filter(v => v === 0 || Math.abs(v) > 1e-100)
    await fc.assert(fc.asyncProperty(fc.array(value, { minLength: 1, maxLength: 30 }), async values => {
      const csv = encode(['x,k,y', ...values.map(v => `${v},3,1`)].join('\n'))
      const local = await trainLocally(csv, parseTrainSpec({ kind: 'linear', label: 'y', features: 'x,k', rounds: '1', standardize: 'true' }))
      const s = decodeModel(local.states[0]).standardization
      if (s === null) throw new Error('no standardization')
      const { mean, variance } = exactMoments(values)
      expect(s.mean[0]).toBe(mean)
      expect(s.std[0]).toBe(Math.sqrt(variance))
      expect([s.mean[1], s.std[1]]).toEqual([3, 0])
    }), { numRuns: 100 })
  })
})

describe('train: local steps and robust aggregation', () => {
  it('gives the bits of the single-machine computation for the same shards, in any completion order', async () => {
    await fc.assert(fc.asyncProperty(
      fc.constantFrom(...kinds).chain(kind => fc.tuple(fc.constant(kind), datasetOf(kind, 30))),
      fc.constantFrom('mean', 'median', 'trimmed-mean'), fc.boolean(), fc.integer({ min: 40, max: 300 }), fc.nat(),
      fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 5 }),
      async ([kind, data], aggregate, local, chunkSize, orderSeed, steps, batch) => {
        const params: Record<string, string> = { kind, label: data.label, features: data.features.join(','), rounds: '2', lr: '0.05', standardize: 'true', aggregate }
        if (local) Object.assign(params, { localSteps: String(steps), batchSize: String(batch) })
        if (aggregate === 'trimmed-mean') params.trim = '0.2'
        const swarm = await runPasses(inProcess, [cutAt(data.csv, chunkCuts(data.csv.length, chunkSize))], params, 'job-2', (n, pass) => shuffled(n, orderSeed + pass))
        const reference = await trainLocally(data.csv, parseTrainSpec(params), { job: 'job-2', chunkSize })
        expectSameTraining(swarm, reference)
      }
    ), { numRuns: 60 })
  })

  it('depends on the seed of (job, round, task): another job id draws other batches', async () => {
    const rows = ['x,y', ...Array.from({ length: 40 }, (_, i) => `${i % 7},${(i * 3) % 5}`)]
    const csv = encode(rows.join('\n'))
    const spec = parseTrainSpec({ kind: 'linear', label: 'y', features: 'x', rounds: '1', lr: '0.01', localSteps: '3', batchSize: '4' })
    const a = await trainLocally(csv, spec, { job: 'a' })
    const b = await trainLocally(csv, spec, { job: 'b' })
    expect(a.states[1]).not.toEqual(b.states[1])
    expect(await trainLocally(csv, spec, { job: 'a' })).toEqual(a)
  })

  it('keeps a model close to the clean one under a shard with scaled gradients with median and trimmed mean, not with mean', async () => {
    // six shards (one file each); the liar's labels, hence its residuals and gradient terms, are scaled by -1000
    const shard = (k: number, scale: number): Uint8Array => encode(['x,y', ...Array.from({ length: 30 }, (_, i) => {
      const x = ((i + k * 7) % 20) / 10
      return `${x},${(2 * x + 1) * scale}`
    })].join('\n') + '\n')
    const clean = [0, 1, 2, 3, 4, 5].map(k => shard(k, 1))
    const poisoned = [shard(0, -1000), ...clean.slice(1)]
    const train = async (files: Uint8Array[], aggregate: string): Promise<Float64Array> => {
      const spec = parseTrainSpec({ kind: 'linear', label: 'y', features: 'x', rounds: '40', lr: '0.3', aggregate, ...(aggregate === 'trimmed-mean' ? { trim: '0.2' } : {}) })
      const run = await trainLocally(files, spec)
      return decodeModel(run.states[run.states.length - 1]).weights
    }
    const truth = await train(clean, 'mean')
    const distance = (w: Float64Array): number => Math.hypot(w[0] - truth[0], w[1] - truth[1])
    expect(distance(await train(poisoned, 'median'))).toBeLessThan(0.1)
    expect(distance(await train(poisoned, 'trimmed-mean'))).toBeLessThan(0.1)
    expect(distance(await train(poisoned, 'mean'))).toBeGreaterThan(100)
  })
})

describe('train: failures', () => {
  const run = async (csv: string, params: Record<string, string>): Promise<{ swarm: PassesRun, local: Awaited<ReturnType<typeof trainLocally>> }> => {
    const bytes = encode(csv)
    const swarm = await runPasses(inProcess, [cutAt(bytes, [5, 11])], params, 'j')
    const local = await trainLocally(bytes, parseTrainSpec(params), { job: 'j' })
    expectSameTraining(swarm, local)
    return { swarm, local }
  }

  it('ends a diverging training failed, naming the round, with no NaN anywhere', async () => {
    const { swarm } = await run('x,y\n1e150,1\n-3e150,2\n', { kind: 'linear', label: 'y', features: 'x', rounds: '6', lr: '1' })
    expect(swarm.failure).toMatch(/^round \d: .*not finite.*diverged/)
    expect(swarm.result).toBeNull()
    for (const state of swarm.states) expect([...decodeModel(state).weights].every(Number.isFinite)).toBe(true)
  })

  it('refuses a training with no record, bad logistic labels, one softmax class or overflowing squares', async () => {
    expect((await run('x,y\na,1\n', { kind: 'linear', label: 'y', features: 'x' })).swarm.failure).toBe('scan: no record to train on (1 rows skipped because their label or a feature did not parse)')
    expect((await run('x,y\n1,0\n2,2\n3,-4\n', { kind: 'logistic', label: 'y', features: 'x' })).swarm.failure)
      .toBe('scan: label "y" of a logistic model must be 0 or 1, but 2 records hold other numbers (the smallest: -4); kind=softmax learns more classes')
    expect((await run('x,y\n1,a\n2,a\n', { kind: 'softmax', label: 'y', features: 'x' })).swarm.failure).toBe('scan: label "y" has a single value ("a"): a softmax model needs at least 2 classes')
    expect((await run('x,y\n1e200,1\n2,0\n', { kind: 'linear', label: 'y', features: 'x', standardize: 'true' })).swarm.failure).toBe('scan: feature "x" has values too large to standardize (their squares overflow)')
  })

  it('skips and counts rows whose label or a feature does not parse', async () => {
    const { local } = await run('x,y\n1,2\n,3\n4,\nfive,6\n7,8,extra\n9\n', { kind: 'linear', label: 'y', features: 'x', rounds: '1' })
    const model = decodeModel(local.states[0])
    expect([model.records, model.skipped]).toEqual([2, 4])
  })
})

/** Σx/n and Σx²/n − (Σx/n)² of exact values, each rounded once (BigInt rationals, computed independently). */
function exactMoments (values: number[]): { mean: number, variance: number } {
  // every double is an integer over 2^1074; scale to integers
  const scaled = values.map(v => exactScaled(v))
  const n = BigInt(values.length)
  const s1 = scaled.reduce((a, b) => a + b, 0n)
  const s2 = scaled.reduce((a, b) => a + b * b, 0n)
  const scale = 1n << 1074n
  const mean = ratioToNumber(s1, n * scale)
  const num = n * s2 - s1 * s1
  const variance = num <= 0n ? 0 : ratioToNumber(num, n * n * scale * scale)
  return { mean, variance }
}

function exactScaled (v: number): bigint {
  // v = m·2^e exactly; return v·2^1074 as an integer
  if (v === 0) return 0n
  let m = Math.abs(v)
  let e = 0
  while (!Number.isInteger(m)) { m *= 2; e-- }
  const units = BigInt(m) << BigInt(1074 + e)
  return v < 0 ? -units : units
}

/** num/den rounded to the nearest double (ties to even), for normal results, by exact binary division. */
function ratioToNumber (num: bigint, den: bigint): number {
  const negative = (num < 0n) !== (den < 0n)
  let a = num < 0n ? -num : num
  let b = den < 0n ? -den : den
  // scale so the quotient has 64 to 66 bits
  const shift = 64 - (a.toString(2).length - b.toString(2).length)
  if (shift >= 0) a <<= BigInt(shift)
  else b <<= BigInt(-shift)
  const q = a / b
  const sticky = a % b !== 0n
  const drop = q.toString(2).length - 53
  let kept = q >> BigInt(drop)
  const rest = q - (kept << BigInt(drop))
  const half = 1n << BigInt(drop - 1)
  if (rest > half || (rest === half && (sticky || (kept & 1n) === 1n))) kept += 1n
  const value = Number(kept) * 2 ** (drop - shift)
  return negative ? -value : value
}
