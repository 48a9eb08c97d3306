import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { Scheduler, fits, type SchedulerComponents } from '../../src/scheduler/index.ts'
import { chooseTasks, rendezvousRank, type Candidate } from '../../src/scheduler/choose.ts'

describe('task choice', () => {
  it('gives every task exactly one first-ranked peer', () => {
    fc.assert(fc.property(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 12 }), fc.string(), (peers, key) => {
      const ranks = peers.map(p => rendezvousRank(key, p, peers))
      expect(ranks.filter(r => r === 0)).toHaveLength(1)
      expect([...ranks].sort((a, b) => a - b)).toEqual(peers.map((_, i) => i))
    }))
  })

  it('spreads keys evenly: each of 10 peers ranks first for about a tenth of 5,000 keys', () => {
    const peers = Array.from({ length: 10 }, (_, i) => `12D3KooWpeer${i}`)
    const firsts = new Map<string, number>()
    for (let k = 0; k < 5000; k++) {
      const key = `bafyjob/${k}`
      const first = peers.find(p => rendezvousRank(key, p, peers) === 0) as string
      firsts.set(first, (firsts.get(first) ?? 0) + 1)
    }
    expect(firsts.size).toBe(10)
    // expected 500 each; a binomial standard deviation is ~21
    for (const n of firsts.values()) expect(Math.abs(n - 500)).toBeLessThan(100)
    // and the runner-up of a key is not tied to its winner: peer 0's keys go second to everyone else
    const seconds = new Set<string>()
    for (let k = 0; k < 5000; k++) {
      const key = `bafyjob/${k}`
      if (rendezvousRank(key, peers[0], peers) === 0) seconds.add(peers.find(p => rendezvousRank(key, p, peers) === 1) as string)
    }
    expect(seconds.size).toBe(9)
  })

  it('orders realtime before batch, older jobs first, local shards first, designated tasks, then rank', () => {
    const c = (over: Partial<Candidate>): Candidate => ({ job: 'j', task: 0, realtime: false, createdAt: 10, local: false, rank: 3, ...over })
    const picked = chooseTasks([
      c({ task: 1 }),
      c({ task: 2, local: true, rank: 5 }),
      c({ task: 3, local: true, rank: 0 }),
      c({ task: 4, realtime: true }),
      c({ task: 5, createdAt: 1 })
    ], 'me', 5)
    expect(picked.map(p => p.task)).toEqual([4, 5, 3, 2, 1])
    expect(chooseTasks([c({})], 'me', 0)).toEqual([])
    // among local tasks, those this peer is designated for come first, whatever their rank
    const local = chooseTasks([c({ task: 6, local: true, rank: 0 }), c({ task: 7, local: true, rank: 9, designated: true }), c({ task: 8, designated: true, rank: 0 })], 'me', 3)
    expect(local.map(p => p.task)).toEqual([7, 6, 8])
  })

  it('matches requirements to capabilities', () => {
    const caps = { cpus: 2, freeMemoryMB: 1000, gpu: false, labels: ['lab-a'], slots: 2 }
    expect(fits({ minMemoryMB: 0, gpu: false, labels: [] }, caps)).toBe(true)
    expect(fits({ minMemoryMB: 0, gpu: false, labels: ['lab-a'] }, caps)).toBe(true)
    expect(fits({ minMemoryMB: 0, gpu: false, labels: ['lab-b'] }, caps)).toBe(false)
    expect(fits({ minMemoryMB: 2000, gpu: false, labels: [] }, caps)).toBe(false)
    expect(fits({ minMemoryMB: 0, gpu: true, labels: [] }, caps)).toBe(false)
  })
})

describe('scheduler options', () => {
  it('rejects a rank step that is not a whole number of ms >= 0, naming it', async () => {
    // the constructor only stores its collaborators: they are not used
    const peerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const components = { peerId, jobs: {}, executor: {}, data: { replicas: 3 } } as unknown as SchedulerComponents
    const capabilities = { cpus: 1, freeMemoryMB: 1, gpu: false, labels: [], slots: 1 }
    for (const bad of [-1, 0.5, Number.NaN]) expect(() => new Scheduler(components, { capabilities, stealRankStepMs: bad })).toThrow(/stealRankStepMs/)
    expect(() => new Scheduler(components, { capabilities, stealRankStepMs: 1000 })).not.toThrow()
  })
})
