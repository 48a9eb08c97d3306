/**
 * sim/samples: what a run gathers, as plain data: the DHT and gossip
 * samples the probes take, the faults as they happened, and the kind of a
 * failed attempt (its reason with what differs between attempts masked).
 * The probes, the fault runner and the device counters produce these; the
 * report reads them. Never measures anything itself.
 */

export type FaultKind = 'kill' | 'restart' | 'leave' | 'return' | 'join' | 'skip-leave'

/** One fault as it happened. */
export interface FaultRecord {
  /** Time after the first job was submitted. */
  atMs: number
  kind: FaultKind
  /** Device index. */
  peer: number
  /** Fraction of all tasks done when it happened. */
  doneFraction: number
}

export interface DhtSamples {
  /** Times of the provides that finished, ms. */
  put: number[]
  /** Times to the first provider of the finds that found one, ms. */
  get: number[]
  putFailures: number
  getFailures: number
  /** Finds answered from the finder's own store (it is among the k closest). */
  localHits: number
}

export interface GossipSamples {
  /** Publish → receipt over every (probe, live device) pair that received it, ms. */
  each: number[]
  /** Publish → receipt at the last live device, per probe that reached all of them, ms. */
  all: number[]
  expected: number
  received: number
  probes: number
}

export interface FaultSummary {
  faults: FaultRecord[]
  killed: number
  restarted: number
  churn: { left: number, returned: number, joined: number, skipped: number }
  submitterKilled: boolean
  /** Faults that could not be carried out. */
  errors: Error[]
}

/** Characters of a failure kind kept. */
const FAILURE_KIND_CHARS = 200

/**
 * A failed attempt's reason with what differs between attempts of the same
 * kind masked (CIDs, peer ids, numbers), so they can be counted together.
 */
export function failureKind (reason: string): string {
  return reason
    .replace(/\b(baf[a-z2-7]{20,}|Qm[1-9A-HJ-NP-Za-km-z]{40,})\b/g, '<cid>')
    .replace(/\b(12D3Koo|Qm)[1-9A-HJ-NP-Za-km-z]{30,}\b/g, '<peer>')
    .replace(/\d+(\.\d+)?/g, 'N')
    .slice(0, FAILURE_KIND_CHARS)
}
