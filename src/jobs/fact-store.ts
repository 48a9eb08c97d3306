/**
 * jobs/fact-store: every job fact this peer holds. It applies verified facts
 * to their jobs' states (one `JobState` per job), remembers the id of every
 * fact held (so a sync drops known facts before verifying them), collects the
 * peers outvoted in any job, keeps the result batches facts carry when this
 * peer is among the closest to them, writes accepted facts to the datastore
 * in batches and reads them back at start, and announces each change.
 *
 * Never checks a signature (callers pass facts `openFact` verified) and never
 * talks to other peers. `accept` runs once per fact received: it does no more
 * than apply, index, persist and announce.
 */
import { Key, type Datastore } from 'interface-datastore'
import type { Logger } from '@libp2p/interface'
import { FACT_PERSIST_BATCH, FACT_PERSIST_DELAY_MS } from './constants.ts'
import { InvalidFactError } from './errors.ts'
import { openFact, type SignedFact } from './facts.ts'
import { decodeDocument, documentId } from './spec.ts'
import { JobState } from './state.ts'
import { encodeResultBatch } from './result-batch.ts'
import type { JobServiceData } from './data-access.ts'

/** Datastore key prefix of persisted facts: `/edgeswarm/job-facts/<job>/<fact id>`, the value the envelope as received. */
const FACT_PREFIX = '/edgeswarm/job-facts'

/** Counts of the job layer's traffic, shared by the store, gossip and sync. */
export interface JobStats {
  /** Facts accepted (new to this peer). */
  factsReceived: number
  /** Facts refused: malformed, badly signed, or contradicting their job. */
  factsRejected: number
  /** Sync exchanges this peer completed as the requester. */
  syncs: number
}

export interface FactStoreComponents {
  /** This peer's id: the author of the facts whose result batches it already keeps. */
  peerId: string
  data: Pick<JobServiceData, 'adoptBlock'>
  datastore?: Datastore
  stats: JobStats
  /** Where each change is announced: a `change` event whose detail is the job id. */
  events: EventTarget
  log: Logger
}

export interface FactStoreInit {
  /** Called on every change of a job, before its `change` event (the reducer's election runs here). */
  changed: (state: JobState) => void
}

export class FactStore {
  /** Peers outvoted in any job: their claims are not granted in jobs that arrive later. */
  readonly untrusted = new Set<string>()
  private readonly states = new Map<string, JobState>()
  /** Ids of every fact held, across jobs. */
  private readonly knownFactIds = new Set<string>()
  /** Facts accepted but not yet written (see persist). */
  private readonly unwritten: Array<[Key, Uint8Array]> = []
  private persistTimer?: ReturnType<typeof setTimeout>
  private readonly peerId: string
  private readonly data: FactStoreComponents['data']
  private readonly datastore?: Datastore
  private readonly stats: JobStats
  private readonly events: EventTarget
  private readonly log: Logger
  private readonly changed: (state: JobState) => void

  constructor (components: FactStoreComponents, init: FactStoreInit) {
    this.peerId = components.peerId
    this.data = components.data
    this.datastore = components.datastore
    this.stats = components.stats
    this.events = components.events
    this.log = components.log
    this.changed = init.changed
  }

  /** The state of job `id`, if any fact of it is held (its document may not be). */
  state (id: string): JobState | undefined {
    return this.states.get(id)
  }

  /** Every job state held, by job id (some may lack their document yet). */
  entries (): IterableIterator<[string, JobState]> {
    return this.states.entries()
  }

  /** Whether a fact of this id is held, in any job. */
  knows (factId: string): boolean {
    return this.knownFactIds.has(factId)
  }

  /** Applies a verified fact and, with `persist`, queues it for the datastore; true when it was new. */
  async accept (sf: SignedFact, persist: boolean): Promise<boolean> {
    const f = sf.fact
    const state = this.stateOf(f.job)
    if (state.has(sf.id)) return false
    if (f.t === 'job') {
      const id = (await documentId(f.doc)).toString()
      if (id !== f.job) throw new InvalidFactError('job document does not hash to the job id')
      state.setDoc(decodeDocument(f.doc))
    }
    state.add(sf)
    this.knownFactIds.add(sf.id)
    this.stats.factsReceived++
    // the peers closest to a result batch keep it from the fact (the author kept its own copy)
    if (f.t === 'result' && f.batch != null && sf.from !== this.peerId) {
      const batch = f.batch
      void this.data.adoptBlock(batch, () => encodeResultBatch(f.job, f.results)).catch(() => {})
    }
    if (persist && this.datastore != null) this.persist(new Key(`${FACT_PREFIX}/${f.job}/${sf.id}`), sf.envelope)
    for (const peer of state.untrusted) this.untrusted.add(peer)
    this.changed(state)
    this.events.dispatchEvent(new CustomEvent<string>('change', { detail: f.job }))
    return true
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

  /** Reads the persisted facts back (at start): they were verified before they were stored, so they are decoded and validated, not verified again. */
  async load (): Promise<void> {
    if (this.datastore == null) return
    for await (const { key, value } of this.datastore.query({ prefix: FACT_PREFIX })) {
      try {
        await this.accept(await openFact(value, Infinity, { verified: true }), false)
      } catch (err) {
        this.log('skipped the corrupt fact record %s: %e', key.toString(), err)
      }
    }
  }

  /** Writes the facts still queued (at stop). */
  async flush (): Promise<void> {
    clearTimeout(this.persistTimer)
    this.persistTimer = undefined
    if (this.datastore == null || this.unwritten.length === 0) return
    const writes = this.unwritten.splice(0)
    const batch = this.datastore.batch()
    for (const [key, value] of writes) batch.put(key, value)
    await Promise.resolve(batch.commit()).catch((err: unknown) => { this.log('writing %d facts failed: %e', writes.length, err) })
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

  /**
   * Queues a fact for the datastore: a batch is written when it holds
   * FACT_PERSIST_BATCH facts or FACT_PERSIST_DELAY_MS after its first, since
   * a write per fact costs a busy peer more than the fact. Facts a crash loses
   * are pulled back from other peers by sync.
   */
  private persist (key: Key, value: Uint8Array): void {
    this.unwritten.push([key, value])
    if (this.unwritten.length >= FACT_PERSIST_BATCH) { void this.flush(); return }
    if (this.persistTimer == null) {
      this.persistTimer = setTimeout(() => { void this.flush() }, FACT_PERSIST_DELAY_MS)
      this.persistTimer.unref?.()
    }
  }
}
