import * as dagCbor from '@ipld/dag-cbor'
import { describe, expect, it } from 'vitest'
import {
  evaluate, InvalidParamsError, InvalidTaskInputError, InvalidTaskResultError, predict, resolveFeatures, train, trainFunction
} from '../../src/functions/index.ts'
import { encodeModel, parseTrainSpec, TaskThreads, trainLocally, type Model } from '../../src/ml/index.ts'
import { runPasses } from '../ml/swarm-passes.ts'
import { cutAt } from './partition.ts'

const encode = (s: string): Uint8Array => new TextEncoder().encode(s)
const cid = 'bafyreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku'
const model: Model = { kind: 'logistic', label: 'alarm', features: ['temp', 'hum'], classes: ['0', '1'], standardization: null, weights: new Float64Array(3), round: 2, job: 'j', records: 4, skipped: 0 }

describe('train', () => {
  it('refuses bad params and inputs with one clear line each, before anything runs', () => {
    const bad = (params: Record<string, string>, message: string): void => {
      expect(() => train.validateParams?.(params)).toThrow(InvalidParamsError)
      expect(() => train.validateParams?.(params)).toThrow(message)
    }
    bad({ kind: 'forest', label: 'y' }, 'train: unknown model kind "forest"')
    bad({ kind: 'linear', label: 'y', rounds: '0' }, 'train: rounds must be an integer from 1 to 100000, got "0"')
    bad({ kind: 'linear', label: 'y', lr: '0' }, 'train: lr must be a finite number above 0')
    bad({ kind: 'linear', label: 'y', aggregate: 'trimmed-mean', trim: '0.7' }, 'train: trim must be in [0, 0.5)')
    expect(() => train.validateParams?.({ kind: 'linear', label: 'y' })).not.toThrow()
    const input = (header: string | null, params: Record<string, string>, firstRecord?: string | null): void => {
      (train.checkInput as (h: string | null, p: Record<string, string>, b: Record<string, Uint8Array>, f?: string | null) => void)(header, params, {}, firstRecord)
    }
    expect(() => { input('a,b', { kind: 'linear', label: 'y' }, '1,2') }).toThrow('train: label "y" is not a column of the header (columns: a, b)')
    expect(() => { input('a,b,y', { kind: 'linear', label: 'y' }, 'x,2,3') }).toThrow('train: parameter "features" is required (the numeric columns of the input are b)')
    expect(() => { input('a,y', { kind: 'linear', label: 'y' }, 'x,3') }).toThrow('train: no numeric feature')
    expect(() => { input('a,b,y', { kind: 'linear', label: 'y', features: 'a,c' }) }).toThrow('train: feature "c" is not a column of the header (columns: a, b, y)')
    expect(() => { input(null, { kind: 'linear', label: 'y' }) }).toThrow('train: the input is empty: it has no header line')
    expect(() => { input('a,b,y', { kind: 'linear', label: 'y', features: 'a' }) }).not.toThrow()
    expect(() => resolveFeatures('name,y', 'bob,1', 'y')).toThrow(InvalidParamsError)
    expect(resolveFeatures('name,a,y', 'bob,1.5,1', 'y')).toEqual(['a'])
  })

  it('runs 1 + rounds passes and only as passes', async () => {
    expect(train.passes?.count({ kind: 'linear', label: 'y', rounds: '7' })).toBe(8)
    expect(train.passes?.count({ kind: 'linear', label: 'y' })).toBe(11)
    await expect(train.run(new Uint8Array(0), {}, { taskIndex: 0, taskCount: 1, header: null })).rejects.toThrow(InvalidParamsError)
  })

  it('maps a task\'s data errors to InvalidTaskInputError and malformed results to InvalidTaskResultError', async () => {
    const fn = trainFunction({ threads: new TaskThreads({ threads: 0 }) })
    const params = { kind: 'linear', label: 'y', features: 'a' }
    await expect(fn.passes?.run(encode('b,y\n1,2\n'), params, { taskIndex: 0, taskCount: 1, header: 'b,y', pass: 0, job: 'j' }))
      .rejects.toThrow(new InvalidTaskInputError('train: feature "a" is not a column of the header (columns: b, y)'))
    await expect(fn.passes?.reduce(0, null, [encode('not cbor')], params)).rejects.toThrow(InvalidTaskResultError)
    await expect(fn.passes?.reduce(0, null, [dagCbor.encode({ t: 'gradient', n: 1 })], params)).rejects.toThrow('train: task result is a "gradient" result, not a "scan" result')
    await expect(fn.passes?.reduce(1, encodeModel({ ...model, round: 0 }), [], params)).rejects.toThrow(InvalidTaskInputError)
  })

  it('trains on the shared worker threads to the bits of trainLocally, and finishes with the result shape', async () => {
    const csv = encode(['t,h,alarm', ...Array.from({ length: 120 }, (_, i) => `${20 + (i % 13)},${(i * 7) % 100},${i % 13 > 8 ? 1 : 0}`)].join('\n') + '\n')
    const params = { kind: 'logistic', label: 'alarm', features: 't,h', rounds: '4', standardize: 'true' }
    const swarm = await runPasses(train, [cutAt(csv, [100, 400, 401, 900])], params, 'job-x', n => Array.from({ length: n }, (_, i) => n - 1 - i))
    const local = await trainLocally(csv, parseTrainSpec(params), { job: 'job-x' })
    expect(swarm.states.map(s => new Uint8Array(s))).toEqual(local.states.map(s => new Uint8Array(s)))
    const result = JSON.parse(new TextDecoder().decode(swarm.result ?? new Uint8Array(0)))
    expect(Object.keys(result)).toEqual(['model', 'rounds', 'loss', 'classes'])
    expect(result.rounds).toBe(4)
    expect(result.loss).toEqual(local.loss)
    expect(result.classes).toEqual(['0', '1'])
    expect(result.loss[3]).toBeLessThan(result.loss[0])
  })
})

describe('predict and evaluate', () => {
  it('refuse bad params, a block that is not a model, and inputs that lack its columns', () => {
    for (const fn of [predict, evaluate]) {
      expect(() => fn.validateParams?.({})).toThrow(`${fn.name}: parameter "model" (the CID of a trained model) is required`)
      expect(() => fn.validateParams?.({ model: 'not-a-cid' })).toThrow(`${fn.name}: model must be a CID, got "not-a-cid"`)
      expect(() => fn.validateParams?.({ model: cid, colour: 'red' })).toThrow(`${fn.name}: unknown parameter "colour"`)
      expect(fn.blockParams).toEqual(['model'])
      const check = (header: string | null, block: Uint8Array, params: Record<string, string> = {}): void => { fn.checkInput?.(header, { model: cid, ...params }, { model: block }) }
      expect(() => { check('temp,hum,alarm', dagCbor.encode({ type: 'edgeswarm/file' })) }).toThrow(`${fn.name}: model ${cid}: not a model: its type is "edgeswarm/file", not "edgeswarm/model"`)
      expect(() => { check('temp,hum,alarm', encode('hello')) }).toThrow(InvalidParamsError)
      expect(() => { check('temp,alarm', encodeModel(model)) }).toThrow(`${fn.name}: the model's feature "hum" is not a column of the input (columns: temp, alarm)`)
      expect(() => { check(null, encodeModel(model)) }).toThrow(`${fn.name}: the input is empty`)
      expect(() => { check('temp,hum,alarm', encodeModel(model)) }).not.toThrow()
    }
    expect(() => { evaluate.checkInput?.('temp,hum', { model: cid }, { model: encodeModel(model) }) }).toThrow('evaluate: the model\'s label "alarm" is not a column of the input (give label=<column>)')
    expect(() => { evaluate.checkInput?.('temp,hum,alarm', { model: cid, label: 'fire' }, { model: encodeModel(model) }) }).toThrow('evaluate: label "fire" is not a column of the input')
  })

  it('fail a task the executor gave no model block', async () => {
    await expect(predict.run(encode('temp,hum\n1,2\n'), { model: cid }, { taskIndex: 0, taskCount: 1, header: 'temp,hum' })).rejects.toThrow(InvalidTaskInputError)
  })
})
