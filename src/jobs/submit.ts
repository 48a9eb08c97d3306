/**
 * jobs/submit: submitting a job. It validates the spec (and the WebAssembly
 * module, or the named function's params), reads the input roots a few at a
 * time, checks the input where the function asks to (its first input's
 * header and first record, and the blocks its `blockParams` name, through
 * its `checkInput`), builds the job document (one task per input shard, and
 * an iterative function's number of passes), announces it
 * inline in a signed `job` fact, stores it in the swarm in the background,
 * and waits (bounded) until another peer shows it holds the job, so the
 * submitter may leave once `submit` resolves.
 *
 * A submit stopped by its signal ends at once with a SubmitAbortedError that
 * names its step, whatever it waits on; once the job is announced it exists
 * and runs, so the caller gets the job instead. Never announces a job whose
 * inputs it could not read.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { mapOrdered } from '../async/index.ts'
import { NotFoundError } from '../data/index.ts'
import { validateWasm } from '../sandbox/index.ts'
import {
  SUBMIT_MANIFEST_ATTEMPTS, SUBMIT_MANIFEST_CONCURRENCY, SUBMIT_NUDGE_PEERS, SUBMIT_ROOT_RETRY_MS, SUBMIT_WITNESS_TIMEOUT_MS
} from './constants.ts'
import { InvalidJobError, SubmitAbortedError } from './errors.ts'
import type { Fact, SignedFact } from './facts.ts'
import { buildDocument, documentId, encodeDocument, validateSpec, type JobSpec } from './spec.ts'
import { readAll, type InputManifest, type JobServiceData } from './data-access.ts'
import { readInputHead, readParamBlocks } from './input-head.ts'
import type { JobFunctions } from './components.ts'
import type { FactStore } from './fact-store.ts'
import type { Membership } from './membership.ts'
import type { JobSync } from './sync/job-sync.ts'
import type { Job } from './job.ts'

/** How long the wait for a witness waits for a change before it looks again. */
const WITNESS_RECHECK_MS = 250

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

export interface JobSubmitterComponents {
  /** This peer's id: the submitter named in the job document. */
  peerId: string
  data: Pick<JobServiceData, 'get' | 'manifest' | 'put' | 'getShard'>
  functions: JobFunctions
  membership: Pick<Membership, 'connectedPeers' | 'isConnected'>
  store: Pick<FactStore, 'state' | 'nextChange'>
  sync: Pick<JobSync, 'syncWith' | 'witnessed'>
  /** Signs, applies and gossips a fact (the `job` fact). */
  publish: (fact: Fact) => Promise<SignedFact>
  /** A handle on a job this peer knows. */
  handle: (id: string) => Job
}

export class JobSubmitter {
  private readonly components: JobSubmitterComponents

  constructor (components: JobSubmitterComponents) {
    this.components = components
  }

  /** Submits a job (see the module header); resolves once the job is announced and witnessed, or the wait for a witness ended. */
  async submit (spec: JobSpec, options: SubmitOptions = {}): Promise<Job> {
    const signal = options.signal
    let step = 'checking the job'
    const stopped = (): SubmitAbortedError => new SubmitAbortedError(`submit stopped while ${step}: ${String(signal?.reason instanceof Error ? signal.reason.message : signal?.reason)}`)
    if (signal?.aborted === true) throw stopped()
    let announced: Job | undefined
    const work = this.steps(spec, options, (s) => { step = s }, (job) => { announced = job })
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

  private async steps (spec: JobSpec, options: SubmitOptions, step: (s: string) => void, announced: (job: Job) => void): Promise<Job> {
    const { peerId, data, functions, membership, sync, publish, handle } = this.components
    const valid = validateSpec(spec)
    const rootAttempts = options.rootAttempts ?? SUBMIT_MANIFEST_ATTEMPTS
    if (!Number.isSafeInteger(rootAttempts) || rootAttempts < 1) throw new InvalidJobError(`rootAttempts must be a whole number >= 1, got ${String(rootAttempts)}`)
    // throws the registry's UnknownFunctionError, naming the known functions
    const fn = valid.wasm == null ? functions.get(valid.fn) : undefined
    if (valid.wasm != null) {
      step(`reading the WebAssembly module ${valid.wasm}`)
      const module = await readAll(data.get(valid.wasm, options))
      await validateWasm(module)
    } else {
      fn?.validateParams?.(valid.params)
    }
    const passes = fn?.passes?.count(valid.params)
    // the input roots, read a few at a time (a job may have thousands of inputs)
    const layouts = []
    step(`reading the input roots (0 of ${valid.inputs.length} read)`)
    // a failed read stops the others (`stop`), so they do not run on after the submit failed
    for await (const layout of mapOrdered(valid.inputs, SUBMIT_MANIFEST_CONCURRENCY, async (input, stop) => await this.manifestOf(input, options.signal != null ? AbortSignal.any([options.signal, stop]) : stop, rootAttempts))) {
      layouts.push(layout)
      step(`reading the input roots (${layouts.length} of ${valid.inputs.length} read)`)
    }
    if (fn?.checkInput != null || (fn?.blockParams?.length ?? 0) > 0) {
      step('checking the input')
      const blocks = await readParamBlocks(data, fn?.blockParams ?? [], valid.params, options)
      const head = await readInputHead(data, layouts[0], options)
      fn?.checkInput?.(head.header, valid.params, blocks, head.firstRecord)
    }
    const doc = buildDocument(valid, layouts, peerId, Date.now(), passes)
    const bytes = encodeDocument(doc)
    const id = (await documentId(bytes)).toString()
    step(`announcing job ${id}`)
    await publish({ t: 'job', job: id, doc: bytes })
    // the document travels in the job fact, which every peer keeps; its copy in the swarm
    // is stored in the background, so a slow put does not hold up the job
    void data.put(bytes, { listed: false }).catch(() => {})
    const job = handle(id)
    announced(job)
    // nudge a few peers: they see we know a job they lack and pull it
    for (const peer of membership.connectedPeers().slice(0, SUBMIT_NUDGE_PEERS)) void sync.syncWith(peer)
    step(`waiting for another peer to see job ${id}`)
    await this.awaitWitness(id, options.signal).catch(() => {})
    return job
  }

  /**
   * An input's manifest, asked for up to `attempts` times while it is not
   * found: on a loaded swarm one ask can run out of time while the root is
   * there, and one missing root fails the whole submission.
   */
  private async manifestOf (input: string, signal: AbortSignal, attempts: number): Promise<InputManifest> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.components.data.manifest(input, { signal })
      } catch (err) {
        if (signal.aborted || attempt >= attempts || !(err instanceof NotFoundError)) throw err
        // a quick "nobody asked holds it" is not asked again at once
        await sleep(SUBMIT_ROOT_RETRY_MS, undefined, { signal })
      }
    }
  }

  /**
   * Waits, at most SUBMIT_WITNESS_TIMEOUT_MS, until another peer shows it
   * knows the job (a fact of its about the job, or a sync that showed it);
   * alone in the swarm, returns at once.
   */
  private async awaitWitness (id: string, signal?: AbortSignal): Promise<void> {
    const { peerId, membership, store, sync } = this.components
    const deadline = Date.now() + SUBMIT_WITNESS_TIMEOUT_MS
    const witnessed = (): boolean => (store.state(id)?.allFacts() ?? []).some(f => f.from !== peerId) || sync.witnessed(id)
    while (!witnessed() && membership.isConnected() && Date.now() < deadline) {
      await store.nextChange(id, WITNESS_RECHECK_MS, signal)
    }
  }
}
