/**
 * jobs/task-fold: the rules of one task, as a pure fold of its events (the
 * claims, renewals, results and failures of its job's facts). Never reads a
 * clock or holds state between calls: every peer with the same events gets
 * the same holders, results, accepted result, outvoted peers and retries,
 * whatever order the events arrived in, which is how the swarm agrees
 * without a coordinator.
 *
 * Rules, over the events sorted by (time, kind, author, fact id):
 * 1. A task offers `redundancy - results` slots while it has fewer results
 *    than its redundancy, and one slot after (to replace a holder while the
 *    results disagree without a majority); none once a result is accepted.
 * 2. A claim is granted while fewer holders than slots exist, to a peer that
 *    is not untrusted, holds no slot and gave no result yet; a claim that
 *    finds no slot is counted as lost (duplicate work).
 * 3. A holder whose lease (claim or last renewal + lease) ended before a
 *    later event's time is dropped; the slot it frees makes the next grant a
 *    retry. A renewal only extends a lease its author holds.
 * 4. A result counts once per peer: from a peer that was granted the task,
 *    and from any other trusted peer while the task has a free slot (then it
 *    is a claim and its completion at once, a retry if a lapsed lease freed
 *    the slot), because a peer that lost a claim race but saw the winner's
 *    lease lapse finishes the task, and its result must not be thrown away.
 * 5. A result is accepted when a majority of `redundancy` agree on its hash
 *    (ties to the lowest hash); peers whose result differs from it are
 *    outvoted.
 * 6. A failure from a holder frees its slot and counts against the task;
 *    one from any other peer changes nothing.
 */
import type { ResultEntry } from './facts.ts'

/** What the fold of one task's events finds. */
export interface TaskFold {
  /** Holders still in the fold's last state, with their lease expiry. */
  holders: Map<string, number>
  granted: Set<string>
  results: Map<string, ResultEntry>
  accepted: { hash: string, entry: ResultEntry, voters: string[] } | undefined
  untrusted: string[]
  failures: number
  lastFailure: string | undefined
  retried: number
  /** Claims that did not get a slot: duplicate work that lost a race. */
  lostClaims: number
  /** Latest time a holder's slot was freed by a lapsed lease or a failure (0: never). */
  lastFreed: number
}

/** Kinds at the same time fold in this order: a result before a failure, a renewal before a claim. */
const KIND_ORDER: Record<string, number> = { result: 0, fail: 1, renew: 2, claim: 3 }

/** One claim, renewal, result or failure of a task, taken from a fact. */
export interface TaskEvent { at: number, kind: 'claim' | 'renew' | 'result' | 'fail', from: string, lease: number, entry?: ResultEntry, reason?: string, /** the fact's id: the last tie-breaker */ id: string }

/** Agreeing results that accept a task's result: a majority of its redundancy. */
export function majority (redundancy: number): number {
  return Math.floor(redundancy / 2) + 1
}

/** Slots a task not yet accepted offers: what redundancy still needs, or 1 to replace a holder. */
export function slotsOf (results: number, redundancy: number): number {
  return results < redundancy ? redundancy - results : 1
}

/** Folds one task's events (sorting them in place) by the rules above; `untrustedPeers` are never granted and their results count only when granted. */
export function foldTask (events: TaskEvent[], redundancy: number, untrustedPeers: ReadonlySet<string>): TaskFold {
  const cmp = (x: string, y: string): number => x < y ? -1 : x > y ? 1 : 0
  // the fact id last: two facts of one author with the same time and kind (two results of
  // a task, say) are ordered the same on every peer, whatever order they arrived in
  events.sort((a, b) => a.at - b.at || KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || cmp(a.from, b.from) || cmp(a.id, b.id))
  const f: TaskFold = { holders: new Map(), granted: new Set(), results: new Map(), accepted: undefined, untrusted: [], failures: 0, lastFailure: undefined, retried: 0, lostClaims: 0, lastFreed: 0 }
  let freedSlots = 0
  const need = majority(redundancy)
  const acceptedNow = (): boolean => f.accepted != null
  const recomputeAccepted = (): void => {
    const votes = new Map<string, string[]>()
    for (const [peer, entry] of f.results) votes.set(entry.hash, [...(votes.get(entry.hash) ?? []), peer])
    let best: [string, string[]] | undefined
    for (const [hash, voters] of votes) {
      if (voters.length >= need && (best == null || voters.length > best[1].length || (voters.length === best[1].length && hash < best[0]))) best = [hash, voters]
    }
    if (best != null) {
      const voters = best[1].sort()
      f.accepted = { hash: best[0], entry: f.results.get(voters[0]) as ResultEntry, voters }
    }
  }
  const slots = (): number => {
    if (acceptedNow()) return 0
    return slotsOf(f.results.size, redundancy)
  }
  for (const e of events) {
    for (const [peer, expiry] of f.holders) {
      if (expiry < e.at) { f.holders.delete(peer); freedSlots++; f.lastFreed = Math.max(f.lastFreed, expiry) }
    }
    switch (e.kind) {
      case 'claim':
        if (untrustedPeers.has(e.from) || f.holders.has(e.from) || f.results.has(e.from) || acceptedNow()) break
        if (f.holders.size < slots()) {
          f.holders.set(e.from, e.at + e.lease)
          f.granted.add(e.from)
          if (freedSlots > 0) { f.retried++; freedSlots-- }
        } else {
          f.lostClaims++
        }
        break
      case 'renew': {
        const expiry = f.holders.get(e.from)
        if (expiry != null) f.holders.set(e.from, Math.max(expiry, e.at + e.lease))
        break
      }
      case 'result':
        if (e.entry == null || f.results.has(e.from)) break
        if (f.granted.has(e.from) || (!untrustedPeers.has(e.from) && !acceptedNow() && f.holders.size < slots())) {
          // a result taking a slot a lapsed lease freed is a retry, as a claim taking it would be
          if (!f.granted.has(e.from) && freedSlots > 0) { f.retried++; freedSlots-- }
          f.results.set(e.from, e.entry)
          f.holders.delete(e.from)
          if (!acceptedNow()) recomputeAccepted()
        }
        break
      case 'fail':
        if (f.holders.has(e.from)) {
          f.holders.delete(e.from)
          f.lastFreed = Math.max(f.lastFreed, e.at)
          f.failures++
          f.lastFailure = e.reason
          freedSlots++
        }
        break
    }
  }
  if (f.accepted != null) {
    const hash = f.accepted.hash
    f.untrusted = [...f.results].filter(([, entry]) => entry.hash !== hash).map(([peer]) => peer).sort()
  }
  return f
}
