/**
 * The claim and steal rules without a network: a job state built from facts,
 * this peer's rank table among fixed peers, and the rules' answer at chosen
 * times. Ranks and designated peers are checked against placement's XOR
 * order and the rendezvous rank, computed independently of the table.
 */
import { describe, expect, it } from 'vitest'
import { peerIdFromString } from '@libp2p/peer-id'
import type { PeerId } from '@libp2p/interface'
import { closestPeers, peerKadId } from '../../src/data/index.ts'
import { shardCid, type JobDocument, type JobState } from '../../src/jobs/index.ts'
import { rendezvousRank, type Candidate } from '../../src/scheduler/choose.ts'
import { ClaimRules, claimAhead, claimCapacity, claimLimit, reopenWaitSteps } from '../../src/scheduler/claim-rules.ts'
import {
  INCONCLUSIVE_MISS_RETRY_MS, MAX_CLAIM_AHEAD_PER_SLOT, MIN_CLAIM_AHEAD_PER_SLOT, REOPEN_RANK_CAP, RETRY_ELSEWHERE_STEPS, STEAL_AFTER_RANK_STEPS
} from '../../src/scheduler/constants.ts'
import { buildRankTable, RankTables, type RankTable } from '../../src/scheduler/rank-table.ts'
import { addFact, expectedRanks, fixedPeers, jobDocument, jobState } from './fixtures.ts'

const JOB = 'job-a'
const STEP = 100
const REPLICAS = 3
const kadIdOf = (peer: string): Uint8Array => peerKadId(peerIdFromString(peer))
const numeric = (a: number, b: number): number => a - b

/** Peer `me` among `peers`: its table for `doc`, and what the table must say (see expectedRanks). */
function view (peers: PeerId[], me: string, doc: JobDocument): { table: RankTable, designated: number[], rank: (i: number) => number } {
  const table = buildRankTable(JOB, doc, me, peers.map(String).filter(p => p !== me), REPLICAS, kadIdOf)
  return { table, ...expectedRanks(peers, me, JOB, doc, REPLICAS) }
}

/** The tasks `rules` let this peer claim at `now`, sorted. */
function claimable (rules: ClaimRules, state: JobState, table: RankTable, now: number, options: { local?: Set<number>, alone?: boolean } = {}): number[] {
  const out: Candidate[] = []
  rules.addClaimable(state, table, options.local ?? new Set(), rules.stealingFor(JOB, now), options.alone ?? false, now, out)
  return out.map(c => c.task).sort(numeric)
}

describe('rank table', () => {
  it('designates every task to exactly one peer: the first by rendezvous hash among the replicas closest to its shard', async () => {
    const peers = await fixedPeers(6)
    const ids = peers.map(String)
    const doc = jobDocument(60)
    const views = ids.map(me => view(peers, me, doc))
    for (let i = 0; i < doc.tasks.length; i++) {
      const holders = closestPeers(shardCid(doc, i), peers, REPLICAS).map(String)
      const first = holders.filter(h => rendezvousRank(`${JOB}/${i}`, h, holders) === 0)
      expect(ids.filter((_, k) => views[k].table.designated[i] === 1)).toEqual(first)
      ids.forEach((me, k) => {
        expect(views[k].table.ranks[i]).toBe(rendezvousRank(`${JOB}/${i}`, me, ids))
      })
    }
  })

  it('keeps a job\'s table while the live peers are the same array, and ranks anew for another', async () => {
    const ids = (await fixedPeers(4)).map(String)
    const doc = jobDocument(10)
    const tables = new RankTables(ids[0], REPLICAS)
    const live = ids.slice(1)
    const first = tables.of(JOB, doc, live)
    expect(tables.of(JOB, doc, live)).toBe(first)
    const fewer = tables.of(JOB, doc, ids.slice(1, 2))
    expect(fewer).not.toBe(first)
    expect(fewer.live).toEqual([ids[1]])
    // alone with one other peer and three replicas, this peer holds every shard: first or second everywhere
    for (let i = 0; i < doc.tasks.length; i++) expect(fewer.designated[i]).toBe(fewer.ranks[i] === 0 ? 1 : 0)
  })
})

describe('claim rules', () => {
  it('a designated peer claims its tasks at once; any other task waits (2 + rank) rank steps from when the peer saw the job', async () => {
    const peers = await fixedPeers(5)
    const me = peers[0].toString()
    const doc = jobDocument(40)
    const { table, designated, rank } = view(peers, me, doc)
    expect(designated.length).toBeGreaterThan(0)
    expect(designated.length).toBeLessThan(doc.tasks.length)
    const state = jobState(JOB, doc)
    const rules = new ClaimRules(me, STEP, new Set())
    const seen = 10_000
    expect(claimable(rules, state, table, seen)).toEqual(designated)
    expect(claimable(rules, state, table, seen + STEAL_AFTER_RANK_STEPS * STEP - 1)).toEqual(designated)
    for (let r = 0; r < peers.length; r++) {
      const turn = seen + (STEAL_AFTER_RANK_STEPS + r) * STEP
      const upTo = (last: number): number[] => doc.tasks.map((_, i) => i).filter(i => designated.includes(i) || rank(i) <= last)
      expect(claimable(rules, state, table, turn - 1)).toEqual(upTo(r - 1))
      expect(claimable(rules, state, table, turn)).toEqual(upTo(r))
    }
    // the candidates say what the choice orders them by
    const out: Candidate[] = []
    rules.addClaimable(state, table, new Set([designated[0]]), 0, false, seen, out)
    const first = out.find(c => c.task === designated[0]) as Candidate
    expect(first).toMatchObject({ job: JOB, designated: true, local: true, rank: rank(designated[0]), realtime: false, createdAt: 1 })
  })

  it('an iterative job: the open pass\'s tasks are ranked by their shard, and the stagger starts again when a pass opens', async () => {
    const peers = await fixedPeers(5)
    const me = peers[0].toString()
    const tasks = 30
    const one = jobDocument(tasks)
    const doc: JobDocument = { ...one, passes: 3 }
    const { table, designated, rank } = view(peers, me, one)
    const state = jobState(JOB, doc)
    const rules = new ClaimRules(me, STEP, new Set())
    const seen = 10_000
    const stolen = (r: number): number[] => one.tasks.map((_, i) => i).filter(i => designated.includes(i) || rank(i) <= r)
    const claimableInPass = (now: number): number[] => {
      const out: Candidate[] = []
      rules.addClaimable(state, table, new Set(), rules.stealingFor(JOB, now, state.openPass), false, now, out)
      return out.map(c => c.task).sort(numeric)
    }
    expect(claimableInPass(seen)).toEqual(designated)
    expect(claimableInPass(seen + (STEAL_AFTER_RANK_STEPS + 2) * STEP)).toEqual(stolen(2))
    // pass 0's state is accepted: its tasks are done with, pass 1's are the shards' again, the stagger from now
    const opened = seen + 5_000
    addFact(state, 'reducer', { t: 'pass', job: JOB, pass: 0, at: opened - 10, results: 'd', state: 's', data: new Uint8Array([1]) })
    expect(state.openPass).toBe(1)
    expect(claimableInPass(opened)).toEqual(designated.map(i => tasks + i))
    expect(claimableInPass(opened + (STEAL_AFTER_RANK_STEPS + 2) * STEP)).toEqual(stolen(2).map(i => tasks + i))
  })

  it('without a stagger a peer may steal at once', async () => {
    const peers = await fixedPeers(5)
    const me = peers[0].toString()
    const doc = jobDocument(20)
    const { table } = view(peers, me, doc)
    const rules = new ClaimRules(me, 0, new Set())
    expect(claimable(rules, jobState(JOB, doc), table, 5)).toEqual(doc.tasks.map((_, i) => i))
  })

  it('a peer alone in the swarm claims only tasks whose input it holds', async () => {
    const peers = await fixedPeers(5)
    const me = peers[0].toString()
    const doc = jobDocument(20)
    const { table } = view(peers, me, doc)
    const rules = new ClaimRules(me, 0, new Set())
    const local = new Set([1, 4, 7])
    expect(claimable(rules, jobState(JOB, doc), table, 5, { local, alone: true })).toEqual([1, 4, 7])
    expect(claimable(rules, jobState(JOB, doc), table, 5, { local, alone: false })).toHaveLength(20)
  })

  it('never claims a task it holds, has a live claim on, or that has no open slot; a lapsed lease reopens a task in rank order', async () => {
    const peers = await fixedPeers(5)
    const ids = peers.map(String)
    const me = ids[0]
    const doc = jobDocument(40, { leaseMs: 3_000 })
    const { table, designated, rank } = view(peers, me, doc)
    const others = doc.tasks.map((_, i) => i).filter(i => !designated.includes(i))
    // a task of rank 2 or more: its wait after reopening is longer than the designated peer's and the first-ranked peer's
    const reopened = others.find(i => rank(i) >= 2) as number
    expect(reopened).toBeDefined()
    const [held, mine] = others.filter(i => i !== reopened)
    const state = jobState(JOB, doc)
    const claimedAt = 20_000
    addFact(state, me, { t: 'claim', job: JOB, tasks: [mine], at: claimedAt, lease: 3_000 })
    addFact(state, ids[1], { t: 'claim', job: JOB, tasks: [reopened], at: claimedAt, lease: 3_000 })
    const rules = new ClaimRules(me, STEP, new Set([`${JOB}/${held}`]))
    rules.stealingFor(JOB, 0) // seen long before: every rank's turn has come
    const all = doc.tasks.map((_, i) => i)
    expect(claimable(rules, state, table, claimedAt + 1_000)).toEqual(all.filter(i => i !== held && i !== mine && i !== reopened))
    // the other peer's lease ends at claimedAt + 3 s: the task is open again from then, to this peer after its rank's wait
    const wait = (Math.min(rank(reopened), REOPEN_RANK_CAP) + 1) * STEP
    const lapsed = claimedAt + 3_000
    expect(claimable(rules, state, table, lapsed + wait - 1)).not.toContain(reopened)
    expect(claimable(rules, state, table, lapsed + wait)).toContain(reopened)
    // its own lapsed claim is open to it again too, after every rank's wait at most, and held tasks never are
    const everyWait = lapsed + (REOPEN_RANK_CAP + 1) * STEP
    expect(claimable(rules, state, table, everyWait)).toContain(mine)
    expect(claimable(rules, state, table, everyWait)).not.toContain(held)
  })

  it('a peer whose attempt failed leaves the task to others for RETRY_ELSEWHERE_STEPS steps, and one whose input search said nothing for INCONCLUSIVE_MISS_RETRY_MS', async () => {
    const peers = await fixedPeers(5)
    const me = peers[0].toString()
    const doc = jobDocument(20)
    const { table } = view(peers, me, doc)
    const [failed, missed] = [0, 1]
    const state = jobState(JOB, doc)
    const rules = new ClaimRules(me, STEP, new Set())
    rules.stealingFor(JOB, 0) // seen long before: every rank's turn has come
    const now = 50_000
    rules.failed(`${JOB}/${failed}`, now)
    rules.missedInput(`${JOB}/${missed}`, now)
    const at = (t: number): number[] => { rules.expire(t); return claimable(rules, state, table, t) }
    expect(at(now + RETRY_ELSEWHERE_STEPS * STEP - 1)).not.toContain(failed)
    expect(at(now + RETRY_ELSEWHERE_STEPS * STEP - 1)).not.toContain(missed)
    expect(at(now + RETRY_ELSEWHERE_STEPS * STEP)).toContain(failed)
    expect(at(now + INCONCLUSIVE_MISS_RETRY_MS - 1)).not.toContain(missed)
    expect(at(now + INCONCLUSIVE_MISS_RETRY_MS)).toContain(missed)
    // the failed peer waits past the turn of every ranked peer for a reopened task
    expect(RETRY_ELSEWHERE_STEPS).toBeGreaterThan(reopenWaitSteps(false, Number.MAX_SAFE_INTEGER))
  })

  it('waits for a reopened task: none for the designated peer, rank + 1 steps for others, capped', () => {
    expect(reopenWaitSteps(true, 5)).toBe(0)
    expect(reopenWaitSteps(false, 0)).toBe(1)
    expect(reopenWaitSteps(false, 3)).toBe(4)
    expect(reopenWaitSteps(false, 1_000)).toBe(REOPEN_RANK_CAP + 1)
  })
})

describe('claim size', () => {
  it('holds a batch of about CLAIM_BATCH_TARGET_MS of work per slot, within its bounds', () => {
    expect(claimAhead(2, 50)).toBe(2 * MIN_CLAIM_AHEAD_PER_SLOT) // 5 tasks of 50 ms: raised to the least
    expect(claimAhead(2, 10)).toBe(2 * 25)
    expect(claimAhead(2, 0.5)).toBe(2 * MAX_CLAIM_AHEAD_PER_SLOT)
    expect(claimAhead(3, 10_000)).toBe(3 * MIN_CLAIM_AHEAD_PER_SLOT)
  })

  it('claims only once the queue is down to the running slots, then up to the batch', () => {
    expect(claimCapacity(4, 5, 50)).toBe(0)
    expect(claimCapacity(4, 4, 50)).toBe(4 * MIN_CLAIM_AHEAD_PER_SLOT - 4)
    expect(claimCapacity(4, 0, 50)).toBe(4 * MIN_CLAIM_AHEAD_PER_SLOT)
    expect(claimCapacity(0, 0, 50)).toBe(0)
  })

  it('takes every designated task and a fair share of the others, at least a slot\'s worth, within capacity', () => {
    const c = (designated: boolean): Candidate => ({ job: JOB, task: 0, realtime: false, createdAt: 0, local: false, designated })
    const candidates = [...Array.from({ length: 3 }, () => c(true)), ...Array.from({ length: 20 }, () => c(false))]
    // 3 designated + 20 others shared among this peer and 3 live peers
    expect(claimLimit(candidates, 3, 2, 100)).toBe(3 + 5)
    expect(claimLimit(candidates, 3, 2, 6)).toBe(6)
    expect(claimLimit(candidates, 3, 16, 100)).toBe(16)
    expect(claimLimit(candidates.slice(0, 3), 3, 1, 100)).toBe(3)
    expect(claimLimit([], 3, 2, 100)).toBe(2)
  })
})
