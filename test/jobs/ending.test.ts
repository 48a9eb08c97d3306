/**
 * How a job ends without its result, without a network: a cancel counts only
 * from the submitter, a deadline ignores facts stamped after it, a `done`
 * no later than the cancel or the deadline wins, and every peer folds the
 * same outcome whatever order the facts arrive in, the document first or
 * last. And the "nobody can run this job" warning names the unmet requirement.
 */
import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import { JobState, formatDuration, unmetRequirement, type Fact, type JobDocument, type RunnerStatus, type SignedFact } from '../../src/jobs/index.ts'

const SUBMITTER = 'peer-a'
const PEERS = [SUBMITTER, 'peer-b', 'peer-c']

function doc (tasks: number, deadline?: number): JobDocument {
  const d: JobDocument = {
    type: 'edgeswarm/job', version: 1, fn: 'square', wasm: null, inputs: ['x'], inputShards: [tasks], params: {},
    redundancy: 1, requirements: { minMemoryMB: 0, gpu: false, labels: [] }, priority: 'batch', maxAttempts: 3,
    leaseMs: 1000, submitter: SUBMITTER, createdAt: 1000, tasks: Array.from({ length: tasks }, (_, s) => ({ i: 0, s, cid: `c${s}` }))
  }
  if (deadline != null) d.deadline = deadline
  return d
}

let seq = 0
function signed (from: string, fact: Fact): SignedFact {
  return { id: `${from}-${seq++}`, from, fact, envelope: new Uint8Array() }
}
const result = (from: string, task: number, at: number): SignedFact => signed(from, { t: 'result', job: 'j', at, results: [{ task, hash: `h${task}`, size: 1 }] })
const done = (from: string, at: number): SignedFact => signed(from, { t: 'done', job: 'j', at, result: 'r', hash: 'final', size: 1 })
const cancel = (from: string, at: number): SignedFact => signed(from, { t: 'cancel', job: 'j', at })

function fold (d: JobDocument, facts: SignedFact[], docFirst = true): JobState {
  const state = new JobState('j')
  if (docFirst) state.setDoc(d)
  for (const f of facts) state.add(f)
  if (!docFirst) state.setDoc(d)
  return state
}

describe('job endings: cancel', () => {
  it('a cancel from the submitter ends the job canceled (who, when); the job reads as failed to the scheduler and the reducer', () => {
    const state = fold(doc(2), [result('peer-b', 0, 1500), cancel(SUBMITTER, 2000)])
    const view = state.view(3000)
    expect(view.status).toBe('canceled')
    expect(view.canceled).toEqual({ by: SUBMITTER, at: 2000 })
    expect(state.failed).toBe(true)
  })

  it('a cancel from anyone else is ignored, whether it comes before the document or after', () => {
    for (const docFirst of [true, false]) {
      const state = fold(doc(2), [cancel('peer-b', 2000), result('peer-b', 0, 1500)], docFirst)
      expect(state.view(3000).status).toBe('running')
      expect(state.canceled).toBeUndefined()
      expect(state.failed).toBe(false)
      // the refused cancel is not held: sync neither offers it nor asks for it again
      expect(state.allFacts().some(f => f.fact.t === 'cancel')).toBe(false)
    }
  })

  it('a done no later than the cancel wins; one stamped after it does not count', () => {
    expect(fold(doc(1), [result('peer-b', 0, 1500), done('peer-b', 1900), cancel(SUBMITTER, 2000)]).view(3000).status).toBe('done')
    const late = fold(doc(1), [result('peer-b', 0, 1500), done('peer-b', 2100), cancel(SUBMITTER, 2000)])
    expect(late.view(3000).status).toBe('canceled')
    expect(late.doneResult()).toBeUndefined()
  })
})

describe('job endings: deadline', () => {
  it('past the deadline a job not done fails, naming the deadline and the tasks done by then', () => {
    const state = fold(doc(4, 1000 + 600_000), [result('peer-b', 0, 2000), result('peer-c', 1, 3000)])
    expect(state.view(1000 + 599_000).status).toBe('running')
    expect(state.deadlinePassed(1000 + 599_000)).toBe(false)
    const view = state.view(1000 + 600_001)
    expect(view.status).toBe('failed')
    expect(view.reason).toBe('deadline of 10 m passed with 2 of 4 tasks done')
    expect(view.deadline).toBe(601_000)
  })

  it('facts stamped after the deadline do not count, so a done after it leaves the job failed', () => {
    const deadline = 5000
    const state = fold(doc(1, deadline), [result('peer-b', 0, 4000), done('peer-b', 5001)])
    expect(state.doneResult()).toBeUndefined()
    expect(state.view(6000).status).toBe('failed')
    // a done no later than the deadline wins, even if it arrives after the deadline passed here
    state.add(done('peer-c', 4999))
    expect(state.view(6000).status).toBe('done')
  })

  it('results after the deadline are not counted in the reason, in any arrival order', () => {
    const deadline = 5000
    const facts = [result('peer-b', 0, 4000), result('peer-b', 1, 5200), result('peer-c', 2, 4500)]
    for (const docFirst of [true, false]) {
      const view = fold(doc(3, deadline), facts, docFirst).view(9000)
      expect(view.reason).toBe('deadline of 4 s passed with 2 of 3 tasks done')
    }
  })

  it('every peer folds the same ending whatever order the facts arrive in, the document first or last', () => {
    const factArb = fc.oneof(
      fc.record({ from: fc.constantFrom(...PEERS), task: fc.nat(2), at: fc.integer({ min: 1000, max: 8000 }) }).map(({ from, task, at }) => result(from, task, at)),
      fc.record({ from: fc.constantFrom(...PEERS), at: fc.integer({ min: 1000, max: 8000 }) }).map(({ from, at }) => done(from, at)),
      fc.record({ from: fc.constantFrom(...PEERS), at: fc.integer({ min: 1000, max: 8000 }) }).map(({ from, at }) => cancel(from, at))
    )
    fc.assert(fc.property(
      fc.array(factArb, { maxLength: 12 }), fc.option(fc.integer({ min: 2000, max: 7000 }), { nil: undefined }), fc.infiniteStream(fc.nat()), fc.boolean(),
      (facts, deadline, randoms, docFirst) => {
        const d = doc(3, deadline)
        const shuffled = [...facts]
        const it = randoms[Symbol.iterator]()
        for (let i = shuffled.length - 1; i > 0; i--) {
          const j = (it.next().value as number) % (i + 1);
          [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]]
        }
        const a = fold(d, facts, true)
        const b = fold(d, shuffled, docFirst)
        for (const now of [1500, 5000, 9000]) expect(b.view(now)).toEqual(a.view(now))
        // the rules themselves: a counted cancel is the submitter's, a counted done is no later than the deadline or the cancel
        const canceled = a.canceled
        if (canceled != null) expect(facts.some(f => f.fact.t === 'cancel' && f.from === SUBMITTER && f.fact.at === canceled.at)).toBe(true)
        const final = a.doneResult()
        if (final != null) {
          expect(final.at).toBeLessThanOrEqual(deadline ?? Infinity)
          const firstCancel = Math.min(...facts.filter(f => f.fact.t === 'cancel' && f.from === SUBMITTER && f.fact.at <= (deadline ?? Infinity)).map(f => (f.fact as { at: number }).at))
          expect(final.at).toBeLessThanOrEqual(firstCancel)
        }
      }
    ), { numRuns: 300 })
  })

  it('durations read as people write them', () => {
    expect(formatDuration(600_000)).toBe('10 m')
    expect(formatDuration(5_400_000)).toBe('1 h 30 m')
    expect(formatDuration(45_000)).toBe('45 s')
    expect(formatDuration(250)).toBe('250 ms')
    expect(formatDuration(2 * 86_400_000)).toBe('2 d')
  })
})

describe('a job nobody can run', () => {
  const peer = (id: string, over: Partial<RunnerStatus> = {}): RunnerStatus => ({ id, labels: [], memoryMB: 1024, gpu: false, functions: ['square', 'word-count'], ...over })
  const job = (req: Partial<JobDocument['requirements']>, fn = 'square', wasm: string | null = null): Pick<JobDocument, 'fn' | 'wasm' | 'requirements'> =>
    ({ fn, wasm, requirements: { minMemoryMB: 0, gpu: false, labels: [], ...req } })

  it('names a label no live peer has, with the labels they have', () => {
    const peers = [peer('a', { labels: ['lab-1'] }), peer('b', { labels: ['lab-2', 'lab-1'] }), peer('c')]
    expect(unmetRequirement(job({ labels: ['lab-7'] }), peers)).toBe("no live peer has label 'lab-7' (3 peers: labels lab-1, lab-2)")
    expect(unmetRequirement(job({ labels: ['lab-2'] }), peers)).toBeUndefined()
  })

  it('names a GPU, memory or function none has; WebAssembly runs everywhere', () => {
    const peers = [peer('a'), peer('b', { memoryMB: 2048 })]
    expect(unmetRequirement(job({ gpu: true }), peers)).toBe('no live peer has a GPU (2 peers)')
    expect(unmetRequirement(job({ minMemoryMB: 4096 }), peers)).toBe('no live peer has 4096 MB of free memory (2 peers: at most 2048 MB)')
    expect(unmetRequirement(job({}, 'my-fn'), peers)).toBe("no live peer runs function 'my-fn' (2 peers: functions square, word-count)")
    expect(unmetRequirement(job({}, 'my-fn', 'bafy-module'), peers)).toBeUndefined()
  })

  it('says when each requirement is met somewhere but no peer meets them all', () => {
    const peers = [peer('a', { labels: ['x'] }), peer('b', { gpu: true })]
    expect(unmetRequirement(job({ labels: ['x'], gpu: true }), peers)).toBe("no live peer has all of label 'x', a GPU, function 'square' (2 peers)")
    expect(unmetRequirement(job({ labels: ['x'], gpu: true }), [...peers, peer('c', { labels: ['x'], gpu: true })])).toBeUndefined()
  })
})
