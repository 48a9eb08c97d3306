/**
 * The job service: every peer's copy of every job's facts, kept in step over
 * gossipsub (fast path) and a pull sync protocol (anti-entropy, so a late
 * joiner or a peer that missed a message still converges), persisted in the
 * repo's datastore; submission; aggregation; and the `Job` handles users hold.
 *
 * Owns JOBS_TOPIC and JOB_SYNC_PROTOCOL. Never runs tasks (the scheduler
 * does) and never trusts a fact it has not verified.
 */
import { setMaxListeners } from 'node:events'
import { concat } from 'uint8arrays/concat'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import { lpStream } from '@libp2p/utils'
import { Key, type Datastore } from 'interface-datastore'
import * as dagCbor from '@ipld/dag-cbor'
import { z } from 'zod'
import type { Startable, PeerId, PrivateKey, Stream } from '@libp2p/interface'
import { deadline, mapOrdered } from '../async/index.ts'
import { connectedPeers, isConnected, type EdgePeer } from '../node/index.ts'
import type { FunctionRegistry } from '../functions/index.ts'
import { validateWasm } from '../sandbox/index.ts'
import {
  FACT_PERSIST_BATCH, FACT_PERSIST_DELAY_MS, JOBS_TOPIC, SUBMIT_MANIFEST_ATTEMPTS, SUBMIT_ROOT_RETRY_MS, JOB_SYNC_PROTOCOL, MAX_FACT_BYTES, MAX_SYNC_FACTS, MAX_SYNC_OFFER_IDS, REDUCE_GRACE_MS, INLINE_DONE_MAX_BYTES,
  FAILURE_CHECK_PEERS, FIND_RETRY_MS, FIND_SYNC_PEERS, FIND_TIMEOUT_MS, PROGRESS_INTERVAL_MS, SUBMIT_MANIFEST_CONCURRENCY, SUBMIT_WITNESS_TIMEOUT_MS, SYNC_INTERVAL_MS, SYNC_TIMEOUT_MS
} from './constants.ts'
import { InvalidFactError, InvalidJobError, JobFailedError, JobNotFoundError, SubmitAbortedError } from './errors.ts'
import { openFact, peekFactId, signFact, type Fact, type SignedFact } from './facts.ts'
import { buildDocument, decodeDocument, documentId, encodeDocument, validateSpec, type JobDocument, type JobSpec } from './spec.ts'
import { JobState, type JobView } from './state.ts'
import { readAll, type JobDataAccess } from './data-access.ts'
import { NotFoundError } from '../data/index.ts'
import { resultHash } from './result-hash.ts'
import { encodeResultBatch } from './result-batch.ts'
import { rendezvousScore } from './rendezvous.ts'

export interface JobServiceInit {
  node: EdgePeer
  /** This peer's key: facts are signed with it. */
  privateKey: PrivateKey
  data: JobDataAccess
  functions: FunctionRegistry
  /** Persist facts here (the repo's datastore) so jobs survive restarts. */
  datastore?: Datastore
  /** Anti-entropy interval. @default SYNC_INTERVAL_MS */
  syncIntervalMs?: number
}

const FACT_PREFIX = '/edgeswarm/job-facts'
/** Sync summary: per job, per author, how many facts the sender holds. */
const SummarySchema = z.record(z.string().max(200), z.record(z.string().max(100), z.number().int().min(0)))
type SyncSummary = z.infer<typeof SummarySchema>
/** Either side's first message: what it holds, per job and author (fact counts). */
const SyncHaveSchema = z.object({ have: SummarySchema })
/** One frame of a list of fact ids by job (an offer, or a want): at most MAX_SYNC_OFFER_IDS ids. */
const IdFrameSchema = z.object({ ids: z.record(z.string().max(200), z.array(z.string().max(100)).max(MAX_SYNC_OFFER_IDS)) })
type LpStream = ReturnType<typeof lpStream>

/** Writes fact ids by job as frames of at most MAX_SYNC_OFFER_IDS ids, then an empty frame. */
async function writeIds (lp: LpStream, lists: Record<string, string[]>, signal: AbortSignal): Promise<void> {
  let frame: Record<string, string[]> = {}
  let n = 0
  const flush = async (): Promise<void> => {
    if (n > 0) await lp.write(dagCbor.encode({ ids: frame }), { signal })
    frame = {}
    n = 0
  }
  for (const [job, ids] of Object.entries(lists)) {
    for (const id of ids) {
      (frame[job] ??= []).push(id)
      if (++n === MAX_SYNC_OFFER_IDS) await flush()
    }
  }
  await flush()
  await lp.write(new Uint8Array(0), { signal })
}

/** Reads what writeIds wrote: fact ids by job, MAX_SYNC_FACTS at most. */
async function readIds (lp: LpStream, signal: AbortSignal): Promise<Record<string, string[]>> {
  const lists: Record<string, string[]> = {}
  let total = 0
  while (true) {
    const bytes = (await lp.read({ signal })).subarray()
    if (bytes.length === 0) return lists
    for (const [job, ids] of Object.entries(IdFrameSchema.parse(dagCbor.decode(bytes)).ids)) {
      total += ids.length
      if (total > MAX_SYNC_FACTS) throw new Error(`a sync list of more than ${MAX_SYNC_FACTS} fact ids`)
      ;(lists[job] ??= []).push(...ids)
    }
  }
}

/**
 * A job's facts in the order a sync sends them: the job and its outcome
 * (`done`) first, then the history (claims, results, failures). A peer that
 * catches up on a loaded swarm may see its sync cut short by the time limit
 * again and again; it still learns the job and its result, which is all a
 * done job needs (at 200 peers a job has ~1,400 facts, and a sync from a
 * host whose event loop turns once in seconds can stop long before its end).
 */
function outcomeFirst (facts: SignedFact[]): SignedFact[] {
  const first: SignedFact[] = []
  const rest: SignedFact[] = []
  for (const sf of facts) (sf.fact.t === 'job' || sf.fact.t === 'done' ? first : rest).push(sf)
  return first.concat(rest)
}

/** Concatenation in task order: the reducer of WebAssembly jobs (their tasks are maps). */
async function concatReduce (results: Uint8Array[]): Promise<Uint8Array> {
  return concat(results)
}

/** A handle on one job, on any peer. */
export class Job extends EventTarget {
  readonly id: string
  private readonly service: JobService

  constructor (id: string, service: JobService) {
    super()
    this.id = id
    this.service = service
    // progress is coalesced: a burst of facts makes one event, not one each
    let timer: ReturnType<typeof setTimeout> | undefined
    const emit = (): void => {
      timer = undefined
      const view = this.status()
      this.dispatchEvent(new CustomEvent<JobView>('progress', { detail: view }))
      if (view.status === 'done' || view.status === 'failed') service.removeEventListener('change', onChange)
    }
    const onChange = (evt: Event): void => {
      if ((evt as CustomEvent<string>).detail !== id || timer != null) return
      timer = setTimeout(emit, PROGRESS_INTERVAL_MS)
    }
    service.addEventListener('change', onChange)
  }

  status (): JobView {
    return this.service.view(this.id)
  }

  /** Progress views until the job is done or failed (the last one is terminal). */
  async * events (options: { signal?: AbortSignal } = {}): AsyncGenerator<JobView> {
    let last = ''
    while (true) {
      const view = this.status()
      const key = JSON.stringify(view)
      if (key !== last) { last = key; yield view }
      if (view.status === 'done' || view.status === 'failed') return
      await this.service.nextChange(this.id, 1000, options.signal)
      // coalesce bursts of facts into one view
      await new Promise(resolve => setTimeout(resolve, PROGRESS_INTERVAL_MS))
    }
  }

  /** The job's final result bytes, verified; JobFailedError if it failed. */
  async result (options: { signal?: AbortSignal } = {}): Promise<Uint8Array> {
    return await this.service.result(this.id, options)
  }
}

/** Options of `submit`. */
export interface SubmitOptions {
  signal?: AbortSignal
  /**
   * Times an input's root is asked for before the submit fails with
   * NotFoundError (each ask ends after the data layer's find deadline).
   * @default SUBMIT_MANIFEST_ATTEMPTS
   */
  rootAttempts?: number
}

export class JobService extends EventTarget implements Startable {
  private readonly node: EdgePeer
  private readonly privateKey: PrivateKey
  private readonly data: JobDataAccess
  private readonly functions: FunctionRegistry
  private readonly datastore?: Datastore
  /** Facts accepted but not yet written (see persist). */
  private readonly unwritten: Array<[Key, Uint8Array]> = []
  private persistTimer?: ReturnType<typeof setTimeout>
  private readonly syncIntervalMs: number
  private readonly states = new Map<string, JobState>()
  /** Peers outvoted in any job: their claims are not granted in later jobs. */
  readonly untrusted = new Set<string>()
  private syncTimer?: ReturnType<typeof setInterval>
  private readonly syncing = new Map<string, Promise<boolean>>()
  private readonly syncAgain = new Set<string>()
  /** Ids of every fact held, across jobs: a sync drops known facts before verifying. */
  private readonly knownFactIds = new Set<string>()
  private readonly reducing = new Set<string>()
  /** Jobs another peer has shown (by sync) that it knows. */
  private readonly witnesses = new Map<string, number>()
  private readonly reduceTimers = new Map<string, ReturnType<typeof setTimeout>>()
  private running = false
  readonly stats = { factsReceived: 0, factsRejected: 0, syncs: 0 }
  /** Sorted ids of the connected peers; undefined once a connection opened or closed. */
  private connected: string[] | undefined
  private readonly onDisconnect = (): void => { this.connected = undefined }
  private readonly onConnect = (evt: CustomEvent<PeerId>): void => {
    this.connected = undefined
    const peer = evt.detail
    setTimeout(() => { void this.syncWith(peer) }, 200).unref()
  }

  constructor (init: JobServiceInit) {
    super()
    // one listener per Job handle and per waiting call
    setMaxListeners(Infinity, this)
    this.node = init.node
    this.privateKey = init.privateKey
    this.data = init.data
    this.functions = init.functions
    this.datastore = init.datastore
    this.syncIntervalMs = init.syncIntervalMs ?? SYNC_INTERVAL_MS
  }

  get peerId (): string {
    return this.node.peerId.toString()
  }

  async start (): Promise<void> {
    this.running = true
    await this.loadPersisted()
    const pubsub = this.node.services.pubsub
    pubsub.topicValidators.set(JOBS_TOPIC, async (_peer, msg) => {
      try {
        // every fact is checked on its own signature, also from gossip: a fact accepted here
        // must be accepted by every peer that later gets it by sync
        await this.accept(await openFact(msg.data), true)
        return TopicValidatorResult.Accept
      } catch {
        this.stats.factsRejected++
        return TopicValidatorResult.Reject
      }
    })
    pubsub.subscribe(JOBS_TOPIC)
    await this.node.handle(JOB_SYNC_PROTOCOL, (stream, connection) => { void this.serveSync(stream, connection.remotePeer) }, { maxInboundStreams: 32 })
    this.node.addEventListener('peer:connect', this.onConnect)
    this.node.addEventListener('peer:disconnect', this.onDisconnect)
    this.syncTimer = setInterval(() => {
      const peers = connectedPeers(this.node)
      if (peers.length > 0) void this.syncWith(peers[Math.floor(Math.random() * peers.length)])
    }, this.syncIntervalMs)
    this.syncTimer.unref()
  }

  async stop (): Promise<void> {
    this.running = false
    clearInterval(this.syncTimer)
    await this.flushFacts()
    for (const t of this.reduceTimers.values()) clearTimeout(t)
    this.node.removeEventListener('peer:connect', this.onConnect)
    this.node.removeEventListener('peer:disconnect', this.onDisconnect)
    this.node.services.pubsub.topicValidators.delete(JOBS_TOPIC)
    try { this.node.services.pubsub.unsubscribe(JOBS_TOPIC) } catch {}
    await this.node.unhandle(JOB_SYNC_PROTOCOL).catch(() => {})
  }

  // ---------------------------------------------------------------- facts

  private stateOf (id: string): JobState {
    let state = this.states.get(id)
    if (state == null) {
      // a snapshot: peers that were untrusted when the job arrived, the same on every peer with the same history
      state = new JobState(id, new Set(this.untrusted))
      this.states.set(id, state)
    }
    return state
  }

  /** Applies a verified fact; returns true when it was new. */
  private async accept (sf: SignedFact, persist: boolean): Promise<boolean> {
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
    this.changed(f.job)
    return true
  }

  /**
   * Writes facts to the datastore in batches, at most FACT_PERSIST_DELAY_MS
   * after they arrive: one write per fact was a tenth of a busy peer's time.
   * Facts lost in a crash are pulled back from other peers by sync.
   */
  private persist (key: Key, value: Uint8Array): void {
    this.unwritten.push([key, value])
    if (this.unwritten.length >= FACT_PERSIST_BATCH) { void this.flushFacts(); return }
    if (this.persistTimer == null) {
      this.persistTimer = setTimeout(() => { void this.flushFacts() }, FACT_PERSIST_DELAY_MS)
      this.persistTimer.unref?.()
    }
  }

  private async flushFacts (): Promise<void> {
    clearTimeout(this.persistTimer)
    this.persistTimer = undefined
    if (this.datastore == null || this.unwritten.length === 0) return
    const writes = this.unwritten.splice(0)
    const batch = this.datastore.batch()
    for (const [key, value] of writes) batch.put(key, value)
    await Promise.resolve(batch.commit()).catch(() => {})
  }

  private changed (job: string): void {
    const state = this.states.get(job)
    if (state != null) {
      for (const peer of state.untrusted) this.untrusted.add(peer)
      this.maybeReduce(state)
    }
    this.dispatchEvent(new CustomEvent<string>('change', { detail: job }))
  }

  /** Signs, applies and gossips one of this peer's facts. */
  async publish (fact: Fact): Promise<SignedFact> {
    const sf = await signFact(this.privateKey, this.peerId, fact)
    await this.accept(sf, true)
    try {
      await this.node.services.pubsub.publish(JOBS_TOPIC, sf.envelope)
    } catch {
      // no subscribed peer right now: sync will carry it
    }
    return sf
  }

  private async loadPersisted (): Promise<void> {
    if (this.datastore == null) return
    for await (const { value } of this.datastore.query({ prefix: FACT_PREFIX })) {
      // verified before they were stored: decode and validate, no second signature check
      try { await this.accept(await openFact(value, Infinity, { verified: true }), false) } catch { /* a corrupt record is skipped */ }
    }
  }

  // ---------------------------------------------------------------- sync

  private summary (): SyncSummary {
    const have: SyncSummary = {}
    for (const [id, state] of this.states) have[id] = Object.fromEntries(state.authorCounts)
    return have
  }

  /**
   * Pulls from `peer` the facts it holds and we lack, of the authors whose
   * counts differ: it offers their ids, we ask for the unknown ones, it sends
   * those (a fact's bytes cross the wire only when they are missing).
   * One exchange per peer at a time; a call during one queues one more after it.
   */
  /** Runs anti-entropy with `peer` (joining one in flight); true when an exchange completed. */
  async syncWith (peer: PeerId): Promise<boolean> {
    const key = peer.toString()
    if (!this.running) return false
    const inflight = this.syncing.get(key)
    if (inflight != null) {
      if (this.syncAgain.has(key)) return await inflight
      this.syncAgain.add(key)
      await inflight
      this.syncAgain.delete(key)
      return await this.syncWith(peer)
    }
    const run = this.syncOnce(peer).finally(() => { this.syncing.delete(key) })
    this.syncing.set(key, run)
    return await run
  }

  private async syncOnce (peer: PeerId): Promise<boolean> {
    const limit = deadline(SYNC_TIMEOUT_MS)
    const signal = limit.signal
    let stream: Stream | undefined
    try {
      stream = await this.node.dialProtocol(peer, JOB_SYNC_PROTOCOL, { signal })
      const lp = lpStream(stream, { maxDataLength: MAX_FACT_BYTES })
      await lp.write(dagCbor.encode({ have: this.summary() }), { signal })
      // the answer opens with what the peer holds: a peer that knows a job witnesses it
      const answer = SyncHaveSchema.parse(dagCbor.decode((await lp.read({ signal })).subarray()))
      this.witness(Object.keys(answer.have).filter(id => this.states.has(id)))
      // ask only for the offered facts not held: most were gossiped here already
      const want: Record<string, string[]> = {}
      let wanted = 0
      for (const [job, ids] of Object.entries(await readIds(lp, signal))) {
        const missing = ids.filter(id => !this.knownFactIds.has(id))
        if (missing.length > 0) { want[job] = missing; wanted += missing.length }
      }
      await writeIds(lp, want, signal)
      let n = 0
      while (n++ <= wanted) {
        const bytes = (await lp.read({ signal })).subarray()
        if (bytes.length === 0) break
        const id = await peekFactId(bytes)
        if (id == null) { this.stats.factsRejected++; continue }
        if (this.knownFactIds.has(id)) continue
        try { await this.accept(await openFact(bytes), true) } catch { this.stats.factsRejected++ }
      }
      this.stats.syncs++
      await stream.close().catch(() => {})
      return true
    } catch {
      stream?.abort(new Error('sync failed'))
      return false
    } finally {
      limit.clear()
    }
  }

  /** Syncs with up to `n` connected peers at once: how many were asked, and how many answered. */
  private async syncWithConnected (n: number): Promise<{ asked: number, answered: number }> {
    const peers = connectedPeers(this.node).slice(0, n)
    const answered = (await Promise.all(peers.map(async p => await this.syncWith(p)))).filter(Boolean).length
    return { asked: peers.length, answered }
  }

  /** Counts one more peer that holds each of these jobs (what a submit waits for). */
  private witness (jobs: string[]): void {
    for (const id of jobs) this.witnesses.set(id, (this.witnesses.get(id) ?? 0) + 1)
  }

  /**
   * The ids a sync offers to a peer whose summary is `theirs`: per job, the
   * facts of every author of whom this peer holds more, the job and done
   * facts first; MAX_SYNC_FACTS in all.
   */
  private offerFor (theirs: SyncSummary): Record<string, string[]> {
    const offer: Record<string, string[]> = {}
    let offered = 0
    for (const [id, state] of this.states) {
      const known = theirs[id]
      const authors = new Set([...state.authorCounts].filter(([author, count]) => (known?.[author] ?? 0) < count).map(([author]) => author))
      if (authors.size === 0) continue
      const ids = outcomeFirst(state.allFacts()).filter(sf => authors.has(sf.from)).map(sf => sf.id).slice(0, MAX_SYNC_FACTS - offered)
      if (ids.length === 0) break
      offer[id] = ids
      offered += ids.length
    }
    return offer
  }

  private async serveSync (stream: Stream, remote: PeerId): Promise<void> {
    const limit = deadline(SYNC_TIMEOUT_MS)
    const signal = limit.signal
    try {
      const lp = lpStream(stream, { maxDataLength: MAX_FACT_BYTES })
      const req = SyncHaveSchema.parse(dagCbor.decode((await lp.read({ signal })).subarray()))
      this.witness(Object.keys(req.have).filter(id => this.states.has(id)))
      const offer = this.offerFor(req.have)
      await lp.write(dagCbor.encode({ have: this.summary() }), { signal })
      await writeIds(lp, offer, signal)
      const want = await readIds(lp, signal)
      for (const [job, ids] of Object.entries(want)) {
        // only facts that were offered: the want list cannot ask for anything else
        const offered = new Set(offer[job] ?? [])
        const state = this.states.get(job)
        if (state == null) continue
        for (const id of ids) {
          const sf = offered.has(id) ? state.fact(id) : undefined
          if (sf != null) await lp.write(sf.envelope, { signal })
        }
      }
      await lp.write(new Uint8Array(0), { signal })
      await stream.close({ signal })
      // the requester read everything and closed: it has the jobs offered now
      this.witness(Object.keys(offer).filter(id => req.have[id] == null))
      // the requester knows facts we lack: pull them back (anti-entropy both ways)
      if (Object.entries(req.have).some(([id, authors]) => Object.entries(authors).some(([author, n]) => (this.states.get(id)?.authorCounts.get(author) ?? 0) < n))) {
        setImmediate(() => { void this.syncWith(remote) })
      }
    } catch (err) {
      stream.abort(err instanceof Error ? err : new Error(String(err)))
    } finally {
      limit.clear()
    }
  }

  // ---------------------------------------------------------------- jobs

  /**
   * Submits a job; resolves once the job is announced (its document inline in
   * the `job` fact) and another peer has shown it holds it (bounded); the
   * document is stored in the swarm in the background. Stopped by `signal` at
   * once, whatever it waits on, with a SubmitAbortedError that names the step
   * (reading input roots, announcing the job, ...): on a loaded swarm a submit
   * can take minutes.
   */
  async submit (spec: JobSpec, options: SubmitOptions = {}): Promise<Job> {
    const signal = options.signal
    let step = 'checking the job'
    const stopped = (): SubmitAbortedError => new SubmitAbortedError(`submit stopped while ${step}: ${String(signal?.reason instanceof Error ? signal.reason.message : signal?.reason)}`)
    if (signal?.aborted === true) throw stopped()
    let announced: Job | undefined
    const work = this.submitSteps(spec, options, (s) => { step = s }, (job) => { announced = job })
    if (signal == null) return await work
    let onAbort: (() => void) | undefined
    const aborted = new Promise<Job>((resolve, reject) => {
      // once the job is announced it exists and will run: the caller gets it, not an error
      onAbort = () => { if (announced != null) resolve(announced); else reject(stopped()) }
      signal.addEventListener('abort', onAbort, { once: true })
    })
    work.catch(() => {}) // settled after an abort: nobody waits for it any more
    try {
      return await Promise.race([work, aborted])
    } finally {
      if (onAbort != null) signal.removeEventListener('abort', onAbort)
    }
  }

  private async submitSteps (spec: JobSpec, options: SubmitOptions, step: (s: string) => void, announced: (job: Job) => void): Promise<Job> {
    const valid = validateSpec(spec)
    const rootAttempts = options.rootAttempts ?? SUBMIT_MANIFEST_ATTEMPTS
    if (!Number.isSafeInteger(rootAttempts) || rootAttempts < 1) throw new InvalidJobError(`rootAttempts must be a whole number >= 1, got ${String(rootAttempts)}`)
    if (valid.wasm != null) {
      step(`reading the WebAssembly module ${valid.wasm}`)
      const module = await readAll(this.data.get(valid.wasm, options))
      await validateWasm(module)
    } else {
      // throws the registry's UnknownFunctionError, naming the known functions
      this.functions.get(valid.fn).validateParams?.(valid.params)
    }
    // the input roots, read a few at a time (a job may have thousands of inputs)
    const layouts = []
    step(`reading the input roots (0 of ${valid.inputs.length} read)`)
    // a failed read stops the others (`stop`), so they do not run on for minutes after the submit failed
    for await (const layout of mapOrdered(valid.inputs, SUBMIT_MANIFEST_CONCURRENCY, async (input, stop) => await this.manifestOf(input, options.signal != null ? AbortSignal.any([options.signal, stop]) : stop, rootAttempts))) {
      layouts.push(layout)
      step(`reading the input roots (${layouts.length} of ${valid.inputs.length} read)`)
    }
    const doc = buildDocument(valid, layouts, this.peerId)
    const bytes = encodeDocument(doc)
    const id = (await documentId(bytes)).toString()
    step(`announcing job ${id}`)
    await this.publish({ t: 'job', job: id, doc: bytes })
    // the document travels in the job fact, which every peer keeps; it is stored in the swarm
    // too, in the background: at 200 peers on two cores that put took minutes and held up the job
    void this.data.put(bytes).catch(() => {})
    const job = new Job(id, this)
    announced(job)
    // nudge a few peers: they see we know a job they lack and pull it
    for (const peer of connectedPeers(this.node).slice(0, 3)) void this.syncWith(peer)
    step(`waiting for another peer to see job ${id}`)
    await this.awaitWitness(id, options.signal).catch(() => {})
    return job
  }

  /**
   * An input's manifest, asked for up to SUBMIT_MANIFEST_ATTEMPTS times: on a
   * loaded swarm one fetch can run out of time while the root is there, and
   * one missing root fails the whole submission.
   */
  private async manifestOf (input: string, signal: AbortSignal | undefined, attempts: number): Promise<Awaited<ReturnType<JobDataAccess['manifest']>>> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.data.manifest(input, signal != null ? { signal } : {})
      } catch (err) {
        if (signal?.aborted === true || attempt >= attempts || !(err instanceof NotFoundError)) throw err
        // a quick "nobody asked holds it" is not asked again at once
        await new Promise(resolve => setTimeout(resolve, SUBMIT_ROOT_RETRY_MS))
      }
    }
  }

  /**
   * Waits (bounded) until another peer shows it knows the job (any fact of
   * its about the job, or a sync that pulled it), so a submitter may leave
   * as soon as `submit` resolves. Alone in the swarm, returns at once.
   */
  private async awaitWitness (id: string, signal?: AbortSignal): Promise<void> {
    const deadline = Date.now() + SUBMIT_WITNESS_TIMEOUT_MS
    const me = this.peerId
    const witnessed = (): boolean => (this.states.get(id)?.allFacts() ?? []).some(f => f.from !== me) || (this.witnesses.get(id) ?? 0) > 0
    while (!witnessed() && isConnected(this.node) && Date.now() < deadline) {
      await this.nextChange(id, 250, signal)
    }
  }

  /** A handle on a job this peer knows; JobNotFoundError otherwise. */
  get (id: string): Job {
    if (this.states.get(id)?.doc == null) throw new JobNotFoundError(`unknown job ${id}`)
    return new Job(id, this)
  }

  /**
   * Like `get`, but first asks connected peers for a job not known here. A
   * peer just started may have no connection yet, and a busy one may not
   * answer: it asks again as peers connect, until one has answered (then a
   * job it does not know is unknown) or the signal (by default
   * FIND_TIMEOUT_MS) ends the wait.
   */
  async find (id: string, options: { signal?: AbortSignal } = {}): Promise<Job> {
    const known = (): boolean => this.states.get(id)?.doc != null
    if (known()) return this.get(id)
    const signal = options.signal ?? AbortSignal.timeout(FIND_TIMEOUT_MS)
    let asked = 0
    while (true) {
      const { asked: n, answered } = await this.syncWithConnected(FIND_SYNC_PEERS)
      asked += n
      if (known()) return this.get(id)
      if (answered > 0) throw new JobNotFoundError(`unknown job ${id}: none of the ${answered} peers asked knows it`)
      if (signal.aborted) {
        // a time limit ends the wait with the reason; any other abort is the caller's own
        const reason: unknown = signal.reason
        if (!(reason instanceof Error && reason.name === 'TimeoutError')) throw reason
        throw new JobNotFoundError(`unknown job ${id}: ${asked === 0 ? 'this peer had no connection to ask' : `no peer answered (${asked} asked)`} before the time limit`)
      }
      await this.nextConnect(FIND_RETRY_MS, signal)
    }
  }

  /** Resolves when a peer connects, after `timeoutMs`, or when `signal` aborts. */
  private async nextConnect (timeoutMs: number, signal: AbortSignal): Promise<void> {
    await new Promise<void>(resolve => {
      const done = (): void => {
        clearTimeout(timer)
        this.node.removeEventListener('peer:connect', done)
        signal.removeEventListener('abort', done)
        resolve()
      }
      const timer = setTimeout(done, timeoutMs)
      this.node.addEventListener('peer:connect', done)
      signal.addEventListener('abort', done)
    })
  }

  view (id: string): JobView {
    const state = this.states.get(id)
    if (state?.doc == null) throw new JobNotFoundError(`unknown job ${id}`)
    return state.view()
  }

  list (): Array<JobView & { fn: string, createdAt: number, submitter: string }> {
    return [...this.states.values()]
      .filter(s => s.doc != null)
      .map(s => ({ ...s.view(), fn: (s.doc as JobDocument).fn, createdAt: (s.doc as JobDocument).createdAt, submitter: (s.doc as JobDocument).submitter }))
      .sort((a, b) => a.createdAt - b.createdAt)
  }

  /** The states the scheduler pulls from. */
  jobs (): JobState[] {
    return [...this.states.values()].filter(s => s.doc != null)
  }

  state (id: string): JobState | undefined {
    return this.states.get(id)
  }

  /**
   * Ids of the peers this peer is connected to, sorted. The same array until
   * a peer connects or disconnects (callers may compare it by identity); the
   * scheduler asks on every round, so it is not rebuilt each time.
   */
  livePeerIds (): readonly string[] {
    this.connected ??= connectedPeers(this.node).map(p => p.toString()).sort()
    return this.connected
  }

  /** Peers this peer is connected to (for fair shares of open work). */
  livePeers (): number {
    return this.livePeerIds().length
  }

  /**
   * Peers this peer sees on the jobs topic. None means it is outside the
   * swarm's job layer, connected or not: a device restarted into a saturated
   * swarm held two connections on which no peer answered for minutes.
   */
  jobPeers (): number {
    return this.node.services.pubsub.getSubscribers(JOBS_TOPIC).length
  }

  /** Resolves on the next change of `id`, or after `timeoutMs`. */
  async nextChange (id: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted()
    await new Promise<void>((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer)
        this.removeEventListener('change', onChange)
        signal?.removeEventListener('abort', onAbort)
      }
      const onChange = (evt: Event): void => { if ((evt as CustomEvent<string>).detail === id) { done(); resolve() } }
      const onAbort = (): void => { done(); reject(signal?.reason) }
      const timer = setTimeout(() => { done(); resolve() }, timeoutMs)
      this.addEventListener('change', onChange)
      signal?.addEventListener('abort', onAbort)
    })
  }

  async result (id: string, options: { signal?: AbortSignal } = {}): Promise<Uint8Array> {
    const state = this.states.get(id)
    if (state?.doc == null) throw new JobNotFoundError(`unknown job ${id}`)
    let checked = false
    while (true) {
      // cheap checks on every change; the full view only to explain a failure
      const done = state.doneResult()
      if (done != null) {
        const inline = state.doneInline(done.hash)
        if (inline != null) return inline
        const bytes = await readAll(this.data.get(done.result, options))
        if (resultHash(bytes) !== done.hash) throw new JobFailedError(`result of job ${id} does not match its hash`)
        return bytes
      }
      if (state.failed) {
        // a view can be partial (a device back from a crash has synced part of the job): a task
        // that failed too often in it may have a result elsewhere, so peers are asked once first
        if (!checked) {
          checked = true
          await this.syncWithConnected(FAILURE_CHECK_PEERS)
          options.signal?.throwIfAborted()
          continue
        }
        throw new JobFailedError(`job ${id} failed: ${state.view().reason ?? 'unknown reason'}`)
      }
      await this.nextChange(id, 1000, options.signal)
    }
  }

  // ---------------------------------------------------------------- aggregation

  /** Bytes of a task result: inline from its fact, or fetched from the swarm; checked against its hash. */
  async taskResultBytes (state: JobState, hash: string, options: { signal?: AbortSignal } = {}): Promise<Uint8Array> {
    const inline = state.inlineResults.get(hash)
    if (inline != null && resultHash(inline) === hash) return inline
    const ref = state.resultRefs.get(hash)
    if (ref == null) throw new InvalidJobError(`no copy of task result ${hash}`)
    const bytes = await readAll(this.data.get(ref, options))
    if (resultHash(bytes) !== hash) throw new InvalidJobError(`task result ${hash} from the swarm does not match its hash`)
    return bytes
  }

  /**
   * When every task of a job is accepted, one peer reduces: the contributor
   * that ranks first by rendezvous hash among those still connected (or this
   * peer). The others, in rank order, wait REDUCE_GRACE_MS per rank and
   * reduce themselves if no `done` fact came, so a reducer that died costs a
   * few seconds, not the job. A reduce that fails is tried again
   * REDUCE_GRACE_MS later (no new fact may come to prompt it).
   */
  private maybeReduce (state: JobState): void {
    const doc = state.doc
    if (doc == null || this.reducing.has(state.id) || this.reduceTimers.has(state.id)) return
    if (!this.running || !state.complete || state.doneResult() != null) return
    if (doc.wasm == null && !this.functions.has(doc.fn)) return
    const me = this.peerId
    const live = new Set([me, ...connectedPeers(this.node).map(p => p.toString())])
    const candidates = state.contributors().filter(p => live.has(p))
    if (!candidates.includes(me)) candidates.push(me)
    candidates.sort((a, b) => rendezvousScore(state.id, b) - rendezvousScore(state.id, a))
    const delay = candidates.indexOf(me) * REDUCE_GRACE_MS
    // the first-ranked peer reduces now, not on a timer: on a saturated host (200 peers on two
    // cores) one turn of the event loop took 40 s, and timers fired only once a turn
    if (delay === 0) { void this.reduce(state); return }
    this.reduceLater(state, delay, () => { void this.reduce(state) })
  }

  /** Runs `then` after `delay` unless the job is done by then or this service stopped. */
  private reduceLater (state: JobState, delay: number, then: () => void): void {
    const timer = setTimeout(() => {
      this.reduceTimers.delete(state.id)
      if (state.doneResult() == null && this.running) then()
    }, delay)
    timer.unref()
    this.reduceTimers.set(state.id, timer)
  }

  private async reduce (state: JobState): Promise<void> {
    const doc = state.doc as JobDocument
    const accepted = state.acceptedResults()
    if (accepted == null) return
    this.reducing.add(state.id)
    try {
      const results: Uint8Array[] = []
      for (const entry of accepted) results.push(await this.taskResultBytes(state, entry.hash))
      const final = doc.wasm != null ? await concatReduce(results) : await this.functions.get(doc.fn).reduce(results, doc.params)
      const done = { t: 'done' as const, job: state.id, hash: resultHash(final), size: final.length }
      if (final.length <= INLINE_DONE_MAX_BYTES) {
        // inline: every peer keeps the fact, so the job is done now; the swarm copy follows
        const cid = await this.data.cidFor(final)
        if (state.doneResult() == null) {
          await this.publish({ ...done, at: Date.now(), result: cid.toString(), data: final })
          void this.data.put(final).catch(() => {})
        }
      } else {
        const cid = await this.data.put(final)
        if (state.doneResult() == null) await this.publish({ ...done, at: Date.now(), result: cid.toString() })
      }
    } catch {
      // another peer may succeed; this one tries again later (a complete job gets few new facts)
      if (this.running && !this.reduceTimers.has(state.id)) this.reduceLater(state, REDUCE_GRACE_MS, () => { this.maybeReduce(state) })
    } finally {
      this.reducing.delete(state.id)
    }
  }
}
