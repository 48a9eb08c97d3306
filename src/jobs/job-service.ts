/**
 * jobs/job-service: `JobService`, the job layer's front. It wires the parts
 * (the fact store, gossip of facts, sync, membership, submit, find and the
 * reducer), starts and stops them in order, and answers what other layers
 * and users ask: the jobs' states and views, handles on jobs, final results,
 * and the live peers. Every peer keeps every job's facts: gossip is the fast
 * path, sync makes peers converge when a message was missed, and the
 * datastore keeps them across restarts.
 *
 * A job's submitter cancels it here (`cancel`); a job whose deadline passes
 * changes then (deadline-watch.ts); a waiting job no live peer can run says
 * so in its view (runnability.ts).
 *
 * Never runs tasks (the scheduler does) and never accepts a fact it has not
 * verified. Dispatches `change` (detail: the job id) on every change of a job.
 */
import { setMaxListeners } from 'node:events'
import type { Startable } from '@libp2p/interface'
import { FAILURE_CHECK_PEERS, SYNC_INTERVAL_MS } from './constants.ts'
import { CancelRefusedError, JobCanceledError, JobFailedError, JobNotFoundError } from './errors.ts'
import { joinFactReaders, type Fact, type SignedFact } from './facts.ts'
import type { JobDocument, JobSpec } from './spec.ts'
import { JobState } from './state.ts'
import type { KnownJob } from './finished-job.ts'
import type { JobView } from './views.ts'
import type { JobServiceComponents, JobServiceInit } from './components.ts'
import { FactStore, type JobStats } from './fact-store.ts'
import { FactGossip } from './gossip.ts'
import { Membership } from './membership.ts'
import { JobSync } from './sync/job-sync.ts'
import { JobSubmitter, type SubmitOptions } from './submit.ts'
import { findJob } from './find.ts'
import { Reducer } from './reducer.ts'
import { PassChecker } from './pass-check.ts'
import { PassStates } from './pass-states.ts'
import { readFinalResult } from './results.ts'
import { Job, type JobSource } from './job.ts'
import { registerJobMetrics } from './job-metrics.ts'
import { DeadlineWatch } from './deadline-watch.ts'
import { JobRetention, type JobGcReport } from './retention.ts'
import type { CID } from 'multiformats/cid'
import { unmetRequirement, type RunnerStatus } from './runnability.ts'
import { formatDuration } from './ending.ts'

/** How long a result waiter waits for a change before it looks at the job again. */
const RESULT_RECHECK_MS = 1_000

/** A job's view with what `list` shows beside it. */
export type JobListEntry = JobView & { fn: string, createdAt: number, submitter: string }

export class JobService extends EventTarget implements Startable, JobSource {
  /** Counts of facts received and rejected, and of syncs made. */
  readonly stats: JobStats = { factsReceived: 0, factsRejected: 0, syncs: 0 }
  private readonly components: JobServiceComponents
  private readonly store: FactStore
  private readonly gossip: FactGossip
  private readonly membership: Membership
  private readonly sync: JobSync
  /** Leaves this process's fact readers (facts.ts): set while started. */
  private leaveFactReaders?: () => void
  private readonly submitter: JobSubmitter
  private readonly reducer: Reducer
  private readonly states: PassStates
  private readonly checker: PassChecker
  private readonly deadlines: DeadlineWatch
  private readonly retention: JobRetention

  constructor (components: JobServiceComponents, init: JobServiceInit = {}) {
    super()
    // one listener per Job handle and per waiting call
    setMaxListeners(Infinity, this)
    this.components = components
    const log = components.logger.forComponent('edgeswarm:jobs')
    const peerId = components.peerId.toString()
    this.membership = new Membership(components)
    this.states = new PassStates()
    this.checker = new PassChecker({ data: components.data, functions: components.functions, states: this.states })
    this.deadlines = new DeadlineWatch((job) => { this.dispatchEvent(new CustomEvent<string>('change', { detail: job })) })
    this.store = new FactStore(
      { peerId, data: components.data, checker: this.checker, datastore: components.datastore, stats: this.stats, events: this, log },
      { changed: (state) => { this.reducer.maybeReduce(state); this.deadlines.watch(state); this.retention.changed(state) }, finishedIdleMs: init.finishedIdleMs }
    )
    this.retention = new JobRetention({ peerId, store: this.store, data: components.data, log }, { keepMs: init.keepMs })
    this.gossip = new FactGossip({ peerId, privateKey: components.privateKey, pubsub: components.pubsub, store: this.store, stats: this.stats, log })
    const publish = async (fact: Fact): Promise<SignedFact> => await this.gossip.publish(fact)
    this.reducer = new Reducer({
      peerId,
      data: components.data,
      functions: components.functions,
      checker: this.checker,
      membership: this.membership,
      publish,
      log
    })
    this.sync = new JobSync(
      { network: components.network, membership: this.membership, store: this.store, stats: this.stats, log: components.logger.forComponent('edgeswarm:jobs:sync') },
      { intervalMs: init.syncIntervalMs ?? SYNC_INTERVAL_MS }
    )
    this.submitter = new JobSubmitter({
      peerId,
      data: components.data,
      functions: components.functions,
      membership: this.membership,
      store: this.store,
      sync: this.sync,
      publish,
      handle: (id) => new Job(id, this)
    })
    if (components.metrics != null) registerJobMetrics(components.metrics, { stats: this.stats, jobs: () => this.known() })
  }

  /** Peers outvoted in any job: their claims are not granted in later jobs. */
  get untrusted (): Set<string> {
    return this.store.untrusted
  }

  async start (): Promise<void> {
    this.leaveFactReaders ??= joinFactReaders()
    this.membership.start()
    // a complete job read back from the datastore is reduced as it loads
    this.reducer.start()
    await this.store.load()
    this.store.start()
    this.retention.markLoaded()
    this.gossip.start()
    await this.sync.start()
    this.retention.start()
  }

  async stop (): Promise<void> {
    this.retention.stop()
    this.deadlines.stop()
    this.reducer.stop()
    await this.sync.stop()
    this.gossip.stop()
    this.membership.stop()
    await this.store.flush()
    this.leaveFactReaders?.()
    this.leaveFactReaders = undefined
  }

  /**
   * Whether the job layer needs block `cid` kept: a result batch of a job not finished, a
   * pass state of a job not collected (the data layer's `pins`; see retention.ts).
   */
  isPinned (cid: CID): boolean {
    return this.retention.isPinned(cid)
  }

  /** Collects the finished jobs past their retention now (`edgeswarm gc` runs it); what it freed. */
  async collect (options: { signal?: AbortSignal } = {}): Promise<JobGcReport> {
    options.signal?.throwIfAborted()
    return await this.retention.collect()
  }

  /** How long (ms) a finished job is kept here; 0: forever. */
  get keepMs (): number {
    return this.retention.keepMs
  }

  /** Signs, applies and gossips one of this peer's facts. */
  async publish (fact: Fact): Promise<SignedFact> {
    return await this.gossip.publish(fact)
  }

  /**
   * Submits a job; resolves once the job is announced (its document inline in
   * the `job` fact) and another peer has shown it holds it (bounded). Stopped
   * by `signal` at once with a SubmitAbortedError naming the step.
   */
  async submit (spec: JobSpec, options: SubmitOptions = {}): Promise<Job> {
    return await this.submitter.submit(spec, options)
  }

  /** A handle on a job this peer knows; JobNotFoundError otherwise. */
  get (id: string): Job {
    if (this.store.known(id)?.doc == null) throw new JobNotFoundError(`unknown job ${id}`)
    return new Job(id, this)
  }

  /**
   * Like `get`, but first asks connected peers for a job not known here,
   * until one has answered or the signal (by default JOB_FIND_TIMEOUT_MS)
   * ends the wait (see find.ts).
   */
  async find (id: string, options: { signal?: AbortSignal } = {}): Promise<Job> {
    if (this.store.collected(id)) throw new JobNotFoundError(`job ${id} was collected here: it finished more than ${formatDuration(this.retention.keepMs)} ago`)
    await findJob(id, { network: this.components.network, store: this.store, sync: this.sync }, options)
    return this.get(id)
  }

  /**
   * The bytes of the accepted state of pass `pass` of job `id` (what the tasks of the pass
   * after it run at), verified against the accepted fact; InvalidJobError when the pass has no
   * accepted state here, JobNotFoundError for a job not known here.
   */
  async passState (id: string, pass: number, options: { signal?: AbortSignal } = {}): Promise<Uint8Array> {
    const state = await this.store.restore(id)
    if (state?.doc == null) throw new JobNotFoundError(`unknown job ${id}`)
    options.signal?.throwIfAborted()
    return this.states.bytes(state, pass)
  }

  /** The view of a job this peer knows (with why no live peer can run it, while it waits); JobNotFoundError otherwise. */
  view (id: string): JobView {
    const state = this.store.state(id)
    if (state?.doc != null) return this.withWarning(state.view(), state.doc)
    const job = this.store.known(id)
    if (job?.doc == null) throw new JobNotFoundError(`unknown job ${id}`)
    return job.view()
  }

  /** Every job this peer knows, oldest first. */
  list (): JobListEntry[] {
    const out: JobListEntry[] = []
    let runners: readonly RunnerStatus[] | undefined
    for (const s of this.store.all()) {
      const doc = s.doc
      if (doc == null) continue
      let view = s.view()
      // only a job whose facts are in memory can be waiting (a finished one has ended)
      if (s instanceof JobState && s.doc != null && (view.status === 'queued' || view.status === 'running')) {
        runners ??= this.components.runners?.()
        view = this.withWarning(view, s.doc, runners)
      }
      out.push({ ...view, fn: doc.fn, createdAt: doc.createdAt, submitter: doc.submitter })
    }
    return out.sort((a, b) => a.createdAt - b.createdAt)
  }

  /** `view` with a warning when the job waits and no live peer can run it (see runnability.ts). */
  private withWarning (view: JobView, doc: JobDocument, runners?: readonly RunnerStatus[]): JobView {
    if (view.status !== 'queued' && view.status !== 'running') return view
    const live = runners ?? this.components.runners?.()
    if (live == null) return view
    const warning = unmetRequirement(doc, live)
    return warning == null ? view : { ...view, warning }
  }

  /**
   * Cancels job `id`: signs and gossips a `cancel` fact, which ends the job on every peer
   * (ending.ts). Only its submitter may: CancelRefusedError for anyone else, and for a job
   * that has ended already; JobNotFoundError for a job not known here.
   */
  async cancel (id: string, options: { signal?: AbortSignal } = {}): Promise<JobView> {
    const job = this.store.known(id)
    if (job?.doc == null) throw new JobNotFoundError(`unknown job ${id}`)
    const me = this.components.peerId.toString()
    if (job.doc.submitter !== me) throw new CancelRefusedError(`only the submitter of job ${id} may cancel it (submitted by ${job.doc.submitter}, this peer is ${me})`)
    options.signal?.throwIfAborted()
    const view = job.view()
    if (view.status !== 'queued' && view.status !== 'running') throw new CancelRefusedError(`job ${id} has ended already: ${view.status}`)
    await this.gossip.publish({ t: 'cancel', job: id, at: Date.now() })
    return this.view(id)
  }

  /** The states the scheduler pulls from: every job whose document is known and whose facts are in memory (a finished job's may not be). */
  jobs (): JobState[] {
    const out: JobState[] = []
    for (const [, s] of this.store.entries()) if (s.doc != null) out.push(s)
    return out
  }

  /** Every job whose document is known here, its facts in memory or not (what lists and counts read). */
  known (): KnownJob[] {
    const out: KnownJob[] = []
    for (const s of this.store.all()) if (s.doc != null) out.push(s)
    return out
  }

  /** The state of job `id` if its facts are in memory (a finished job's may not be: see `restore`). */
  state (id: string): JobState | undefined {
    return this.store.state(id)
  }

  /** The state of job `id` with every fact in memory, read back from the datastore for a finished job; undefined for a job not known here. */
  async restore (id: string): Promise<JobState | undefined> {
    return await this.store.restore(id)
  }

  /** Ids of the connected peers, sorted; the same array until a peer connects or disconnects. */
  livePeerIds (): readonly string[] {
    return this.membership.livePeerIds()
  }

  /** How many peers are connected (for fair shares of open work). */
  livePeers (): number {
    return this.membership.livePeers()
  }

  /** How many peers this peer sees on the jobs topic; none means it is outside the swarm's job layer. */
  jobPeers (): number {
    return this.membership.jobPeers()
  }

  /** Resolves on the next change of job `id`, or after `timeoutMs`. */
  async nextChange (id: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    await this.store.nextChange(id, timeoutMs, signal)
  }

  /**
   * The final result of job `id`, verified against its hash, once it is done.
   * A job failed in this peer's view is first checked with FAILURE_CHECK_PEERS
   * connected peers: the view may be partial (a device back from a crash), and
   * a result elsewhere outweighs the failures. JobFailedError if it failed.
   */
  async result (id: string, options: { signal?: AbortSignal } = {}): Promise<Uint8Array> {
    const state = await this.store.restore(id)
    if (state?.doc == null) throw new JobNotFoundError(`unknown job ${id}`)
    let checked = false
    while (true) {
      // cheap checks on every change; the full view only to explain a failure
      const done = state.doneResult()
      if (done != null) return await readFinalResult(this.components.data, state, done, options)
      if (state.failed) {
        if (!checked) {
          checked = true
          await this.sync.syncWithConnected(FAILURE_CHECK_PEERS)
          options.signal?.throwIfAborted()
          continue
        }
        const view = state.view()
        if (view.canceled != null) throw new JobCanceledError(`job ${id} was canceled by ${view.canceled.by} at ${new Date(view.canceled.at).toISOString()}`)
        throw new JobFailedError(`job ${id} failed: ${view.reason ?? 'unknown reason'}`)
      }
      await this.store.nextChange(id, RESULT_RECHECK_MS, options.signal)
    }
  }
}
