/**
 * The job state fold, without a network: whatever order facts arrive in,
 * every peer computes the same winners, results, retries and untrusted peers.
 */
import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import * as dagCbor from '@ipld/dag-cbor'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { JobState, openFact, resultHash, signFact, type Fact, type JobDocument, type SignedFact } from '../../src/jobs/index.ts'
import { MAX_CLOCK_SKEW_MS } from '../../src/jobs/constants.ts'

const PEERS = ['peer-a', 'peer-b', 'peer-c', 'peer-d']

function doc (tasks: number, redundancy: number): JobDocument {
  return {
    type: 'edgeswarm/job', version: 1, fn: 'square', wasm: null, inputs: ['x'], inputShards: [tasks], params: {},
    redundancy, requirements: { minMemoryMB: 0, gpu: false, labels: [] }, priority: 'batch', maxAttempts: 3,
    leaseMs: 1000, submitter: 'peer-a', createdAt: 0, tasks: Array.from({ length: tasks }, (_, s) => ({ i: 0, s, cid: `c${s}` }))
  }
}

let seq = 0
function signed (from: string, fact: Fact): SignedFact {
  return { id: `${from}-${seq++}`, from, fact, envelope: new Uint8Array() }
}

/** Everything a peer derives from a job's facts, at a fixed time. */
function summary (state: JobState, tasks: number, now: number): unknown {
  return {
    view: state.view(now),
    tasks: Array.from({ length: tasks }, (_, i) => state.task(i, now)),
    open: Array.from({ length: tasks }, (_, i) => state.hasOpenSlot(i, now)),
    untrusted: [...state.untrusted].sort()
  }
}

const factArb = (tasks: number): fc.Arbitrary<SignedFact> => fc.oneof(
  fc.record({ from: fc.constantFrom(...PEERS), task: fc.nat(tasks - 1), at: fc.nat(5000) })
    .map(({ from, task, at }) => signed(from, { t: 'claim', job: 'j', tasks: [task], at, lease: 1000 })),
  fc.record({ from: fc.constantFrom(...PEERS), task: fc.nat(tasks - 1), at: fc.nat(5000) })
    .map(({ from, task, at }) => signed(from, { t: 'renew', job: 'j', tasks: [task], at, lease: 1000 })),
  fc.record({ from: fc.constantFrom(...PEERS), task: fc.nat(tasks - 1), at: fc.nat(5000), wrong: fc.boolean(), renew: fc.option(fc.nat(tasks - 1), { nil: undefined }), claim: fc.option(fc.nat(tasks - 1), { nil: undefined }) })
    .map(({ from, task, at, wrong, renew, claim }) => signed(from, {
      t: 'result', job: 'j', at, results: [{ task, hash: wrong ? `bad-${from}` : `good-${task}`, size: 1 }],
      ...(renew != null && renew !== task ? { renew: { tasks: [renew], lease: 1000 } } : {}),
      ...(claim != null && claim !== task ? { claim: { tasks: [claim], lease: 1000 } } : {})
    })),
  fc.record({ from: fc.constantFrom(...PEERS), task: fc.nat(tasks - 1), at: fc.nat(5000) })
    .map(({ from, task, at }) => signed(from, { t: 'fail', job: 'j', task, at, reason: 'boom' }))
)

describe('job state fold', () => {
  it('is the same whatever order the facts arrive in, and whether the document comes first or last', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3 }),
      fc.array(factArb(4), { maxLength: 40 }), fc.infiniteStream(fc.nat()),
      (tasks, redundancy, facts, randoms) => {
        const usable = facts.filter(f => !('task' in f.fact) || (f.fact as { task: number }).task < tasks)
          .filter(f => !('tasks' in f.fact) || (f.fact as { tasks: number[] }).tasks.every(t => t < tasks))
          .filter(f => f.fact.t !== 'result' || (f.fact.results.every(r => r.task < tasks) && [...(f.fact.renew?.tasks ?? []), ...(f.fact.claim?.tasks ?? [])].every(t => t < tasks)))
        const a = new JobState('j')
        a.setDoc(doc(tasks, redundancy))
        usable.forEach(f => a.add(f))
        // another peer: shuffled order, document last
        const shuffled = [...usable]
        const it = randoms[Symbol.iterator]()
        for (let i = shuffled.length - 1; i > 0; i--) {
          const j = (it.next().value as number) % (i + 1);
          [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]]
        }
        const b = new JobState('j')
        shuffled.forEach(f => b.add(f))
        b.setDoc(doc(tasks, redundancy))
        for (const now of [0, 2500, 10_000]) {
          expect(summary(b, tasks, now)).toEqual(summary(a, tasks, now))
          // the scheduler's shortcut says what the full view says
          for (let i = 0; i < tasks; i++) expect(a.hasOpenSlot(i, now)).toBe(a.task(i, now).openSlots > 0)
        }
      }), { numRuns: 300 })
  })

  it('gives a task to the earliest claim, reopens it when the lease runs out, and counts the retry', () => {
    const s = new JobState('j')
    s.setDoc(doc(1, 1))
    expect(s.task(0, 50).reopenedAt).toBeUndefined()          // never held: not re-opened
    s.add(signed('peer-b', { t: 'claim', job: 'j', tasks: [0], at: 100, lease: 1000 }))
    s.add(signed('peer-a', { t: 'claim', job: 'j', tasks: [0], at: 150, lease: 1000 }))
    expect(s.task(0, 200).running).toEqual(['peer-b'])
    expect(s.task(0, 200).reopenedAt).toBeUndefined()
    expect(s.task(0, 1200)).toMatchObject({ status: 'open', reopenedAt: 1100 })   // b stopped renewing: open again since its lease ended
    s.add(signed('peer-c', { t: 'claim', job: 'j', tasks: [0], at: 1300, lease: 1000 }))
    expect(s.task(0, 1400)).toMatchObject({ status: 'running', running: ['peer-c'], retried: 1 })
    s.add(signed('peer-a', { t: 'result', job: 'j', at: 1350, results: [{ task: 0, hash: 'h', size: 1 }] }))
    expect(s.task(0, 1400).accepted).toBeUndefined()         // a lost its claim: its result does not count
    s.add(signed('peer-c', { t: 'result', job: 'j', at: 1500, results: [{ task: 0, hash: 'h', size: 1 }] }))
    expect(s.task(0, 1600).status).toBe('done')
    expect(s.complete).toBe(true)
  })

  it('renews the author\'s other tasks from a result fact\'s renew list, as a renew fact would', () => {
    const withRenewFact = new JobState('j')
    const withResultFact = new JobState('j')
    for (const s of [withRenewFact, withResultFact]) {
      s.setDoc(doc(2, 1))
      s.add(signed('peer-b', { t: 'claim', job: 'j', tasks: [0, 1], at: 100, lease: 1000 }))
    }
    withRenewFact.add(signed('peer-b', { t: 'result', job: 'j', at: 800, results: [{ task: 0, hash: 'h0', size: 1 }] }))
    withRenewFact.add(signed('peer-b', { t: 'renew', job: 'j', tasks: [1], at: 800, lease: 1000 }))
    withResultFact.add(signed('peer-b', { t: 'result', job: 'j', at: 800, results: [{ task: 0, hash: 'h0', size: 1 }], renew: { tasks: [1], lease: 1000 } }))
    for (const now of [1000, 1500, 1900, 2000]) expect(summary(withResultFact, 2, now)).toEqual(summary(withRenewFact, 2, now))
    // the lease of task 1 runs to 1800, not 1100: a claim at 1500 loses, one at 1850 wins
    expect(withResultFact.task(1, 1500)).toMatchObject({ status: 'running', running: ['peer-b'] })
    withResultFact.add(signed('peer-c', { t: 'claim', job: 'j', tasks: [1], at: 1500, lease: 1000 }))
    expect(withResultFact.task(1, 1600).running).toEqual(['peer-b'])
    withResultFact.add(signed('peer-d', { t: 'claim', job: 'j', tasks: [1], at: 1850, lease: 1000 }))
    expect(withResultFact.task(1, 1900)).toMatchObject({ running: ['peer-d'], retried: 1 })
  })

  it('claims tasks from a result fact\'s claim list, as a claim fact of the same time would', () => {
    const withClaimFact = new JobState('j')
    const withResultFact = new JobState('j')
    for (const s of [withClaimFact, withResultFact]) {
      s.setDoc(doc(3, 1))
      s.add(signed('peer-b', { t: 'claim', job: 'j', tasks: [0, 1], at: 100, lease: 1000 }))
      // another peer claims task 2 later than b's work request: b's claim wins
      s.add(signed('peer-c', { t: 'claim', job: 'j', tasks: [2], at: 900, lease: 1000 }))
    }
    withClaimFact.add(signed('peer-b', { t: 'result', job: 'j', at: 800, results: [{ task: 0, hash: 'h0', size: 1 }], renew: { tasks: [1], lease: 1000 } }))
    withClaimFact.add(signed('peer-b', { t: 'claim', job: 'j', tasks: [2], at: 800, lease: 1000 }))
    withResultFact.add(signed('peer-b', { t: 'result', job: 'j', at: 800, results: [{ task: 0, hash: 'h0', size: 1 }], renew: { tasks: [1], lease: 1000 }, claim: { tasks: [2], lease: 1000 } }))
    for (const now of [850, 1000, 1500, 1900, 2000]) expect(summary(withResultFact, 3, now)).toEqual(summary(withClaimFact, 3, now))
    expect(withResultFact.task(0, 1000).status).toBe('done')
    expect(withResultFact.task(2, 1000)).toMatchObject({ status: 'running', running: ['peer-b'] })
    // the claimed task's lease runs from the fact's time: open again after 1800
    expect(withResultFact.task(2, 1850)).toMatchObject({ status: 'open', reopenedAt: 1800 })
  })

  it('counts a result from a peer that lost the claim race once the winner\'s lease has lapsed, not before', () => {
    const s = new JobState('j')
    s.setDoc(doc(1, 1))
    s.add(signed('peer-b', { t: 'claim', job: 'j', tasks: [0], at: 100, lease: 1000 }))
    s.add(signed('peer-a', { t: 'claim', job: 'j', tasks: [0], at: 150, lease: 1000 }))
    s.add(signed('peer-a', { t: 'result', job: 'j', at: 900, results: [{ task: 0, hash: 'early', size: 1 }] }))
    expect(s.task(0, 950)).toMatchObject({ status: 'running', running: ['peer-b'], results: 0 })   // b still holds it
    s.add(signed('peer-a', { t: 'result', job: 'j', at: 1200, results: [{ task: 0, hash: 'late', size: 1 }] }))
    // b's lease ended at 1100 and nobody claimed since: a's second result fills the free slot
    expect(s.task(0, 1300)).toMatchObject({ status: 'done', results: 1, retried: 1 })
    expect(s.task(0, 1300).accepted?.hash).toBe('late')
    expect(s.complete).toBe(true)
  })

  it('knows when an open task reopened: the lapsed lease\'s end, or the failure\'s time, whatever facts came later', () => {
    const s = new JobState('j')
    s.setDoc(doc(1, 1))
    s.add(signed('peer-b', { t: 'claim', job: 'j', tasks: [0], at: 100, lease: 1000 }))
    // a later fact (a renewal of a peer that holds nothing) drops b's lapsed lease in the fold
    s.add(signed('peer-d', { t: 'renew', job: 'j', tasks: [0], at: 1500, lease: 1000 }))
    expect(s.task(0, 1600)).toMatchObject({ status: 'open', reopenedAt: 1100 })
    s.add(signed('peer-c', { t: 'claim', job: 'j', tasks: [0], at: 2000, lease: 1000 }))
    expect(s.task(0, 2050).reopenedAt).toBeUndefined()      // running again
    s.add(signed('peer-c', { t: 'fail', job: 'j', task: 0, at: 2100, reason: 'boom' }))
    expect(s.task(0, 2200)).toMatchObject({ status: 'open', reopenedAt: 2100 })
  })

  it('accepts the majority result with redundancy 3 and distrusts the dissenter', () => {
    const s = new JobState('j')
    s.setDoc(doc(1, 3))
    for (const [i, p] of ['peer-a', 'peer-b', 'peer-c'].entries()) s.add(signed(p, { t: 'claim', job: 'j', tasks: [0], at: 10 + i, lease: 1000 }))
    s.add(signed('peer-d', { t: 'claim', job: 'j', tasks: [0], at: 20, lease: 1000 }))   // no slot left
    s.add(signed('peer-a', { t: 'result', job: 'j', at: 50, results: [{ task: 0, hash: 'wrong', size: 1 }] }))
    s.add(signed('peer-b', { t: 'result', job: 'j', at: 60, results: [{ task: 0, hash: 'right', size: 1 }] }))
    expect(s.task(0, 70).status).toBe('running')
    s.add(signed('peer-c', { t: 'result', job: 'j', at: 70, results: [{ task: 0, hash: 'right', size: 1 }] }))
    expect(s.task(0, 80).accepted?.hash).toBe('right')
    expect([...s.untrusted]).toEqual(['peer-a'])
    expect(s.lostClaims()).toBe(1)
  })

  it('fails the job after maxAttempts failures, with the reason', () => {
    const s = new JobState('j')
    s.setDoc(doc(2, 1))
    for (let k = 0; k < 3; k++) {
      s.add(signed(PEERS[k], { t: 'claim', job: 'j', tasks: [1], at: 100 * k, lease: 1000 }))
      s.add(signed(PEERS[k], { t: 'fail', job: 'j', task: 1, at: 100 * k + 50, reason: 'WasmTimeoutError: too slow' }))
    }
    expect(s.failed).toBe(true)
    expect(s.view(1000)).toMatchObject({ status: 'failed', failedTasks: 1 })
    expect(s.view(1000).reason).toMatch(/task 1 failed 3 times: WasmTimeoutError/)
  })
})

describe('job state: an inline final result', () => {
  it('is read from a done fact only when its bytes match the agreed hash', () => {
    const bytes = new TextEncoder().encode('{"a":1}')
    const hash = resultHash(bytes)
    const s = new JobState('j')
    s.setDoc(doc(1, 1))
    // a forged copy under the right hash is never returned; the honest one is, whoever sent it first
    s.add(signed('peer-b', { t: 'done', job: 'j', at: 1, result: 'r', hash, size: bytes.length, data: new TextEncoder().encode('{"a":2}') }))
    expect(s.doneResult()?.hash).toBe(hash)
    expect(s.doneInline(hash)).toBeUndefined()
    s.add(signed('peer-c', { t: 'done', job: 'j', at: 2, result: 'r', hash, size: bytes.length, data: bytes }))
    expect(s.doneInline(hash)).toEqual(bytes)
    expect(s.doneInline('another-hash')).toBeUndefined()
  })
})

describe('job state fold: a regression found by the property above', () => {
  it('takes an acceptance back when an earlier claim that wins the tie arrives late', () => {
    const s = new JobState('j')
    s.setDoc(doc(1, 1))
    s.add(signed('peer-d', { t: 'result', job: 'j', at: 1, results: [{ task: 0, hash: 'h', size: 1 }] }))
    s.add(signed('peer-d', { t: 'claim', job: 'j', tasks: [0], at: 0, lease: 1000 }))
    expect(s.complete).toBe(true)                      // peer-d alone: its result counts
    s.add(signed('peer-a', { t: 'claim', job: 'j', tasks: [0], at: 0, lease: 1000 }))
    // peer-a wins the tie at time 0, so peer-d never held the task and its result does not count
    expect(s.complete).toBe(false)
    expect(s.view(500)).toMatchObject({ done: 0, running: 1 })
    expect([...s.pendingTasks()]).toEqual([0])
  })
})

describe('job state fold: outvoted peers', () => {
  it('names the same outvoted peers whatever order the results arrive in (a partial fold outvoted one the full set does not)', () => {
    const facts = [
      signed('peer-a', { t: 'result', job: 'j', at: 1, results: [{ task: 1, hash: 'good-1', size: 1 }] }),
      signed('peer-b', { t: 'result', job: 'j', at: 0, results: [{ task: 1, hash: 'good-1', size: 1 }] }),
      signed('peer-d', { t: 'result', job: 'j', at: 0, results: [{ task: 1, hash: 'bad-peer-d', size: 1 }] }),
      signed('peer-a', { t: 'result', job: 'j', at: 0, results: [{ task: 1, hash: 'good-1', size: 1 }] })
    ]
    const inOrder = new JobState('j')
    inOrder.setDoc(doc(2, 2))
    facts.forEach(f => inOrder.add(f))
    const docLast = new JobState('j')
    facts.forEach(f => docLast.add(f))
    docLast.setDoc(doc(2, 2))
    expect([...inOrder.untrusted]).toEqual([...docLast.untrusted])
    expect(summary(inOrder, 2, 10)).toEqual(summary(docLast, 2, 10))
  })
})

describe('facts: signature checks remembered per process', () => {
  it('a fact verified once opens again; a copy with another signature or body is still checked and rejected', async () => {
    const key = await generateKeyPair('Ed25519')
    const from = peerIdFromPrivateKey(key).toString()
    const sf = await signFact(key, from, { t: 'claim', job: 'j', tasks: [1, 2], at: Date.now(), lease: 1000 })
    expect((await openFact(sf.envelope)).id).toBe(sf.id)
    expect((await openFact(sf.envelope)).id).toBe(sf.id)
    const outer = dagCbor.decode<{ from: string, body: Uint8Array, sig: Uint8Array }>(sf.envelope)
    const badSig = Uint8Array.from(outer.sig)
    badSig[0] ^= 1
    await expect(openFact(dagCbor.encode({ ...outer, sig: badSig }))).rejects.toThrow(/signature does not verify/)
    const other = dagCbor.encode({ t: 'claim', job: 'j', tasks: [1, 3], at: Date.now(), lease: 1000 })
    await expect(openFact(dagCbor.encode({ ...outer, body: other }))).rejects.toThrow(/signature does not verify/)
    // the genuine one is still accepted after the forgeries
    expect((await openFact(sf.envelope)).fact).toEqual(sf.fact)
  })

  it('a fact opened before is still refused when its stamp is too far ahead of the clock that opens it again', async () => {
    const key = await generateKeyPair('Ed25519')
    const from = peerIdFromPrivateKey(key).toString()
    const at = Date.now()
    const sf = await signFact(key, from, { t: 'claim', job: 'j', tasks: [4], at, lease: 1000 })
    expect((await openFact(sf.envelope, at)).id).toBe(sf.id)
    await expect(openFact(sf.envelope, at - MAX_CLOCK_SKEW_MS - 1)).rejects.toThrow(/stamped in the future/)
    expect((await openFact(sf.envelope, at)).fact).toEqual(sf.fact)
  })
})
