/**
 * jobs/reducer: who reduces a complete job, and the reduce itself. When every
 * task of a job is accepted, the contributors still connected (and this peer)
 * are ranked by rendezvous hash of (job, peer), the same order on every peer:
 * the first reduces at once (not on a timer, which a saturated event loop
 * would delay), and the peer ranked r-th reduces after r x REDUCE_GRACE_MS if
 * no `done` fact came by then, so a dead reducer costs seconds and a slow one
 * is not joined by every peer at once. A reduce that fails is tried again
 * REDUCE_GRACE_MS later, since a complete job may get no new fact to prompt it.
 *
 * The reducer publishes `done {result CID, hash, size}`: a final result up to
 * INLINE_DONE_MAX_BYTES travels inline in it (the job is done at once) and is
 * stored in the swarm in the background; a larger one is stored first.
 * Never reduces after stop, nor a job that has a `done` fact.
 */
import type { Logger, Startable } from '@libp2p/interface'
import { concat } from 'uint8arrays/concat'
import { INLINE_DONE_MAX_BYTES, REDUCE_GRACE_MS } from './constants.ts'
import type { Fact, SignedFact } from './facts.ts'
import type { JobFunctions } from './components.ts'
import type { JobServiceData } from './data-access.ts'
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
  /** The peers connected now: only they are ranked. */
  membership: Pick<Membership, 'connectedPeers'>
  /** Signs, applies and gossips a fact (the `done` fact). */
  publish: (fact: Fact) => Promise<SignedFact>
  log: Logger
}

/** Concatenation in task order: the reducer of WebAssembly jobs (their tasks are maps). */
async function concatReduce (results: Uint8Array[]): Promise<Uint8Array> {
  return concat(results)
}

export class Reducer implements Startable {
  private readonly components: ReducerComponents
  private running = false
  /** Jobs being reduced here now. */
  private readonly reducing = new Set<string>()
  /** Jobs whose reduce here waits for its turn (or its retry). */
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
  }

  /** Runs on every change of a job: reduces it now, or later by its rank, when it is complete and not done. */
  maybeReduce (state: JobState): void {
    const doc = state.doc
    if (doc == null || this.reducing.has(state.id) || this.timers.has(state.id)) return
    if (!this.running || !state.complete || state.doneResult() != null) return
    if (doc.wasm == null && !this.components.functions.has(doc.fn)) return
    const me = this.components.peerId
    const live = new Set([me, ...this.components.membership.connectedPeers().map(p => p.toString())])
    const candidates = state.contributors().filter(p => live.has(p))
    if (!candidates.includes(me)) candidates.push(me)
    candidates.sort((a, b) => rendezvousScore(state.id, b) - rendezvousScore(state.id, a))
    const delay = candidates.indexOf(me) * REDUCE_GRACE_MS
    if (delay === 0) { void this.reduce(state); return }
    this.reduceLater(state, delay, () => { void this.reduce(state) })
  }

  /** Runs `then` after `delay` unless the job is done by then or the reducer stopped. */
  private reduceLater (state: JobState, delay: number, then: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(state.id)
      if (state.doneResult() == null && this.running) then()
    }, delay)
    timer.unref()
    this.timers.set(state.id, timer)
  }

  private async reduce (state: JobState): Promise<void> {
    const { data, functions, publish, log } = this.components
    const doc = state.doc as JobDocument
    const accepted = state.acceptedResults()
    if (accepted == null) return
    this.reducing.add(state.id)
    try {
      const results: Uint8Array[] = []
      for (const entry of accepted) results.push(await readTaskResult(data, state, entry.hash))
      const final = doc.wasm != null ? await concatReduce(results) : await functions.get(doc.fn).reduce(results, doc.params)
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
    } catch (err) {
      log('reducing job %s failed, trying again later: %e', state.id, err)
      // another peer may succeed; this one tries again later (a complete job gets few new facts)
      if (this.running && !this.timers.has(state.id)) this.reduceLater(state, REDUCE_GRACE_MS, () => { this.maybeReduce(state) })
    } finally {
      this.reducing.delete(state.id)
    }
  }
}
