/**
 * sim/faults: the fault schedule of a run, drawn from the seed alone, so the
 * same seed kills the same devices at the same job progress, restarts the
 * same ones after the same delays, and churns in the same order.
 *
 * Owns the plan, not its execution (fault-runner.ts carries it out, from
 * job progress and the clock). Pure.
 */
import {
  CHURN_AWAY_MAX_MS, CHURN_AWAY_MIN_MS, KILL_FRACTION_MAX, KILL_FRACTION_MIN,
  RESTART_DELAY_MAX_MS, RESTART_DELAY_MIN_MS
} from './constants.ts'
import { SeededRandom } from './random.ts'

/** Churn events planned per run at most (a run longer than this many events stops churning). */
const MAX_CHURN_EVENTS = 10_000
/** Jitter of churn event times, as a fraction of the interval. */
const CHURN_JITTER = 0.25

export interface KillPlan {
  /** Index of the device killed. */
  peer: number
  /** Killed once this fraction of the job's tasks is done (0: as soon as the job runs). */
  atFraction: number
}

export interface RestartPlan {
  peer: number
  /** Restarted from its repo this long after it was killed. */
  delayMs: number
}

export type ChurnKind = 'leave' | 'join'

export interface ChurnEvent {
  /** Time after the job was submitted. */
  atMs: number
  /** `leave`: a live device goes away (and returns after `awayMs`); `join`: a new device joins. */
  kind: ChurnKind
  awayMs: number
}

export interface FaultPlan {
  /** The device that submits the job (it may be killed too: no peer is special). */
  submitter: number
  kills: KillPlan[]
  restarts: RestartPlan[]
  /** Preference order of devices for churn departures (the first live one leaves). */
  churnOrder: number[]
  churn: ChurnEvent[]
}

export interface FaultPlanInput {
  seed: string
  peers: number
  kill: number
  restart: number
  churnPerMin: number
  /** Plan churn events for this long after submission. */
  horizonMs: number
}

export function planFaults (input: FaultPlanInput): FaultPlan {
  const rnd = new SeededRandom(input.seed, 'faults')
  const all = Array.from({ length: input.peers }, (_, i) => i)
  const submitter = rnd.int(0, input.peers - 1)
  const victims = rnd.shuffle(all).slice(0, input.kill)
  const fractions = victims.map(() => rnd.uniform(KILL_FRACTION_MIN, KILL_FRACTION_MAX)).sort((a, b) => a - b)
  // the first fault hits as soon as the job runs: the job is never done before it
  if (fractions.length > 0) fractions[0] = KILL_FRACTION_MIN
  const kills = victims.map((peer, i) => ({ peer, atFraction: fractions[i] }))
  const restarts = victims.slice(0, input.restart).map(peer => ({ peer, delayMs: rnd.int(RESTART_DELAY_MIN_MS, RESTART_DELAY_MAX_MS) }))
  const churnRnd = new SeededRandom(input.seed, 'churn')
  const churnOrder = churnRnd.shuffle(all)
  const churn: ChurnEvent[] = []
  if (input.churnPerMin > 0) {
    const interval = 60_000 / input.churnPerMin
    for (let k = 0; k < MAX_CHURN_EVENTS; k++) {
      const atMs = Math.round((k + 1) * interval + churnRnd.uniform(-CHURN_JITTER, CHURN_JITTER) * interval)
      if (atMs > input.horizonMs) break
      churn.push({ atMs, kind: k % 2 === 0 ? 'leave' : 'join', awayMs: churnRnd.int(CHURN_AWAY_MIN_MS, CHURN_AWAY_MAX_MS) })
    }
  }
  return { submitter, kills, restarts, churnOrder, churn }
}
