import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { evaluateFunction, predictFunction } from '../../src/functions/index.ts'
import {
  encodeModel, evaluateLocally, parseTrainSpec, predictLocally, TaskThreads, trainLocally, decodeModel, type Model, type ModelKind
} from '../../src/ml/index.ts'
import { cutAt, runPartitioned } from '../functions/partition.ts'
import { cutsOf, datasetOf } from './datasets.ts'

const threads = new TaskThreads({ threads: 0 })
const predict = predictFunction({ threads })
const evaluate = evaluateFunction({ threads })
const encode = (s: string): Uint8Array => new TextEncoder().encode(s)
const decode = (b: Uint8Array): string => new TextDecoder().decode(b)
const cid = 'bafyreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku'

function model (patch: Partial<Model>): Model {
  return { kind: 'linear', label: 'y', features: ['x'], classes: [], standardization: null, weights: Float64Array.of(1, 2), round: 1, job: '', records: 1, skipped: 0, ...patch }
}

describe('predict', () => {
  it('writes one line per record, in record order, empty for a record whose features do not parse', async () => {
    const m = encodeModel(model({ standardization: { mean: Float64Array.of(1), std: Float64Array.of(2) } }))
    const csv = encode('y,x\n0,1\n0,3\n0,oops\n\n0,-1\n')
    // z = (x − 1) / 2; prediction 1 + 2z
    const expected = '1\n3\n\n\n-1\n'
    expect(decode(predictLocally([csv], decodeModel(m)))).toBe(expected)
    for (const cuts of [[], [4], [5, 9, 14, 15]]) {
      expect(await runPartitioned(predict, [cutAt(csv, cuts)], { model: cid }, { model: m })).toBe(expected)
    }
  })

  it('predicts the first class at the top score (softmax) and class 1 at a score of 0 or more (logistic)', async () => {
    const softmax = encodeModel(model({ kind: 'softmax', classes: ['lo', 'mid', 'hi'], weights: Float64Array.of(0, -1, 1, 0, 0, 1) }))
    expect(await runPartitioned(predict, [[encode('x\n-2\n0\n2\n1\n')]], { model: cid }, { model: softmax })).toBe('lo\nmid\nhi\nmid\n')
    const logistic = encodeModel(model({ kind: 'logistic', classes: ['0', '1'], weights: Float64Array.of(-1, 1) }))
    expect(await runPartitioned(predict, [[encode('x\n0.5\n1\n3\n')]], { model: cid }, { model: logistic })).toBe('0\n1\n1\n')
  })
})

describe('evaluate', () => {
  it('reports count, rmse and loss of a linear model, and skipped records', async () => {
    const m = encodeModel(model({}))
    // predictions 1 + 2x: errors 0, 1, -2 over three records; one label does not parse
    const csv = encode('x,y\n0,1\n1,2\n2,7\n3,?\n')
    const out = JSON.parse(await runPartitioned(evaluate, [cutAt(csv, [6, 10])], { model: cid }, { model: m }))
    expect(out).toEqual({ count: 3, rmse: Math.sqrt(5 / 3), loss: (0.5 + 2) / 3, skipped: 1 })
  })

  it('reports accuracy, loss and the confusion matrix (rows actual, columns predicted) of a classifier', async () => {
    const m = encodeModel(model({ kind: 'softmax', label: 'c', classes: ['lo', 'mid', 'hi'], weights: Float64Array.of(0, -1, 1, 0, 0, 1) }))
    const csv = encode('x,c\n-2,lo\n0,lo\n2,hi\n1,mid\n5,other\n')
    const out = JSON.parse(await runPartitioned(evaluate, [cutAt(csv, [9])], { model: cid }, { model: m }))
    expect(out.count).toBe(4)
    expect(out.accuracy).toBe(3 / 4)
    expect(out.confusion).toEqual([[1, 1, 0], [0, 1, 0], [0, 0, 1]])
    expect(out.classes).toEqual(['lo', 'mid', 'hi'])
    expect(out.skipped).toBe(1)
  })

  it('equals the single-machine evaluation, whatever the cut, for trained models of every kind', async () => {
    await fc.assert(fc.asyncProperty(
      fc.constantFrom<ModelKind>('linear', 'logistic', 'softmax').chain(kind => fc.tuple(fc.constant(kind), datasetOf(kind))), fc.nat(),
      async ([kind, data], seed) => {
        const run = await trainLocally(data.csv, parseTrainSpec({ kind, label: 'y', features: data.features.join(','), rounds: '2', standardize: 'true' }))
        fc.pre(run.failure === null)
        const bytes = run.states[run.states.length - 1]
        const cuts = fc.sample(cutsOf(data.csv.length), { seed, numRuns: 1 })[0]
        const swarm = await runPartitioned(evaluate, [cutAt(data.csv, cuts)], { model: cid }, { model: bytes })
        expect(swarm).toBe(decode(evaluateLocally([data.csv], decodeModel(bytes), 'y')))
        const predicted = await runPartitioned(predict, [cutAt(data.csv, cuts)], { model: cid }, { model: bytes })
        expect(predicted).toBe(decode(predictLocally([data.csv], decodeModel(bytes))))
        expect(predicted.split('\n').length - 1).toBe(data.rows)
      }
    ), { numRuns: 50 })
  })
})
