/**
 * jobs/reducer: who reduces a complete job (or an iterative job's pass), and
 * the reduce itself. When every task of a job is accepted, the contributors
 * still connected (and this peer) are ranked by rendezvous hash of (job,
 * peer), the same order on every peer: the first reduces at once (not on a
 * timer, which a saturated event loop would delay), and the peer ranked r-th
 * reduces after r x REDUCE_GRACE_MS if no `done` fact came by then, so a dead
 * reducer costs seconds and a slow one is not joined by every peer at once. A
 * reduce that fails is tried again REDUCE_GRACE_MS later, since a complete job
 * may get no new fact to prompt it.
 *
 * The reducer publishes `done {result CID, hash, size}`: a final result up to
 * INLINE_DONE_MAX_BYTES travels inline in it (the job is done at once) and is
 * stored in the swarm in the background; a larger one is stored first.
 *
 * An iterative job is reduced pass by pass: when every task of the open pass
 * is accepted, the pass's contributors are ranked by (job, pass) and the
 * first publishes the `pass` fact of the outcome every peer computes alike
 * (pass-check.ts), the state inside it (the peers closest to the state's
 * block keep it from the fact); the r-th waits r x
 * REDUCE_GRACE_MS for an accepted one, so a reducer whose fact was refused is
 * replaced. Every peer that can computes the outcome as soon as the pass is
 * ready: its check of the reducer's fact needs it. After the last pass, the
 * last pass's first-ranked peer publishes `done` with `finish`'s bytes.
 * Never reduces after stop, nor a pass or job that has its fact.
 */
import type { Logger, Startable } from '@libp2p/interface'
import { concat } from 'uint8arrays/concat'
import { INLINE_DONE_MAX_BYTES, REDUCE_GRACE_MS } from './constants.ts'
import type { Fact, SignedFact } from './facts.ts'
import type { JobFunctions } from './components.ts'
import type { JobServiceData } from './data-access.ts'
import type { PassChecker } from './pass-check.ts'
import type { JobDocument } from './spec.ts'
import type { JobState } from './state.ts'
import type { Membership } from './membership.ts'
import { rendezvousScore } from './rendezvous.ts'
import { resultHash } from './result-hash.ts'
import { readTaskResult } from './results.ts'

export interface ReducerComponents {
  /** This peer's id: a candidate reducer of every job. */
  peerId: string
  data: Pick<JobServiceData, 'put' | 'cidFor' | 'get'>
  functions: JobFunctions
  /** Computes an iterative job's pass outcomes and final result. */
  checker: Pick<PassChecker, 'outcome' | 'final' | 'canCompute'>
  /** The peers connected now: only they are ranked. */
  membership: Pick<Membership, 'connectedPeers'>
  /** Signs, applies and gossips a fact (the `pass` and `done` facts). */
  publish: (fact: Fact) => Promise<SignedFact>
  log: Logger
}

/** Concatenation in task order: the reducer of WebAssembly jobs (their tasks are maps). */
async function concatReduce (results: Uint8Array[]): Promise<Uint8Array> {
  return concat(results)
}

/** One reduce this peer may owe: a whole job, a pass of an iterative job, or its finish. */
interface Step {
  /** Names the step among this peer's timers and reduces. */
  key: string
  /** What the candidates are ranked by (the same for a last pass and its finish). */
  rankKey: string
  /** Whose results the step reduces: its candidates. */
  pass: number
  kind: 'job' | 'pass' | 'finish'
}

export class Reducer implements Startable {
  private readonly components: ReducerComponents
  private running = false
  /** Steps being reduced here now. */
  private readonly reducing = new Set<string>()
  /** Steps whose reduce here waits for its turn (or its retry). */
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>()

  constructor (components: ReducerComponents) {
    this.components = components
  }

  start (): void {
    this.running = true
  }

  stop (): void {
    this.running = false
    for (const t of this.timers.values()) clearTimeout(t)
    this.timers.clear()
  }

  /** Runs on every change of a job: reduces it (or its pass) now, or later by its rank, when it is ready and not reduced yet. */
  maybeReduce (state: JobState): void {
    const doc = state.doc
    if (doc == null || !this.running || state.failed || state.doneResult() != null) return
    const step = this.stepOf(state, doc)
    if (step == null || this.reducing.has(step.key) || this.timers.has(step.key)) return
    const me = this.components.peerId
    const live = new Set([me, ...this.components.membership.connectedPeers().map(p => p.toString())])
    const candidates = state.contributors(step.pass).filter(p => live.has(p))
    if (!candidates.includes(me)) candidates.push(me)
    candidates.sort((a, b) => rendezvousScore(step.rankKey, b) - rendezvousScore(step.rankKey, a))
    const delay = candidates.indexOf(me) * REDUCE_GRACE_MS
    if (delay === 0) { void this.reduce(state, step); return }
    this.reduceLater(state, step, delay, () => { void this.reduce(state, step) })
  }

  /** The step `state` is ready for, if this peer can do it. */
  private stepOf (state: JobState, doc: JobDocument): Step | undefined {
    const ledger = state.passes
    if (ledger == null) {
      if (!state.complete || (doc.wasm == null && !this.components.functions.has(doc.fn))) return undefined
      return { key: state.id, rankKey: state.id, pass: 0, kind: 'job' }
    }
    if (!this.components.checker.canCompute(state)) return undefined
    if (state.passReady) {
      const pass = state.openPass
      // every peer computes the outcome now: its check of the reducer's fact needs it
      void this.components.checker.outcome(state, pass).catch(() => {})
      return { key: `${state.id}#${pass}`, rankKey: `${state.id}#${pass}`, pass, kind: 'pass' }
    }
    if (!ledger.complete) return undefined
    const last = ledger.count - 1
    return { key: `${state.id}#done`, rankKey: `${state.id}#${last}`, pass: last, kind: 'finish' }
  }

  /** Whether `step` still needs a reduce: its job is not done, or its pass has no accepted outcome. */
  private needed (state: JobState, step: Step): boolean {
    if (state.doneResult() != null || state.failed) return false
    return step.kind !== 'pass' || state.passes?.get(step.pass) == null
  }

  /** Runs `then` after `delay` unless the step is reduced by then or the reducer stopped. */
  private reduceLater (state: JobState, step: Step, delay: number, then: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(step.key)
      if (this.needed(state, step) && this.running) then()
    }, delay)
    timer.unref()
    this.timers.set(step.key, timer)
  }

  private async reduce (state: JobState, step: Step): Promise<void> {
    if (!this.needed(state, step)) return
    this.reducing.add(step.key)
    try {
      if (step.kind === 'pass') await this.publishPass(state, step.pass)
      else if (step.kind === 'finish') await this.publishFinish(state)
      else await this.publishDone(state, await this.reduceJob(state))
    } catch (err) {
      this.components.log('reducing %s failed, trying again later: %e', step.key, err)
      // another peer may succeed; this one tries again later (a complete job gets few new facts)
      if (this.running && !this.timers.has(step.key)) this.reduceLater(state, step, REDUCE_GRACE_MS, () => { this.maybeReduce(state) })
    } finally {
      this.reducing.delete(step.key)
    }
  }

  /** The final result of a job of one pass: its function's reduce of the accepted results, in task order. */
  private async reduceJob (state: JobState): Promise<Uint8Array> {
    const { data, functions } = this.components
    const doc = state.doc as JobDocument
    const accepted = state.acceptedResults()
    if (accepted == null) throw new Error('the job has results missing')
    const results: Uint8Array[] = []
    for (const entry of accepted) results.push(await readTaskResult(data, state, entry.hash))
    return doc.wasm != null ? await concatReduce(results) : await functions.get(doc.fn).reduce(results, doc.params)
  }

  /** Publishes the outcome of pass `pass` (its state's block is kept from the fact by the peers closest to it, see fact-store.ts). */
  private async publishPass (state: JobState, pass: number): Promise<void> {
    const { checker, publish } = this.components
    const computed = await checker.outcome(state, pass)
    if (!this.needed(state, { key: '', rankKey: '', pass, kind: 'pass' })) return
    await publish({ t: 'pass', job: state.id, pass, at: Date.now(), ...computed.fields })
  }

  /** Publishes an iterative job's `done` (its last state, which the result names, is in the swarm already). */
  private async publishFinish (state: JobState): Promise<void> {
    await this.publishDone(state, await this.components.checker.final(state))
  }

  /** Publishes `done` with the final result: inline (and stored in the background) when small, else stored first. */
  private async publishDone (state: JobState, final: Uint8Array): Promise<void> {
    const { data, publish } = this.components
    const done = { t: 'done' as const, job: state.id, hash: resultHash(final), size: final.length }
    if (final.length <= INLINE_DONE_MAX_BYTES) {
      // inline: every peer keeps the fact, so the job is done now; the swarm copy follows
      const cid = await data.cidFor(final)
      if (state.doneResult() == null) {
        await publish({ ...done, at: Date.now(), result: cid.toString(), data: final })
        void data.put(final, { listed: false }).catch(() => {})
      }
    } else {
      const cid = await data.put(final, { listed: false })
      if (state.doneResult() == null) await publish({ ...done, at: Date.now(), result: cid.toString() })
    }
  }
}
