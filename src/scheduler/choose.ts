/**
 * scheduler/choose: the order of the pull choice, pure: which of the tasks
 * this peer may claim it claims first. Realtime jobs before batch jobs, older
 * jobs first, then tasks whose input shard this peer holds (no transfer),
 * then the tasks it is designated for (exactly one peer per task, so peers do
 * not race for them), then by rendezvous rank of (task, peer) among the live
 * peers, best first (stealing). Also the rendezvous rank itself.
 *
 * Never decides which tasks are claimable (claim-rules.ts does) or how many.
 */
import { keyHash as keyHashOf, peerHash, rendezvousScore, scoreOf } from '../jobs/index.ts'

export interface Candidate {
  job: string
  task: number
  realtime: boolean
  createdAt: number
  local: boolean
  /** This peer is the task's designated peer (see rank-table.ts). */
  designated?: boolean
  /** How many live peers rank above this peer for the task (0: this peer is first). */
  rank?: number
  /** This peer's rendezvous score for the task, when the caller has it (else computed). */
  score?: number
}

/** The rank of `peer` among `peers` for `key`: how many of them score higher. */
export function rendezvousRank (key: string, peer: string, peers: readonly string[]): number {
  return rankAmong(peerHash(peer), peers.filter(p => p !== peer).map(peerHash), keyHashOf(key))
}

/**
 * How many of `others` (peer hashes) outscore `mine` for the key hashed `key`:
 * 0 when `mine` ranks first. What the rank table ranks every task with, from
 * hashes it keeps per job.
 */
export function rankAmong (mine: Uint32Array, others: Iterable<Uint32Array>, key: Uint32Array): number {
  const score = scoreOf(key, mine)
  let rank = 0
  for (const other of others) if (scoreOf(key, other) > score) rank++
  return rank
}

/** Orders candidates best first for `peer`; returns at most `limit`. */
export function chooseTasks (candidates: Candidate[], peer: string, limit: number): Candidate[] {
  if (limit <= 0 || candidates.length === 0) return []
  const scored = candidates.map(c => ({ c, score: c.score ?? rendezvousScore(`${c.job}/${c.task}`, peer) }))
  scored.sort((a, b) =>
    Number(b.c.realtime) - Number(a.c.realtime) ||
    a.c.createdAt - b.c.createdAt ||
    Number(b.c.local) - Number(a.c.local) ||
    Number(b.c.designated === true) - Number(a.c.designated === true) ||
    (a.c.rank ?? 0) - (b.c.rank ?? 0) ||
    b.score - a.score)
  return scored.slice(0, limit).map(s => s.c)
}
