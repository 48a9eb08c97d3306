/**
 * The iterative job fold and the checks of pass facts, without a network:
 * only the open pass's tasks are pending, a pass opens when the state before
 * it is accepted, and a pass fact counts only when its state follows from the
 * accepted results (it waits while they are not all here, is refused when
 * wrong), whatever order the facts arrive in.
 */
import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import { cidOf } from '../../src/data/index.ts'
import { FunctionRegistry } from '../../src/functions/index.ts'
import {
  JobState, PassChecker, PassStates, buildDocument, resultHash, resultsDigest, stateCid, validateSpec,
  type Fact, type FactOf, type JobDocument, type JobServiceData, type SignedFact
} from '../../src/jobs/index.ts'
import { expectedStates, lossOf, passSum } from './iterative.ts'

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
const dec = (b: Uint8Array): string => new TextDecoder().decode(b)

/** A document of `pass-sum` over `tasks` shards, `passes` passes. */
function doc (tasks: number, passes: number, params: Record<string, string> = {}): JobDocument {
  const shards = Array.from({ length: tasks }, (_, i) => ({ cid: cidOf(enc(`${i + 1}\n`)), nl: true }))
  return buildDocument(validateSpec({ fn: 'pass-sum', inputs: [cidOf(enc('root')).toString()], params: { passes: String(passes), ...params } }), [{ shards }], 'submitter', 1, passes)
}

let seq = 0
function signed (from: string, fact: Fact): SignedFact {
  return { id: `${from}-${seq++}`, from, fact, envelope: new Uint8Array() }
}

/** A result fact of `from` for task `task` with `bytes`, inline. */
function result (from: string, task: number, bytes: Uint8Array, at = 10): SignedFact {
  return signed(from, { t: 'result', job: 'j', at, results: [{ task, hash: resultHash(bytes), size: bytes.length, data: bytes }] })
}

/** What pass-sum's tasks give: shard i holds the number i + 1. */
function taskResult (shard: number, state: bigint): Uint8Array {
  return enc(String(BigInt(shard + 1) + state))
}

/** A checker whose swarm holds nothing: results and states come inline. */
function checker (): PassChecker {
  const data: Pick<JobServiceData, 'get'> = {
    get: async function * () { yield * [] as Uint8Array[]; throw new Error('nothing in this swarm') }
  }
  return new PassChecker({ data, functions: new FunctionRegistry([passSum]), states: new PassStates() })
}

/** The pass fact an honest reducer publishes for pass `pass` at `state`, after results of `tasks` tasks. */
function passFact (from: string, pass: number, state: bigint, tasks: number, results: Uint8Array[]): SignedFact & { fact: FactOf<'pass'> } {
  const bytes = enc(String(state))
  return signed(from, {
    t: 'pass', job: 'j', pass, at: 100 + pass, results: resultsDigest(results.map(resultHash)),
    state: stateCid(bytes).toString(), data: bytes, loss: lossOf(state)
  }) as SignedFact & { fact: FactOf<'pass'> }
}

describe('iterative job fold', () => {
  it('keeps only the open pass pending, and opens the next once a pass\'s state is accepted', async () => {
    const tasks = 3
    const s = new JobState('j')
    s.setDoc(doc(tasks, 2))
    expect([...s.pendingTasks()]).toEqual([0, 1, 2])
    expect(s.view().total).toBe(6)
    // a result for a task of pass 1 (a peer ahead of this one) does not open it
    s.add(result('b', 4, taskResult(1, 6n)))
    expect([...s.pendingTasks()]).toEqual([0, 1, 2])
    const pass0 = [0, 1, 2].map(i => taskResult(i, 0n))
    for (let i = 0; i < tasks; i++) s.add(result('a', i, pass0[i]))
    expect(s.passReady).toBe(true)
    expect([...s.pendingTasks()]).toEqual([])
    expect(s.complete).toBe(false)
    expect(s.add(passFact('a', 0, 6n, tasks, pass0))).toBe(true)
    expect(s.openPass).toBe(1)
    expect(s.passReady).toBe(false)
    // task 4 (pass 1, shard 1) has its result already: pending are the others
    expect([...s.pendingTasks()].sort()).toEqual([3, 5])
    expect(s.view().passes).toEqual({ count: 2, done: 1, list: [{ pass: 0, at: 100, state: stateCid(enc('6')).toString(), loss: lossOf(6n) }] })
    expect(s.view().rounds).toEqual([{ round: 0, loss: lossOf(6n), model: stateCid(enc('6')).toString() }])
    // a second fact for pass 0 with another state is a contradiction: it is not added
    expect(s.add(passFact('c', 0, 7n, tasks, pass0))).toBe(false)
    expect(s.passes?.get(0)?.fact.state).toBe(stateCid(enc('6')).toString())
  })

  it('a failure at a pass fails the job with its reason, and keeps the passes before it', () => {
    const s = new JobState('j')
    s.setDoc(doc(1, 3))
    s.add(result('a', 0, taskResult(0, 0n)))
    s.add(passFact('a', 0, 1n, 1, [taskResult(0, 0n)]))
    s.add(result('a', 1, taskResult(0, 1n)))
    s.add(signed('a', { t: 'pass', job: 'j', pass: 1, at: 200, results: resultsDigest([resultHash(taskResult(0, 1n))]), failure: 'round 0: loss is not finite' }))
    expect(s.failed).toBe(true)
    const view = s.view()
    expect(view.status).toBe('failed')
    expect(view.reason).toBe('round 0: loss is not finite')
    expect(view.passes?.list.map(p => p.pass)).toEqual([0, 1])
    expect([...s.pendingTasks()]).toEqual([])
  })

  it('folds to the same passes whatever order the facts arrive in, the document first or last', () => {
    const tasks = 2
    const passes = 3
    const states = expectedStates(passes, tasks, 3n)
    const facts: SignedFact[] = []
    let before = 0n
    for (let p = 0; p < passes; p++) {
      const results = [0, 1].map(i => taskResult(i, before))
      results.forEach((r, i) => facts.push(result(i === 0 ? 'a' : 'b', p * tasks + i, r, 10 * p)))
      facts.push(passFact('a', p, states[p], tasks, results))
      before = states[p]
    }
    const d = doc(tasks, passes)
    const reference = new JobState('j')
    reference.setDoc(d)
    for (const f of facts) reference.add(f)
    expect(reference.complete).toBe(true)
    fc.assert(fc.property(fc.shuffledSubarray(facts, { minLength: facts.length }), fc.boolean(), (order, docLast) => {
      const s = new JobState('j')
      if (!docLast) s.setDoc(d)
      for (const f of order) s.add(f)
      if (docLast) s.setDoc(d)
      expect(s.view()).toEqual(reference.view())
      expect(s.complete).toBe(true)
    }))
  })
})

describe('pass fact checks', () => {
  /** A state with pass 0's results of `tasks` tasks accepted. */
  function readyState (tasks: number): { s: JobState, results: Uint8Array[] } {
    const s = new JobState('j')
    s.setDoc(doc(tasks, 2))
    const results = Array.from({ length: tasks }, (_, i) => taskResult(i, 0n))
    for (let i = 0; i < tasks; i++) s.add(result('a', i, results[i]))
    return { s, results }
  }

  it('accepts the state that follows from the accepted results, refuses any other', async () => {
    const { s, results } = readyState(3)
    const c = checker()
    expect(await c.verdict(s, passFact('r', 0, 6n, 3, results))).toEqual({ verdict: 'accept' })
    expect((await c.verdict(s, passFact('r', 0, 7n, 3, results))).verdict).toBe('reject')
    // a right state with a wrong loss is wrong too
    const lying = passFact('r', 0, 6n, 3, results)
    lying.fact.loss = 0.5
    expect((await c.verdict(s, lying)).verdict).toBe('reject')
    // a state whose bytes are not the CID it names
    const mismatched = passFact('r', 0, 6n, 3, results)
    mismatched.fact.data = enc('7')
    expect(await c.verdict(s, mismatched)).toEqual({ verdict: 'reject', reason: 'its state\'s bytes do not match its CID' })
    // a failure where the pass has a state
    expect((await c.verdict(s, signed('r', { t: 'pass', job: 'j', pass: 0, at: 1, results: lying.fact.results, failure: 'no' }))).verdict).toBe('reject')
  })

  it('waits while the pass\'s results are not all here, or the fact names other results, or the pass before is not accepted', async () => {
    const c = checker()
    const s = new JobState('j')
    s.setDoc(doc(2, 3))
    const results = [taskResult(0, 0n), taskResult(1, 0n)]
    s.add(result('a', 0, results[0]))
    expect((await c.verdict(s, passFact('r', 0, 3n, 2, results))).verdict).toBe('wait')
    s.add(result('a', 1, results[1]))
    expect((await c.verdict(s, passFact('r', 0, 3n, 2, [results[0], enc('99')]))).verdict).toBe('wait')
    // pass 1 before pass 0 is accepted
    expect((await c.verdict(s, passFact('r', 1, 12n, 2, [taskResult(0, 3n), taskResult(1, 3n)]))).verdict).toBe('wait')
    expect((await c.verdict(s, passFact('r', 0, 3n, 2, results))).verdict).toBe('accept')
  })

  it('checks pass p + 1 at the state of pass p, and the done fact against finish', async () => {
    const c = checker()
    const s = new JobState('j')
    s.setDoc(doc(2, 2))
    const r0 = [taskResult(0, 0n), taskResult(1, 0n)]
    r0.forEach((r, i) => s.add(result('a', i, r)))
    s.add(passFact('r', 0, 3n, 2, r0))
    const r1 = [taskResult(0, 3n), taskResult(1, 3n)]
    r1.forEach((r, i) => s.add(result('a', 2 + i, r)))
    const states = expectedStates(2, 2, 3n)
    expect(states).toEqual([3n, 12n])
    expect((await c.verdict(s, passFact('r', 1, 12n, 2, r1))).verdict).toBe('accept')
    expect((await c.verdict(s, passFact('r', 1, 9n, 2, r1))).verdict).toBe('reject')
    s.add(passFact('r', 1, 12n, 2, r1))
    expect(s.complete).toBe(true)
    const final = await c.final(s)
    expect(JSON.parse(dec(final))).toEqual({ state: '12', model: stateCid(enc('12')).toString(), loss: [lossOf(3n), lossOf(12n)] })
    const done = (bytes: Uint8Array): SignedFact => signed('r', { t: 'done', job: 'j', at: 300, result: 'x', hash: resultHash(bytes), size: bytes.length, data: bytes })
    expect((await c.verdict(s, done(final))).verdict).toBe('accept')
    expect((await c.verdict(s, done(enc('{"state":"13"}')))).verdict).toBe('reject')
  })
})
