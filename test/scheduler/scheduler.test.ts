/**
 * The scheduler through its front door, without a network: a job source
 * built from facts (this peer's facts applied to it as the job service
 * would), a fake executor, and a fake clock. What it claims, when, and how
 * many; what it does after a failed attempt; what an untrusted peer does.
 */
import { setTimeout as realSleep } from 'node:timers/promises'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { PeerId } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'
import { NotFoundError } from '../../src/data/index.ts'
import { shardCid, type JobDocument, type JobState } from '../../src/jobs/index.ts'
import { Scheduler, type RunOptions, type SchedulerData, type TaskRunner } from '../../src/scheduler/index.ts'
import { INCONCLUSIVE_MISS_RETRY_MS, MIN_CLAIM_AHEAD_PER_SLOT, RESULT_BATCH_MS, RETRY_ELSEWHERE_STEPS, STEAL_AFTER_RANK_STEPS } from '../../src/scheduler/constants.ts'
import { FakeJobSource, addFact, expectedRanks, fixedPeers, jobDocument, jobState } from './fixtures.ts'

const JOB = 'job-a'
const REPLICAS = 3
/** Where the fake clock starts. */
const T0 = 1_000_000

/** A run's time before it fails, on the fake clock: a fail fact of the claim's own ms would be folded before the claim. */
const RUN_MS = 50

/** Runs that never end unless aborted, except those `fail` ends after RUN_MS with its error; every run's task, in order. */
function runner (fail: (task: number, attempt: number) => Error | undefined = () => undefined): TaskRunner & { runs: number[] } {
  const runs: number[] = []
  return {
    runs,
    canRun: () => true,
    prefetch: () => {},
    clearPrefetched: () => {},
    run: async (_doc: JobDocument, index: number, options: RunOptions = {}) => {
      runs.push(index)
      const err = fail(index, runs.filter(t => t === index).length)
      if (err != null) {
        await new Promise(resolve => setTimeout(resolve, RUN_MS))
        throw err
      }
      return await new Promise<Uint8Array>((_resolve, reject) => {
        options.signal?.addEventListener('abort', () => { reject(options.signal?.reason) }, { once: true })
      })
    }
  }
}

/** A data layer that holds the shards in `local` (by CID) and stores nothing. */
function data (local: ReadonlySet<string> = new Set()): SchedulerData {
  const unused = async (): Promise<never> => { throw new Error('not used here') }
  return { replicas: REPLICAS, put: unused, keepBlock: unused, hasLocal: async (cid: CID | string) => local.has(cid.toString()) }
}

describe('scheduler', () => {
  let running: Scheduler | undefined
  afterEach(() => {
    running?.stop()
    running = undefined
    vi.useRealTimers()
  })

  /** 5 peers, the first is this one; a job of `tasks` tasks; a started scheduler on a fake clock. */
  async function setUp (options: { tasks: number, slots: number, stealRankStepMs: number, executor?: TaskRunner, avoided?: boolean, topicPeers?: number, local?: Set<string>, passes?: number }): Promise<{ peers: PeerId[], me: string, doc: JobDocument, jobs: FakeJobSource, scheduler: Scheduler }> {
    const peers = await fixedPeers(5)
    const me = peers[0].toString()
    const doc = jobDocument(options.tasks, {}, options.passes)
    const jobs = new FakeJobSource(me, peers.slice(1).map(String))
    if (options.topicPeers != null) jobs.topicPeers = options.topicPeers
    jobs.add(jobState(JOB, doc, options.avoided === true ? new Set([me]) : new Set()))
    vi.useFakeTimers({ now: T0 })
    const capabilities = { cpus: 1, freeMemoryMB: 1_000, gpu: false, labels: [], slots: options.slots }
    const scheduler = new Scheduler({ peerId: peers[0], jobs, executor: options.executor ?? runner(), data: data(options.local) }, { capabilities, stealRankStepMs: options.stealRankStepMs })
    scheduler.start()
    running = scheduler
    return { peers, me, doc, jobs, scheduler }
  }

  const tasksOf = (claims: Array<{ task: number }>): number[] => claims.map(c => c.task).sort((a, b) => a - b)

  it('claims the tasks it is designated for in its first round, and any other task only at its rank\'s turn', async () => {
    const step = 1_000
    const { peers, me, doc, jobs } = await setUp({ tasks: 20, slots: 64, stealRankStepMs: step })
    const { designated, rank } = expectedRanks(peers, me, JOB, doc, REPLICAS)
    expect(designated.length).toBeGreaterThan(0)
    await vi.advanceTimersByTimeAsync(1_000)
    const first = jobs.claims()
    expect(tasksOf(first)).toEqual(designated)
    // the round that first saw the job claimed them: every turn counts from then
    const seen = first[0].at
    for (let r = 0; r < peers.length; r++) {
      const turn = seen + (STEAL_AFTER_RANK_STEPS + r) * step
      await vi.advanceTimersByTimeAsync(turn + step / 2 - Date.now())
      const upTo = doc.tasks.map((_, i) => i).filter(i => designated.includes(i) || rank(i) <= r)
      expect(tasksOf(jobs.claims())).toEqual(upTo)
    }
    for (const { at, task } of jobs.claims()) {
      if (!designated.includes(task)) expect(at).toBeGreaterThanOrEqual(seen + (STEAL_AFTER_RANK_STEPS + rank(task)) * step)
    }
    // one claim each
    expect(jobs.claims()).toHaveLength(doc.tasks.length)
  })

  it('claims every designated task and a fair share of the others, not its whole batch', async () => {
    const { peers, me, doc, jobs } = await setUp({ tasks: 40, slots: 4, stealRankStepMs: 0 })
    const { designated } = expectedRanks(peers, me, JOB, doc, REPLICAS)
    await vi.advanceTimersByTimeAsync(2_000)
    const claimed = tasksOf(jobs.claims())
    // shared among this peer and its 4 live peers; its batch (4 slots x 8) would hold more
    const share = designated.length + Math.ceil((doc.tasks.length - designated.length) / 5)
    expect(share).toBeLessThan(4 * MIN_CLAIM_AHEAD_PER_SLOT)
    expect(claimed).toHaveLength(share)
    expect(claimed).toEqual(expect.arrayContaining(designated))
  })

  it('publishes a failed attempt and leaves the task to other peers for RETRY_ELSEWHERE_STEPS steps before it retries', async () => {
    const step = 100
    const peers = await fixedPeers(5)
    const { designated } = expectedRanks(peers, peers[0].toString(), JOB, jobDocument(20), REPLICAS)
    const broken = designated[0]
    const executor = runner((task, attempt) => task === broken && attempt === 1 ? new Error('broken here') : undefined)
    const { jobs, scheduler } = await setUp({ tasks: 20, slots: 64, stealRankStepMs: step, executor })
    await vi.advanceTimersByTimeAsync(1_000)
    const fails = jobs.published.filter(p => p.fact.t === 'fail')
    expect(fails.map(p => p.fact)).toEqual([expect.objectContaining({ t: 'fail', job: JOB, task: broken, reason: 'Error: broken here' })])
    expect(scheduler.metrics.failed).toBe(1)
    expect(scheduler.recentFailures).toEqual(['Error: broken here'])
    await vi.advanceTimersByTimeAsync(RETRY_ELSEWHERE_STEPS * step + 1_000)
    // it is this peer's designated task, open again at once: only the rule kept this peer away
    const retries = jobs.claims().filter(c => c.task === broken).slice(1)
    expect(retries).toHaveLength(1)
    expect(retries[0].at).toBeGreaterThanOrEqual(fails[0].at + RETRY_ELSEWHERE_STEPS * step)
    expect(executor.runs.filter(t => t === broken)).toHaveLength(2)
  })

  it('does not count a miss whose search said nothing as a failure, and leaves the task alone for a while', async () => {
    const peers = await fixedPeers(5)
    const { designated } = expectedRanks(peers, peers[0].toString(), JOB, jobDocument(20), REPLICAS)
    const missed = designated[0]
    const executor = runner((task, attempt) => task === missed && attempt === 1 ? new NotFoundError('3 peers asked: 3 did not answer', false) : undefined)
    const { jobs, scheduler } = await setUp({ tasks: 20, slots: 64, stealRankStepMs: 100, executor })
    await vi.advanceTimersByTimeAsync(1_000)
    const claimedAt = jobs.claims().find(c => c.task === missed)?.at as number
    expect(executor.runs).toContain(missed)
    await vi.advanceTimersByTimeAsync(INCONCLUSIVE_MISS_RETRY_MS + 1_000)
    expect(jobs.published.filter(p => p.fact.t === 'fail')).toHaveLength(0)
    expect(scheduler.metrics.failed).toBe(0)
    // its lease lapsed after 3 s, and its designated peer would have claimed it again at once
    const retries = jobs.claims().filter(c => c.task === missed).slice(1)
    expect(retries).toHaveLength(1)
    expect(retries[0].at).toBeGreaterThanOrEqual(claimedAt + INCONCLUSIVE_MISS_RETRY_MS)
  })

  it('a peer untrusted from earlier jobs claims nothing', async () => {
    const executor = runner()
    const { jobs } = await setUp({ tasks: 20, slots: 4, stealRankStepMs: 100, executor, avoided: true })
    await vi.advanceTimersByTimeAsync(5_000)
    expect(jobs.claims()).toHaveLength(0)
    expect(executor.runs).toHaveLength(0)
  })

  it('a peer that sees nobody on the jobs topic claims only the tasks whose input it holds', async () => {
    const doc = jobDocument(20)
    const held = [2, 5, 11]
    const local = new Set(held.map(i => shardCid(doc, i).toString()))
    const { jobs } = await setUp({ tasks: 20, slots: 64, stealRankStepMs: 0, topicPeers: 0, local })
    await vi.advanceTimersByTimeAsync(2_000)
    expect(tasksOf(jobs.claims())).toEqual(held)
  })

  it('claims its designated tasks of an iterative job\'s next pass with its last results of a pass, and runs them once that pass opens', async () => {
    const tasks = 20
    const runs: number[] = []
    const executor: TaskRunner = {
      canRun: () => true,
      prefetch: () => {},
      clearPrefetched: () => {},
      run: async (_doc: JobDocument, index: number) => { runs.push(index); return new Uint8Array([index % 256]) }
    }
    // no stealing within the test: only designated tasks are claimed
    const { peers, me, jobs } = await setUp({ tasks, slots: 64, stealRankStepMs: 1_000_000, executor, passes: 3 })
    const { designated } = expectedRanks(peers, me, JOB, jobDocument(tasks), REPLICAS)
    expect(designated.length).toBeGreaterThan(0)
    // results wait for their batch on real time (node:timers/promises), the rest on the fake clock
    const settle = async (ms: number): Promise<void> => {
      for (let t = 0; t < ms; t += 100) { await vi.advanceTimersByTimeAsync(100); await realSleep(RESULT_BATCH_MS + 5) }
    }
    await settle(1_000)
    // one claim fact for pass 0, then one result fact that reports pass 0 and claims pass 1
    const facts = jobs.published.map(p => p.fact)
    expect(facts.map(f => f.t)).toEqual(['claim', 'result'])
    const result = facts[1] as Extract<typeof facts[1], { t: 'result' }>
    expect(result.results.map(r => r.task).sort((a, b) => a - b)).toEqual(designated)
    expect(result.claim?.tasks).toEqual(designated.map(s => tasks + s))
    // pass 1 is not open: its claimed tasks wait, held (renewed once due)
    await settle(2_000)
    expect(runs.filter(k => k >= tasks)).toEqual([])
    const renewals = jobs.published.slice(2).map(p => p.fact)
    expect(renewals.map(f => f.t)).toEqual(['renew'])
    expect((renewals[0] as Extract<typeof renewals[0], { t: 'renew' }>).tasks).toEqual(designated.map(s => tasks + s))
    const work = (): typeof facts => jobs.published.map(p => p.fact).filter(f => f.t !== 'renew')
    // pass 0's state is accepted: they run at once, with no claim fact, and the last pass claims nothing beyond it
    const state = jobs.state(JOB) as JobState
    addFact(state, peers[1].toString(), { t: 'pass', job: JOB, pass: 0, at: Date.now(), results: 'digest', state: 'state-0', data: new Uint8Array([0]) })
    jobs.dispatchEvent(new CustomEvent('change', { detail: JOB }))
    await settle(1_000)
    expect(runs.filter(k => k >= tasks).sort((a, b) => a - b)).toEqual(designated.map(s => tasks + s))
    const after = work().slice(2)
    expect(after.map(f => f.t)).toEqual(['result'])
    expect((after[0] as typeof result).claim?.tasks).toEqual(designated.map(s => 2 * tasks + s))
    addFact(state, peers[1].toString(), { t: 'pass', job: JOB, pass: 1, at: Date.now(), results: 'digest', state: 'state-1', data: new Uint8Array([1]) })
    jobs.dispatchEvent(new CustomEvent('change', { detail: JOB }))
    await settle(1_000)
    const last = work().slice(3)
    expect(last.map(f => f.t)).toEqual(['result'])
    expect((last[0] as typeof result).claim).toBeUndefined()
  })
})
