/**
 * jobs/fact-store: every job fact this peer holds. It applies verified facts
 * to their jobs' states (one `JobState` per job), remembers the id of every
 * fact held (so a sync drops known facts before verifying them), collects the
 * peers outvoted in any job, keeps the result batches facts carry when this
 * peer is among the closest to them, writes accepted facts to the datastore
 * (fact-log.ts) and reads them back at start, and announces each change.
 *
 * A `pass` fact, and an iterative job's `done` fact, counts only once checked
 * (pass-check.ts): one that is wrong is refused; one that cannot be checked yet
 * waits (waiting-facts.ts). Facts this peer made, and facts read back from
 * its datastore, were checked before. A pass's state (a block the fact
 * carries) is kept from the fact by the peers closest to it, as result
 * batches are.
 *
 * A finished job idle for `finishedIdleMs` (no fact applied, not read back)
 * leaves memory: the store keeps its summary (finished-job.ts) and its facts
 * stay in the datastore, read back whole when something needs them (a new
 * fact of the job, a result, a sync offer), so memory follows the jobs in
 * progress and disk the jobs retained. Without a datastore every job stays.
 *
 * Never checks a signature (callers pass facts `openFact` verified) and never
 * talks to other peers. `accept` runs once per fact received: it does no more
 * than check a pass fact, apply, index, persist and announce.
 */
import type { Datastore } from 'interface-datastore'
import type { Logger } from '@libp2p/interface'
import { FINISHED_JOB_IDLE_MS, FINISHED_JOB_SWEEP_MS, JOB_TOMBSTONE_MS, MIN_FINISHED_JOB_IDLE_MS, MAX_JOB_TOMBSTONES } from './constants.ts'
import { InvalidFactError } from './errors.ts'
import { openFact, type SignedFact } from './facts.ts'
import { needsCheck, type PassChecker } from './pass-check.ts'
import { decodeDocument, documentId } from './spec.ts'
import { refusalOf } from './ending.ts'
import { JobState } from './state.ts'
import { FinishedJob, type KnownJob } from './finished-job.ts'
import { FactLog } from './fact-log.ts'
import { WaitingFacts } from './waiting-facts.ts'
import { encodeResultBatch } from './result-batch.ts'
import type { JobServiceData } from './data-access.ts'

/** Counts of the job layer's traffic, shared by the store, gossip and sync. */
export interface JobStats {
  /** Facts accepted (new to this peer). */
  factsReceived: number
  /** Facts refused: malformed, badly signed, or contradicting their job. */
  factsRejected: number
  /** Sync exchanges this peer completed as the requester. */
  syncs: number
}

/** What `accept` did with a fact: applied it, knew it already, holds it until it can be checked, or dropped it (its job was collected here). */
export type Acceptance = 'new' | 'known' | 'waiting' | 'collected'


export interface FactStoreComponents {
  /** This peer's id: the author of the facts whose result batches it already keeps. */
  peerId: string
  data: Pick<JobServiceData, 'adoptBlock'>
  /** Checks `pass` facts and iterative `done` facts before they count. */
  checker: Pick<PassChecker, 'verdict'>
  datastore?: Datastore
  stats: JobStats
  /** Where each change is announced: a `change` event whose detail is the job id. */
  events: EventTarget
  log: Logger
}

export interface FactStoreInit {
  /** Called on every change of a job, before its `change` event (the reducer's election runs here). */
  changed: (state: JobState) => void
  /** How long (ms) a finished job stays whole in memory after its last fact applied or its facts read back. @default FINISHED_JOB_IDLE_MS */
  finishedIdleMs?: number
}


export class FactStore {
  /** Peers outvoted in any job: their claims are not granted in jobs that arrive later. */
  readonly untrusted = new Set<string>()
  /** The jobs whose facts are in memory. */
  private readonly states = new Map<string, JobState>()
  /** The finished jobs whose facts are in the datastore only (see the module header). */
  private readonly finished = new Map<string, FinishedJob>()
  /** Finished jobs whose facts are being read back, so two readers read them once. */
  private readonly restoring = new Map<string, Promise<JobState | undefined>>()
  /** Per job in memory, when a fact was last applied to it or its facts read back (ms). */
  private readonly touched = new Map<string, number>()
  private readonly finishedIdleMs: number
  private sweepTimer?: ReturnType<typeof setInterval>
  /** Ids of every fact held in memory, across jobs. */
  private readonly knownFactIds = new Set<string>()
  private readonly peerId: string
  private readonly data: FactStoreComponents['data']
  /** The facts on disk; none without a datastore. */
  private readonly factLog?: FactLog
  private readonly stats: JobStats
  private readonly events: EventTarget
  private readonly log: Logger
  private readonly changed: (state: JobState) => void
  private readonly checker: FactStoreComponents['checker']
  /** The facts that wait to be checked. */
  private readonly waiting: WaitingFacts
  /** Jobs collected here (see forget), with when, oldest first: their facts are dropped on arrival until JOB_TOMBSTONE_MS has passed. */
  private readonly tombstones = new Map<string, number>()

  constructor (components: FactStoreComponents, init: FactStoreInit) {
    this.peerId = components.peerId
    this.data = components.data
    if (components.datastore != null) this.factLog = new FactLog({ datastore: components.datastore, log: components.log })
    this.stats = components.stats
    this.events = components.events
    this.log = components.log
    this.checker = components.checker
    this.waiting = new WaitingFacts({
      checker: components.checker,
      apply: (state, sf, persist) => { this.apply(state, sf, persist) },
      held: (id, held) => { if (held) this.knownFactIds.add(id); else this.knownFactIds.delete(id) },
      stats: components.stats,
      log: components.log
    })
    this.changed = init.changed
    this.finishedIdleMs = init.finishedIdleMs ?? FINISHED_JOB_IDLE_MS
    if (!Number.isSafeInteger(this.finishedIdleMs) || this.finishedIdleMs < MIN_FINISHED_JOB_IDLE_MS) throw new RangeError(`finishedIdleMs must be a whole number of ms >= ${MIN_FINISHED_JOB_IDLE_MS}, got ${String(init.finishedIdleMs)}`)
  }

  /** Starts moving idle finished jobs out of memory, every FINISHED_JOB_SWEEP_MS or `finishedIdleMs` if shorter (after `load`). */
  start (): void {
    if (this.factLog == null || this.sweepTimer != null) return
    this.sweepTimer = setInterval(() => {
      this.offload().catch((err: unknown) => { this.log('moving finished jobs out of memory failed: %e', err) })
    }, Math.min(FINISHED_JOB_SWEEP_MS, this.finishedIdleMs))
    this.sweepTimer.unref()
  }

  /** The state of job `id` when its facts are in memory (its document may not be here yet); `restore` reads a finished job's back. */
  state (id: string): JobState | undefined {
    return this.states.get(id)
  }

  /** Every job state in memory, by job id (some may lack their document yet). */
  entries (): IterableIterator<[string, JobState]> {
    return this.states.entries()
  }

  /** Job `id` as known here, its facts in memory or not. */
  known (id: string): KnownJob | undefined {
    return this.states.get(id) ?? this.finished.get(id)
  }

  /** Every job known here, those in memory first. */
  * all (): Generator<KnownJob> {
    yield * this.states.values()
    yield * this.finished.values()
  }

  /** Whether a fact of this id is held in memory, in any job (a finished job's facts on disk are not: `restore` it first). */
  knows (factId: string): boolean {
    return this.knownFactIds.has(factId)
  }

  /**
   * The state of job `id` with every fact in memory: a finished job's facts are read back from
   * the datastore (and stay until it is idle again). Undefined for a job not known here.
   */
  async restore (id: string): Promise<JobState | undefined> {
    const live = this.states.get(id)
    if (live != null) {
      this.touched.set(id, Date.now())
      return live
    }
    if (!this.finished.has(id)) return undefined
    let reading = this.restoring.get(id)
    if (reading == null) {
      reading = this.readBack(id).finally(() => { this.restoring.delete(id) })
      this.restoring.set(id, reading)
    }
    return await reading
  }

  /** Reads a finished job's facts back and makes its state whole again, as `load` would, without announcing a change. */
  private async readBack (id: string): Promise<JobState | undefined> {
    const summary = this.finished.get(id)
    if (summary == null || this.factLog == null) return undefined
    const facts: SignedFact[] = []
    for await (const { key, value } of this.factLog.of(id)) {
      try {
        facts.push(await openFact(value, Infinity, { verified: true }))
      } catch (err) {
        this.log('skipped the corrupt fact record %s: %e', key, err)
      }
    }
    // collected while its facts were read
    if (this.finished.get(id) !== summary) return this.states.get(id)
    const state = new JobState(id, summary.avoided)
    for (const sf of facts) {
      if (sf.fact.t === 'job') state.setDoc(decodeDocument(sf.fact.doc))
      if (state.add(sf)) this.knownFactIds.add(sf.id)
    }
    this.finished.delete(id)
    this.states.set(id, state)
    this.touched.set(id, Date.now())
    return state
  }

  /**
   * Moves every finished job idle for `finishedIdleMs` by `now` out of memory (see the module
   * header), after writing the facts queued; returns how many it moved.
   */
  async offload (now = Date.now()): Promise<number> {
    if (this.factLog == null) return 0
    await this.factLog.write()
    const queued = this.factLog.queuedJobs()
    let moved = 0
    for (const [id, state] of [...this.states]) {
      if (queued.has(id) || now - (this.touched.get(id) ?? 0) < this.finishedIdleMs) continue
      if (this.setAside(state, now)) moved++
    }
    return moved
  }

  /** Replaces a finished job's state with its summary when nothing holds it in memory: no fact waiting, no read under way, no lease alive. */
  private setAside (state: JobState, now: number): boolean {
    const id = state.id
    const doc = state.doc
    if (doc == null || this.waiting.busy(id) || this.restoring.has(id)) return false
    const finished = state.finishedAt(now)
    if (finished == null || state.view(now).running > 0) return false
    const summary = new FinishedJob(state, doc, finished, now)
    for (const sf of state.allFacts()) this.knownFactIds.delete(sf.id)
    this.states.delete(id)
    this.touched.delete(id)
    this.finished.set(id, summary)
    return true
  }

  /**
   * Applies a verified fact and, with `persist`, queues it for the datastore; a `pass` or
   * iterative `done` fact only once checked (`checked`: it was, by this peer). Throws
   * InvalidFactError for a fact that contradicts its job (a wrong state, say).
   */
  async accept (sf: SignedFact, persist: boolean, options: { checked?: boolean } = {}): Promise<Acceptance> {
    const f = sf.fact
    if (this.collected(f.job)) return 'collected'
    // a fact of a finished job out of memory: its facts come back first, to tell a new fact from a known one
    if (this.finished.has(f.job)) await this.restore(f.job)
    const state = this.stateOf(f.job)
    if (state.has(sf.id)) return 'known'
    if (this.waiting.has(f.job, sf.id)) return 'waiting'
    if (f.t === 'job') {
      const id = (await documentId(f.doc)).toString()
      if (id !== f.job) throw new InvalidFactError('job document does not hash to the job id')
      state.setDoc(decodeDocument(f.doc))
    }
    // a cancel by anyone but the submitter, or a fact stamped after the deadline, never counts (ending.ts)
    const refusal = state.doc != null ? refusalOf(state.doc, sf) : undefined
    if (refusal != null) throw new InvalidFactError(`${f.t} fact of ${sf.from} refused: ${refusal}`)
    if (options.checked !== true && needsCheck(state, sf)) {
      const verdict = await this.checker.verdict(state, sf)
      if (verdict.verdict === 'reject') throw new InvalidFactError(`${f.t} fact of ${sf.from} refused: ${verdict.reason}`)
      if (verdict.verdict === 'wait') {
        this.waiting.hold(state, sf, persist)
        return 'waiting'
      }
    }
    return this.apply(state, sf, persist) ? 'new' : 'known'
  }

  /** Applies a fact that may count (checked, or needing no check); false when it was known or contradicts its pass. */
  private apply (state: JobState, sf: SignedFact, persist: boolean): boolean {
    const f = sf.fact
    if (!state.add(sf)) return false
    this.knownFactIds.add(sf.id)
    this.touched.set(state.id, Date.now())
    this.stats.factsReceived++
    // the peers closest to a result batch keep it from the fact (the author kept its own copy)
    if (f.t === 'result' && f.batch != null && sf.from !== this.peerId) {
      const batch = f.batch
      void this.data.adoptBlock(batch, () => encodeResultBatch(f.job, f.results)).catch(() => {})
    }
    if (persist) this.factLog?.append(f.job, sf.id, sf.envelope)
    for (const peer of state.untrusted) this.untrusted.add(peer)
    if (f.t === 'pass') {
      // the peers closest to the state's block keep it from the fact: it is in the swarm under its CID
      const { state: cid, data } = f
      if (cid != null && data != null) void this.data.adoptBlock(cid, () => data).catch(() => {})
    }
    this.changed(state)
    this.events.dispatchEvent(new CustomEvent<string>('change', { detail: f.job }))
    this.waiting.changed(state)
    return true
  }

  /** Whether job `id` was collected here and its tombstone is within JOB_TOMBSTONE_MS: its facts are dropped, so neither gossip nor sync brings it back. */
  collected (id: string, now = Date.now()): boolean {
    const at = this.tombstones.get(id)
    return at != null && now - at < JOB_TOMBSTONE_MS
  }

  /**
   * Forgets job `id` (its retention passed): its state, its facts here and in the datastore,
   * and any fact of it waiting; leaves a tombstone (persisted). Returns the facts dropped.
   */
  async forget (id: string, now = Date.now()): Promise<number> {
    const state = this.states.get(id)
    const summary = this.finished.get(id)
    if (state == null && summary == null) return 0
    const facts = state?.factCount ?? summary?.factCount ?? 0
    for (const sf of state?.allFacts() ?? []) this.knownFactIds.delete(sf.id)
    this.waiting.forget(id)
    this.states.delete(id)
    this.finished.delete(id)
    this.touched.delete(id)
    this.tombstones.delete(id)
    this.tombstones.set(id, now)
    this.expireTombstones(now)
    await this.factLog?.drop(id, now)
    return facts
  }

  /** Drops tombstones past JOB_TOMBSTONE_MS, and the oldest past MAX_JOB_TOMBSTONES (from the datastore too). */
  private expireTombstones (now: number): void {
    const drop: string[] = []
    for (const [id, at] of this.tombstones) {
      if (now - at < JOB_TOMBSTONE_MS && this.tombstones.size - drop.length <= MAX_JOB_TOMBSTONES) break
      drop.push(id)
    }
    for (const id of drop) {
      this.tombstones.delete(id)
      this.factLog?.dropTombstone(id)
    }
  }

  /** Resolves on the next change of job `id`, or after `timeoutMs`; rejects with the signal's reason when it aborts. */
  async nextChange (id: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted()
    await new Promise<void>((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer)
        this.events.removeEventListener('change', onChange)
        signal?.removeEventListener('abort', onAbort)
      }
      const onChange = (evt: Event): void => { if ((evt as CustomEvent<string>).detail === id) { done(); resolve() } }
      const onAbort = (): void => { done(); reject(signal?.reason) }
      const timer = setTimeout(() => { done(); resolve() }, timeoutMs)
      this.events.addEventListener('change', onChange)
      signal?.addEventListener('abort', onAbort)
    })
  }

  /**
   * Reads the persisted facts back (at start): they were verified before they were stored, so
   * they are decoded and validated, not verified again. Each finished job leaves memory as soon
   * as its facts are read (they come grouped by job), so a start holds one finished job at a time.
   */
  async load (): Promise<void> {
    if (this.factLog == null) return
    for (const [id, at] of await this.factLog.tombstones()) this.tombstones.set(id, at)
    this.expireTombstones(Date.now())
    let previous: string | undefined
    const setAsideRead = (job: string | undefined): void => {
      const state = job != null ? this.states.get(job) : undefined
      if (state != null) this.setAside(state, Date.now())
    }
    for await (const { job, key, value } of this.factLog.all()) {
      if (job !== previous) setAsideRead(previous)
      previous = job
      try {
        await this.accept(await openFact(value, Infinity, { verified: true }), false, { checked: true })
      } catch (err) {
        this.log('skipped the corrupt fact record %s: %e', key, err)
      }
    }
    setAsideRead(previous)
  }

  /** Writes the facts still queued and stops checking waiting facts (at stop). */
  async flush (): Promise<void> {
    clearInterval(this.sweepTimer)
    this.sweepTimer = undefined
    this.waiting.stop()
    await this.factLog?.write()
  }

  private stateOf (id: string): JobState {
    let state = this.states.get(id)
    if (state == null) {
      // a snapshot: the peers untrusted when the job arrived, the same on every peer with the same history
      state = new JobState(id, new Set(this.untrusted))
      this.states.set(id, state)
    }
    return state
  }
}
