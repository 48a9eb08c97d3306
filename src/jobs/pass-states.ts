/**
 * jobs/pass-states: the bytes of an iterative job's accepted states, which
 * the next pass's tasks run at and its check reduces from: the copy this
 * peer computed or read last, else the copy the `pass` fact carries inline,
 * else the one in the swarm. Keeps the latest two states of a few jobs in
 * memory, so a pass's state is fetched (and hashed) once, not once per task.
 *
 * Never returns bytes that do not hash to the accepted fact's `hash`.
 */
import type { CID } from 'multiformats/cid'
import { cidOf, encodeManifest, endsWithNewline } from '../data/index.ts'
import { PASS_STATE_CHUNK_SIZE } from './constants.ts'
import { InvalidJobError } from './errors.ts'
import { readAll, type JobServiceData } from './data-access.ts'
import { resultHash } from './result-hash.ts'
import type { JobState } from './state.ts'

/** Jobs whose latest states are kept in memory (the least recently stored dropped first). */
const MAX_JOBS_WITH_STATES = 64
/** States kept per job: the one the open pass runs at, and the one before for late runs and checks. */
const STATES_PER_JOB = 2

/** A block of a state stored in the swarm. */
export interface StateBlock { cid: CID, bytes: Uint8Array }

/**
 * The blocks a state of at most PASS_STATE_CHUNK_SIZE bytes is stored as in the swarm (as
 * `put` with that chunk size stores it): its one shard and the root naming it, whose CID is the
 * state's; undefined for a larger or empty state. Every peer that holds the `pass` fact of an
 * inline state can make them, so the peers closest to them keep them from the fact, with no transfer.
 */
export function stateBlocks (bytes: Uint8Array): { shard: StateBlock, root: StateBlock } | undefined {
  if (bytes.length === 0 || bytes.length > PASS_STATE_CHUNK_SIZE) return undefined
  const shard = { cid: cidOf(bytes), bytes }
  const root = encodeManifest({ size: bytes.length, chunkSize: PASS_STATE_CHUNK_SIZE, shards: [{ cid: shard.cid, size: bytes.length, nl: endsWithNewline(bytes) }] })
  return { shard, root: { cid: root.cid, bytes: root.bytes } }
}

export class PassStates {
  private readonly data: Pick<JobServiceData, 'get'>
  /** Per job, pass → the accepted state's bytes, oldest job first. */
  private readonly kept = new Map<string, Map<number, Uint8Array>>()
  /** Reads in flight, by `job/pass`, so concurrent readers share one fetch. */
  private readonly reading = new Map<string, Promise<Uint8Array>>()

  constructor (data: Pick<JobServiceData, 'get'>) {
    this.data = data
  }

  /** Keeps `bytes` as the state of pass `pass` of `job` (the caller checked them against the accepted hash). */
  keep (job: string, pass: number, bytes: Uint8Array): void {
    let states = this.kept.get(job)
    if (states == null) {
      states = new Map()
      if (this.kept.size >= MAX_JOBS_WITH_STATES) this.kept.delete(this.kept.keys().next().value as string)
    } else {
      this.kept.delete(job)
    }
    this.kept.set(job, states)
    states.set(pass, bytes)
    while (states.size > STATES_PER_JOB) states.delete(Math.min(...states.keys()))
  }

  /** Forgets a job's states (it is over). */
  forget (job: string): void {
    this.kept.delete(job)
  }

  /**
   * The bytes of the accepted state of pass `pass` of `state`'s job; InvalidJobError when the
   * pass has no accepted state, or no copy matches its hash.
   */
  async bytes (state: JobState, pass: number, options: { signal?: AbortSignal } = {}): Promise<Uint8Array> {
    const held = this.kept.get(state.id)?.get(pass)
    if (held != null) return held
    const key = `${state.id}/${pass}`
    let reading = this.reading.get(key)
    if (reading == null) {
      reading = this.read(state, pass, options).finally(() => { this.reading.delete(key) })
      this.reading.set(key, reading)
    }
    return await reading
  }

  private async read (state: JobState, pass: number, options: { signal?: AbortSignal }): Promise<Uint8Array> {
    const fact = state.passes?.get(pass)?.fact
    if (fact?.hash == null || fact.state == null) throw new InvalidJobError(`pass ${pass} of job ${state.id} has no accepted state`)
    let bytes = fact.data
    if (bytes == null || resultHash(bytes) !== fact.hash) {
      bytes = await readAll(this.data.get(fact.state, options))
      if (resultHash(bytes) !== fact.hash) throw new InvalidJobError(`the state of pass ${pass} of job ${state.id} from the swarm does not match its hash`)
    }
    this.keep(state.id, pass, bytes)
    return bytes
  }
}
