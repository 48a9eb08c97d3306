/**
 * jobs/pass-check: what an iterative job's `pass` and `done` facts must say,
 * and the verdict on one. A pass's outcome is a pure function of the state
 * before it and its accepted results (the function's `passes.reduce`), and
 * the job's result of its last state and the passes' reports (`finish`), so
 * every peer computes the same bytes: the elected reducer publishes them
 * (reducer.ts), and every other peer recomputes them and compares before the
 * fact counts.
 *
 * Verdicts on a fact for pass p (whose state's bytes must match its CID):
 * 1. pass p already has an accepted outcome: the same one is a confirmation,
 *    another a contradiction (rejected);
 * 2. pass p is not the open pass (pass p − 1 has no accepted state here), the
 *    pass's results are not all accepted here, or the fact names other results
 *    than this peer accepted (its digest): it waits, since this peer's view may
 *    be partial;
 * 3. otherwise the outcome is recomputed and compared: equal, accepted;
 *    different, rejected: a wrong state is never built on.
 * A peer that cannot run the function (it never runs the job's tasks, so never
 * builds on a state) cannot recompute: it accepts a fact that passes 1 and 2.
 * An error of the function's reduce is the pass's outcome (a failure, the same
 * on every peer); an error reading a result or a state is not, and the fact waits.
 *
 * Computed outcomes are shared by the reducer and the checks, and by every
 * peer of a process that runs the same function (as verified fact envelopes
 * are), since an outcome is a pure function of the function, the job's params,
 * the state before the pass and its results. Never publishes anything.
 */
import type { PassFunctions, PassOutcome } from '../functions/index.ts'
import { MAX_CACHED_PASS_OUTCOMES, MAX_PASS_STATE_BYTES, MAX_REASON_CHARS } from './constants.ts'
import { InvalidJobError } from './errors.ts'
import type { FactOf, SignedFact } from './facts.ts'
import type { JobFunctions } from './components.ts'
import type { JobServiceData } from './data-access.ts'
import { sameOutcome } from './pass-ledger.ts'
import { stateCid } from './passes.ts'
import type { PassStates } from './pass-states.ts'
import { resultHash } from './result-hash.ts'
import { readTaskResult } from './results.ts'
import type { JobState } from './state.ts'

/** What a `pass` fact for a computed outcome says, beside its job, pass and time. */
export type PassFields = Omit<FactOf<'pass'>, 't' | 'job' | 'pass' | 'at'>

/** A computed pass outcome: the fact's fields (a state, its CID and bytes, or a failure). */
export interface ComputedPass {
  fields: PassFields
}

/** What to do with a fact: count it, refuse it, or hold it until it can be checked. */
export type Verdict =
  | { verdict: 'accept' }
  | { verdict: 'reject', reason: string }
  | { verdict: 'wait', reason: string }

export interface PassCheckerComponents {
  data: Pick<JobServiceData, 'get'>
  functions: JobFunctions
  states: PassStates
}

const accept: Verdict = { verdict: 'accept' }
const wait = (reason: string): Verdict => ({ verdict: 'wait', reason })
const reject = (reason: string): Verdict => ({ verdict: 'reject', reason })

/** Whether a fact must be checked before it counts: a `pass` fact, or the `done` fact of an iterative job (or of a job whose document is not known yet). */
export function needsCheck (state: JobState, sf: SignedFact): boolean {
  if (sf.fact.t === 'pass') return true
  return sf.fact.t === 'done' && (state.doc == null || state.passes != null)
}

/**
 * Pass outcomes and final results computed in this process, by the function that computed
 * them, then by what they are a function of (see outcomeKey, finalKey), oldest first.
 */
const computed = new WeakMap<PassFunctions, Map<string, Promise<ComputedPass | Uint8Array>>>()

/** The computation `key` of `fn` in this process: the one under way or done, else `work`'s (kept unless it fails). */
async function shared<T extends ComputedPass | Uint8Array> (fn: PassFunctions, key: string, work: () => Promise<T>): Promise<T> {
  let cache = computed.get(fn)
  if (cache == null) { cache = new Map(); computed.set(fn, cache) }
  let p = cache.get(key) as Promise<T> | undefined
  if (p == null) {
    const started = work()
    p = started
    const entries = cache
    started.catch(() => { if (entries.get(key) === started) entries.delete(key) })
    cache.set(key, started)
    if (cache.size > MAX_CACHED_PASS_OUTCOMES) cache.delete(cache.keys().next().value as string)
  }
  return await p
}

export class PassChecker {
  private readonly components: PassCheckerComponents

  constructor (components: PassCheckerComponents) {
    this.components = components
  }

  /** The iterative function of `state`'s job on this peer, if it has one. */
  private passesOf (state: JobState): PassFunctions | undefined {
    const doc = state.doc
    if (doc == null || doc.wasm != null || !this.components.functions.has(doc.fn)) return undefined
    return this.components.functions.get(doc.fn).passes
  }

  /** Whether this peer can recompute the job's passes: it has the (iterative) function. */
  canCompute (state: JobState): boolean {
    return this.passesOf(state) != null
  }

  /**
   * The outcome of pass `pass` (the open pass by default) from its accepted results and the
   * state before it. Throws when a result or the state cannot be read, or the pass is not ready.
   */
  async outcome (state: JobState, pass = state.openPass, options: { signal?: AbortSignal } = {}): Promise<ComputedPass> {
    const digest = state.resultsDigest(pass)
    const fn = this.passesOf(state)
    if (digest == null) throw new InvalidJobError(`pass ${pass} of job ${state.id} has results missing`)
    if (fn == null) throw new InvalidJobError(`job ${state.id} is not an iterative job of a function this peer has`)
    // a pure function of: the job (its params), the pass, its results, the state before it
    const before = pass === 0 ? '' : state.passes?.get(pass - 1)?.fact.state ?? '?'
    return await shared(fn, `pass/${state.id}/${pass}/${digest}/${before}`, async () => await this.compute(state, pass, digest, options))
  }

  /** The final result of a job whose every pass has an accepted state: `finish` of its last state and the passes' reports. */
  async final (state: JobState, options: { signal?: AbortSignal } = {}): Promise<Uint8Array> {
    const fn = this.passesOf(state)
    const ledger = state.passes
    if (fn == null || ledger == null) throw new InvalidJobError(`job ${state.id} is not an iterative job of a function this peer has`)
    // a pure function of: the job (its params), its last state, every pass's report
    const key = `final/${state.id}/${ledger.get(ledger.count - 1)?.fact.state ?? '?'}/${JSON.stringify(ledger.reports())}`
    return await shared(fn, key, async () => await this.computeFinal(state, options))
  }

  /** The verdict on a `pass` fact, or on an iterative job's `done` fact (see the module header). */
  async verdict (state: JobState, sf: SignedFact, options: { signal?: AbortSignal } = {}): Promise<Verdict> {
    const f = sf.fact
    if (state.doc == null) return wait('the job document is not known yet')
    if (f.t === 'done') return await this.doneVerdict(state, f, options)
    if (f.t !== 'pass') return accept
    const ledger = state.passes
    if (ledger == null) return reject('a pass fact of a job that has no passes')
    if (f.pass >= ledger.count) return reject(`pass ${f.pass} of a job of ${ledger.count} passes`)
    if (f.data != null && stateCid(f.data).toString() !== f.state) return reject('its state\'s bytes do not match its CID')
    const held = ledger.get(f.pass)
    if (held != null) return sameOutcome(held.fact, f) ? accept : reject(`contradicts the accepted outcome of pass ${f.pass}`)
    if (f.pass !== state.openPass) return wait(`pass ${f.pass - 1} has no accepted state here`)
    if (state.failed) return wait('the job failed here')
    if (!state.passReady) return wait(`the results of pass ${f.pass} are not all accepted here`)
    if (state.resultsDigest(f.pass) !== f.results) return wait(`names other results of pass ${f.pass} than this peer accepted`)
    if (!this.canCompute(state)) return accept
    let computed: ComputedPass
    try {
      computed = await this.outcome(state, f.pass, options)
    } catch (err) {
      return wait(`cannot recompute pass ${f.pass}: ${(err as Error).message}`)
    }
    const expected: FactOf<'pass'> = { t: 'pass', job: f.job, pass: f.pass, at: f.at, ...computed.fields }
    return sameOutcome(expected, f)
      ? accept
      : reject(`its ${f.failure != null ? 'failure' : 'state'} does not follow from pass ${f.pass}'s results`)
  }

  private async doneVerdict (state: JobState, f: FactOf<'done'>, options: { signal?: AbortSignal }): Promise<Verdict> {
    const ledger = state.passes
    if (ledger == null) return accept
    if (ledger.failure != null) return reject(`the job failed at pass ${ledger.failure.pass}`)
    if (!ledger.complete) return wait('not every pass has an accepted state here')
    if (!this.canCompute(state)) return accept
    let final: Uint8Array
    try {
      final = await this.final(state, options)
    } catch (err) {
      return wait(`cannot recompute the result: ${(err as Error).message}`)
    }
    return resultHash(final) === f.hash && final.length === f.size ? accept : reject('its result does not follow from the last pass')
  }

  private async compute (state: JobState, pass: number, digest: string, options: { signal?: AbortSignal }): Promise<ComputedPass> {
    const { data, functions, states } = this.components
    const doc = state.doc
    const passes = doc != null ? functions.get(doc.fn).passes : undefined
    if (doc == null || passes == null) throw new InvalidJobError(`job ${state.id} is not an iterative job of a function this peer has`)
    const entries = state.acceptedResults(pass)
    if (entries == null) throw new InvalidJobError(`pass ${pass} of job ${state.id} has results missing`)
    const before = pass === 0 ? null : states.bytes(state, pass - 1)
    const results: Uint8Array[] = []
    for (const entry of entries) results.push(await readTaskResult(data, state, entry.hash, options))
    let outcome: PassOutcome
    try {
      outcome = await passes.reduce(pass, before, results, doc.params)
    } catch (err) {
      // the function's own error is the pass's outcome: the same on every peer
      outcome = { failure: err instanceof Error ? err.message : String(err) }
    }
    if ('failure' in outcome) return { fields: { results: digest, failure: outcome.failure.slice(0, MAX_REASON_CHARS) } }
    const loss = outcome.report.loss
    if (loss != null && !Number.isFinite(loss)) return { fields: { results: digest, failure: `pass ${pass}: the loss is not finite` } }
    const bytes = outcome.state
    if (bytes.length > MAX_PASS_STATE_BYTES) return { fields: { results: digest, failure: `pass ${pass}: its state of ${bytes.length} bytes exceeds ${MAX_PASS_STATE_BYTES}` } }
    const fields: PassFields = { results: digest, state: stateCid(bytes).toString(), data: bytes }
    if (loss != null) fields.loss = loss
    return { fields }
  }

  private async computeFinal (state: JobState, options: { signal?: AbortSignal }): Promise<Uint8Array> {
    const { functions, states } = this.components
    const doc = state.doc
    const ledger = state.passes
    const passes = doc != null ? functions.get(doc.fn).passes : undefined
    if (doc == null || ledger == null || passes == null || !ledger.complete) throw new InvalidJobError(`job ${state.id} has no last state yet`)
    const last = ledger.count - 1
    const cid = ledger.get(last)?.fact.state as string
    const bytes = states.bytes(state, last)
    return await passes.finish({ state: bytes, cid }, ledger.reports(), doc.params)
  }
}
