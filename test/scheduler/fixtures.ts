/**
 * Fixtures of the scheduler's tests without a network: peers with fixed
 * keys, a job document over distinct shards, a job state built from facts,
 * and a job source that applies this peer's facts to those states as the
 * job service would (without signing or gossip).
 */
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PeerId } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'
import { cidOf, closestPeers } from '../../src/data/index.ts'
import { buildDocument, JobState, shardCid, validateSpec, type Fact, type JobDocument, type JobSpec } from '../../src/jobs/index.ts'
import type { JobSource } from '../../src/scheduler/index.ts'
import { rendezvousRank } from '../../src/scheduler/choose.ts'

/** `n` peers with keys from fixed seeds: the same ids, so the same ranks, on every run. */
export async function fixedPeers (n: number): Promise<PeerId[]> {
  return await Promise.all(Array.from({ length: n }, async (_, i) => peerIdFromPrivateKey(await generateKeyPairFromSeed('Ed25519', new Uint8Array(32).fill(i + 1)))))
}

/**
 * What the rank table of `me` among `peers` must say of job `job`, computed
 * the long way: its designated tasks (it is the first by rendezvous rank
 * among the `replicas` peers closest to the task's shard) and its rank among
 * all the peers for each task.
 */
export function expectedRanks (peers: PeerId[], me: string, job: string, doc: JobDocument, replicas: number): { designated: number[], rank: (task: number) => number } {
  const ids = peers.map(String)
  const designated: number[] = []
  for (let i = 0; i < doc.tasks.length; i++) {
    const holders = closestPeers(shardCid(doc, i), peers, replicas).map(String)
    if (holders.includes(me) && rendezvousRank(`${job}/${i}`, me, holders) === 0) designated.push(i)
  }
  return { designated, rank: task => rendezvousRank(`${job}/${task}`, me, ids) }
}

/** A one-input job document of `tasks` tasks over distinct shards; with `passes`, an iterative job's. */
export function jobDocument (tasks: number, spec: Partial<JobSpec> = {}, passes?: number): JobDocument {
  const shards: Array<{ cid: CID, nl: boolean }> = []
  for (let i = 0; i < tasks; i++) shards.push({ cid: cidOf(new TextEncoder().encode(`${i}\n`)), nl: true })
  const root = cidOf(new TextEncoder().encode('root')).toString()
  return buildDocument(validateSpec({ fn: 'square', inputs: [root], ...spec }), [{ shards }], 'submitter', 1, passes)
}

/** The state of job `id` (document `doc`) with `avoid` untrusted from earlier jobs. */
export function jobState (id: string, doc: JobDocument, avoid: ReadonlySet<string> = new Set()): JobState {
  const state = new JobState(id, avoid)
  state.setDoc(doc)
  return state
}

let factIds = 0

/** Adds a fact by `from` to `state`, as a verified fact would be. */
export function addFact (state: JobState, from: string, fact: Fact): void {
  state.add({ id: `fact-${factIds++}`, from, fact, envelope: new Uint8Array(0) })
}

/** A fact this peer published, and when. */
export interface Published { at: number, fact: Fact }

/**
 * The job layer of one peer without a network: its states, the peers it
 * sees, and the facts it publishes, each applied to its job's state and
 * followed by a `change` event, as the job service does.
 */
export class FakeJobSource extends EventTarget implements JobSource {
  readonly states = new Map<string, JobState>()
  readonly published: Published[] = []
  live: readonly string[]
  topicPeers: number
  private readonly me: string

  constructor (me: string, live: readonly string[]) {
    super()
    this.me = me
    this.live = live
    this.topicPeers = live.length
  }

  add (state: JobState): void {
    this.states.set(state.id, state)
    this.dispatchEvent(new CustomEvent('change', { detail: state.id }))
  }

  jobs (): JobState[] {
    return [...this.states.values()].filter(s => s.doc != null)
  }

  state (id: string): JobState | undefined {
    return this.states.get(id)
  }

  livePeerIds (): readonly string[] {
    return this.live
  }

  jobPeers (): number {
    return this.topicPeers
  }

  async publish (fact: Fact): Promise<void> {
    this.published.push({ at: Date.now(), fact })
    const state = this.states.get(fact.job)
    if (state != null) addFact(state, this.me, fact)
    this.dispatchEvent(new CustomEvent('change', { detail: fact.job }))
  }

  /** The tasks this peer claimed, in claim facts or carried by result facts, each with the time of its claim. */
  claims (): Array<{ at: number, task: number }> {
    const out: Array<{ at: number, task: number }> = []
    for (const { at, fact } of this.published) {
      const tasks = fact.t === 'claim' ? fact.tasks : fact.t === 'result' ? fact.claim?.tasks ?? [] : []
      for (const task of tasks) out.push({ at, task })
    }
    return out
  }
}
