import { afterAll, describe, expect, it } from 'vitest'
import {
  DatasetError, encodeModel, parseTrainSpec, reduceScan, runMlTask, TaskThreads, type MlTaskRequest
} from '../../src/ml/index.ts'

const encode = (s: string): Uint8Array => new TextEncoder().encode(s)
const header = 'a,b,c'
const input = encode([header, ...Array.from({ length: 500 }, (_, i) => `${Math.sin(i)},${i % 7},${['x', 'y', 'z'][i % 3]}`)].join('\n') + '\n')
const params = { kind: 'softmax', label: 'c', features: 'a,b', rounds: '1', standardize: 'true' }
const scan: MlTaskRequest = { op: 'train', input, header, taskIndex: 0, params, job: 'j', pass: 0, state: null }
const scanned = reduceScan([runMlTask(scan)], parseTrainSpec(params))
if ('failure' in scanned) throw new Error(scanned.failure)
const state = encodeModel(scanned.model)

const pools: TaskThreads[] = []
const pool = (threads: number): TaskThreads => {
  const p = new TaskThreads({ threads })
  pools.push(p)
  return p
}
afterAll(async () => { await Promise.all(pools.map(async p => { await p.close() })) })

describe('TaskThreads', () => {
  it('gives the bytes the caller\'s thread computes, for every kind of task', async () => {
    const threads = pool(2)
    const requests: MlTaskRequest[] = [
      scan,
      { ...scan, pass: 1, state },
      { ...scan, pass: 1, state, params: { ...params, localSteps: '5', batchSize: '16' } },
      { op: 'predict', input, header, taskIndex: 0, model: state },
      { op: 'evaluate', input, header, taskIndex: 0, model: state, label: 'c' }
    ]
    const bytes = (b: Uint8Array): Uint8Array => new Uint8Array(b)
    const onThreads = await Promise.all(requests.map(async r => await threads.run(r)))
    expect(onThreads.map(bytes)).toEqual(requests.map(r => bytes(runMlTask(r))))
    expect(threads.stats.started).toBeGreaterThanOrEqual(1)
    expect(threads.stats.runs).toBe(requests.length)
    // the caller's bytes are copied, never handed over
    expect(input.byteLength).toBeGreaterThan(0)
    expect(state.byteLength).toBeGreaterThan(0)
  })

  it('sends a task back to the thread that last ran its input, a view of a larger buffer as its bytes alone', async () => {
    const threads = pool(2)
    const big = new Uint8Array(input.length + 1_000_000)
    big.set(input, 500_000)
    expect(new Uint8Array(await threads.run({ ...scan, input: big.subarray(500_000, 500_000 + input.length) }))).toEqual(new Uint8Array(runMlTask(scan)))
    await threads.run(scan)
    const before = threads.stats.affine
    await threads.run({ ...scan, pass: 1, state })
    expect(threads.stats.affine).toBe(before + 1)
  })

  it('rejects with the task\'s error class and message', async () => {
    const threads = pool(1)
    const bad = { ...scan, params: { ...params, label: 'nope' } }
    await expect(threads.run(bad)).rejects.toThrow(DatasetError)
    await expect(threads.run(bad)).rejects.toThrow('label "nope" is not a column of the header (columns: a, b, c)')
    // the thread survives its task's error
    expect(new Uint8Array(await threads.run(scan))).toEqual(new Uint8Array(runMlTask(scan)))
    expect(threads.stats.started).toBe(1)
  })

  it('stops a running task when aborted, keeps its thread, and drops a queued one', async () => {
    const threads = pool(1)
    const endless: MlTaskRequest = { ...scan, pass: 1, state, params: { ...params, localSteps: '100000', batchSize: '500' } }
    const running = new AbortController()
    const queued = new AbortController()
    const first = threads.run(endless, { signal: running.signal })
    const second = threads.run(endless, { signal: queued.signal })
    await new Promise(resolve => setTimeout(resolve, 300))
    const reason = new Error('stop')
    queued.abort(reason)
    await expect(second).rejects.toBe(reason)
    const started = Date.now()
    running.abort(reason)
    await expect(first).rejects.toBe(reason)
    expect(Date.now() - started).toBeLessThan(2000)
    expect(new Uint8Array(await threads.run(scan))).toEqual(new Uint8Array(runMlTask(scan)))
    expect(threads.stats.started).toBe(1)
  })

  it('runs in the caller\'s thread with 0 threads, and rejects queued tasks on close', async () => {
    expect(new Uint8Array(await new TaskThreads({ threads: 0 }).run(scan))).toEqual(new Uint8Array(runMlTask(scan)))
    const threads = new TaskThreads({ threads: 1 })
    const endless: MlTaskRequest = { ...scan, pass: 1, state, params: { ...params, localSteps: '100000', batchSize: '500' } }
    const a = expect(threads.run(endless)).rejects.toThrow('closed')
    const b = expect(threads.run(scan)).rejects.toThrow('closed')
    await threads.close()
    await a
    await b
  })
})
