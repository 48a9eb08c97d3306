/**
 * jobs/job-service: `JobService`, the job layer's front. It wires the parts
 * (the fact store, gossip of facts, sync, membership, submit, find and the
 * reducer), starts and stops them in order, and answers what other layers
 * and users ask: the jobs' states and views, handles on jobs, final results,
 * and the live peers. Every peer keeps every job's facts: gossip is the fast
 * path, sync makes peers converge when a message was missed, and the
 * datastore keeps them across restarts.
 *
 * Never runs tasks (the scheduler does) and never accepts a fact it has not
 * verified. Dispatches `change` (detail: the job id) on every change of a job.
 */
import { setMaxListeners } from 'node:events'
import type { Startable } from '@libp2p/interface'
import { FAILURE_CHECK_PEERS, SYNC_INTERVAL_MS } from './constants.ts'
import { JobFailedError, JobNotFoundError } from './errors.ts'
import type { Fact, SignedFact } from './facts.ts'
import type { JobDocument, JobSpec } from './spec.ts'
import type { JobState, JobView } from './state.ts'
import type { JobServiceComponents, JobServiceInit } from './components.ts'
import { FactStore, type JobStats } from './fact-store.ts'
import { FactGossip } from './gossip.ts'
import { Membership } from './membership.ts'
import { JobSync } from './sync/job-sync.ts'
import { JobSubmitter, type SubmitOptions } from './submit.ts'
import { findJob } from './find.ts'
import { Reducer } from './reducer.ts'
import { readFinalResult } from './results.ts'
import { Job, type JobSource } from './job.ts'
import { registerJobMetrics } from './job-metrics.ts'

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
  private readonly submitter: JobSubmitter
  private readonly reducer: Reducer

  constructor (components: JobServiceComponents, init: JobServiceInit = {}) {
    super()
    // one listener per Job handle and per waiting call
    setMaxListeners(Infinity, this)
    this.components = components
    const log = components.logger.forComponent('edgeswarm:jobs')
    const peerId = components.peerId.toString()
    this.membership = new Membership(components)
    this.store = new FactStore(
      { peerId, data: components.data, datastore: components.datastore, stats: this.stats, events: this, log },
      { changed: (state) => { this.reducer.maybeReduce(state) } }
    )
    this.gossip = new FactGossip({ peerId, privateKey: components.privateKey, pubsub: components.pubsub, store: this.store, stats: this.stats, log })
    const publish = async (fact: Fact): Promise<SignedFact> => await this.gossip.publish(fact)
    this.reducer = new Reducer({
      peerId,
      data: components.data,
      functions: components.functions,
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
    if (components.metrics != null) registerJobMetrics(components.metrics, { stats: this.stats, jobs: () => this.jobs() })
  }

  /** Peers outvoted in any job: their claims are not granted in later jobs. */
  get untrusted (): Set<string> {
    return this.store.untrusted
  }

  async start (): Promise<void> {
    this.membership.start()
    // a complete job read back from the datastore is reduced as it loads
    this.reducer.start()
    await this.store.load()
    this.gossip.start()
    await this.sync.start()
  }

  async stop (): Promise<void> {
    this.reducer.stop()
    await this.sync.stop()
    this.gossip.stop()
    this.membership.stop()
    await this.store.flush()
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
    if (this.store.state(id)?.doc == null) throw new JobNotFoundError(`unknown job ${id}`)
    return new Job(id, this)
  }

  /**
   * Like `get`, but first asks connected peers for a job not known here,
   * until one has answered or the signal (by default JOB_FIND_TIMEOUT_MS)
   * ends the wait (see find.ts).
   */
  async find (id: string, options: { signal?: AbortSignal } = {}): Promise<Job> {
    await findJob(id, { network: this.components.network, store: this.store, sync: this.sync }, options)
    return this.get(id)
  }

  /** The view of a job this peer knows; JobNotFoundError otherwise. */
  view (id: string): JobView {
    const state = this.store.state(id)
    if (state?.doc == null) throw new JobNotFoundError(`unknown job ${id}`)
    return state.view()
  }

  /** Every job this peer knows, oldest first. */
  list (): JobListEntry[] {
    const out: JobListEntry[] = []
    for (const [, s] of this.store.entries()) {
      if (s.doc != null) out.push({ ...s.view(), fn: (s.doc as JobDocument).fn, createdAt: (s.doc as JobDocument).createdAt, submitter: (s.doc as JobDocument).submitter })
    }
    return out.sort((a, b) => a.createdAt - b.createdAt)
  }

  /** The states the scheduler pulls from: every job whose document is known. */
  jobs (): JobState[] {
    const out: JobState[] = []
    for (const [, s] of this.store.entries()) if (s.doc != null) out.push(s)
    return out
  }

  /** The state of job `id`, if any fact of it is held. */
  state (id: string): JobState | undefined {
    return this.store.state(id)
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
    const state = this.store.state(id)
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
        throw new JobFailedError(`job ${id} failed: ${state.view().reason ?? 'unknown reason'}`)
      }
      await this.store.nextChange(id, RESULT_RECHECK_MS, options.signal)
    }
  }
}
