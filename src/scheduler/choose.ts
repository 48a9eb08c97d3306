/**
 * The pull choice, pure: which open tasks this peer claims next. Realtime
 * jobs before batch jobs, then tasks whose input shard this peer holds, then
 * rendezvous hashing of (task, peer) so peers spread over a job with no
 * coordinator (each peer prefers a different part of it).
 */
import { rendezvousScore } from '../jobs/index.ts'

export interface Candidate {
  job: string
  task: number
  realtime: boolean
  createdAt: number
  local: boolean
}

/** Orders candidates best first for `peer`; returns at most `limit`. */
export function chooseTasks (candidates: Candidate[], peer: string, limit: number): Candidate[] {
  if (limit <= 0 || candidates.length === 0) return []
  const scored = candidates.map(c => ({ c, score: rendezvousScore(`${c.job}/${c.task}`, peer) }))
  scored.sort((a, b) =>
    Number(b.c.realtime) - Number(a.c.realtime) ||
    a.c.createdAt - b.c.createdAt ||
    Number(b.c.local) - Number(a.c.local) ||
    b.score - a.score)
  return scored.slice(0, limit).map(s => s.c)
}
