/**
 * The pull choice, pure: which open tasks this peer claims next. Realtime
 * jobs before batch jobs, then tasks whose input shard this peer holds, then
 * rendezvous hashing of (task, peer): first the tasks for which this peer
 * ranks first among the live peers (every task has exactly one such peer, so
 * peers do not race for them), then the others, best rank first (stealing).
 */
import { rendezvousScore } from '../jobs/index.ts'

export interface Candidate {
  job: string
  task: number
  realtime: boolean
  createdAt: number
  local: boolean
  /** How many live peers rank above this peer for the task (0: this peer is first). */
  rank?: number
}

/** The rank of `peer` among `peers` for `key`: how many of them score higher. */
export function rendezvousRank (key: string, peer: string, peers: readonly string[]): number {
  const mine = rendezvousScore(key, peer)
  let rank = 0
  for (const other of peers) {
    if (other !== peer && rendezvousScore(key, other) > mine) rank++
  }
  return rank
}

/** Orders candidates best first for `peer`; returns at most `limit`. */
export function chooseTasks (candidates: Candidate[], peer: string, limit: number): Candidate[] {
  if (limit <= 0 || candidates.length === 0) return []
  const scored = candidates.map(c => ({ c, score: rendezvousScore(`${c.job}/${c.task}`, peer) }))
  scored.sort((a, b) =>
    Number(b.c.realtime) - Number(a.c.realtime) ||
    a.c.createdAt - b.c.createdAt ||
    Number(b.c.local) - Number(a.c.local) ||
    (a.c.rank ?? 0) - (b.c.rank ?? 0) ||
    b.score - a.score)
  return scored.slice(0, limit).map(s => s.c)
}
