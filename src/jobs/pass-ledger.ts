/**
 * jobs/pass-ledger: the passes of an iterative job the swarm agrees on: per
 * pass, the outcome of its accepted `pass` fact (a state and its report, or a
 * failure), and the authors that published it. Only checked facts reach it
 * (see pass-check.ts): a fact that contradicts an accepted outcome is a
 * conflict, never a second outcome. Pure bookkeeping; never checks anything.
 */
import type { PassReport } from '../functions/index.ts'
import type { FactOf, SignedFact } from './facts.ts'

/** A pass's accepted outcome. */
export interface AcceptedPass {
  /** Of the facts that give this outcome, the earliest (then the lowest id): the same on every peer that holds them. */
  fact: FactOf<'pass'>
  /** Its id. */
  id: string
  /** Peers that published this outcome. */
  authors: Set<string>
}

/** What adding a pass fact did: a new outcome, a confirmation of the accepted one, or a contradiction of it. */
export type LedgerChange = 'new' | 'same' | 'conflict'

/** Whether two pass facts give the same outcome: the same state (its CID) and loss, or the same failure. */
export function sameOutcome (a: FactOf<'pass'>, b: FactOf<'pass'>): boolean {
  return a.failure === b.failure && a.state === b.state && Object.is(a.loss, b.loss)
}

export class PassLedger {
  /** Passes the job runs. */
  readonly count: number
  private readonly passes = new Map<number, AcceptedPass>()
  /** The passes whose accepted outcome is a failure, with its reason (normally none, or one). */
  private readonly failures = new Map<number, string>()
  private openPass = 0

  constructor (count: number) {
    this.count = count
  }

  /** Adds a checked pass fact (see LedgerChange). */
  add (sf: SignedFact & { fact: FactOf<'pass'> }): LedgerChange {
    const f = sf.fact
    if (f.pass >= this.count) return 'conflict'
    const held = this.passes.get(f.pass)
    if (held != null) {
      if (!sameOutcome(held.fact, f)) return 'conflict'
      held.authors.add(sf.from)
      if (f.at < held.fact.at || (f.at === held.fact.at && sf.id < held.id)) { held.fact = f; held.id = sf.id }
      return 'same'
    }
    this.passes.set(f.pass, { fact: f, id: sf.id, authors: new Set([sf.from]) })
    if (f.failure != null) this.failures.set(f.pass, f.failure)
    while (this.passes.has(this.openPass)) this.openPass++
    return 'new'
  }

  /** The lowest pass without an accepted outcome: the pass running now (`count` once every pass has one). */
  get open (): number {
    return this.openPass
  }

  /** The accepted outcome of pass `pass`, if any. */
  get (pass: number): AcceptedPass | undefined {
    return this.passes.get(pass)
  }

  /** The first pass, in order, whose accepted outcome is a failure: the job failed there. */
  get failure (): { pass: number, reason: string } | undefined {
    let first: { pass: number, reason: string } | undefined
    for (const [pass, reason] of this.failures) {
      if (pass < this.openPass && (first == null || pass < first.pass)) first = { pass, reason }
    }
    return first
  }

  /** Every pass has an accepted state: the job's last state is known. */
  get complete (): boolean {
    return this.openPass >= this.count && this.failure == null
  }

  /** The accepted outcomes of passes 0 to the open pass, in order. */
  accepted (): AcceptedPass[] {
    const out: AcceptedPass[] = []
    for (let p = 0; p < this.openPass; p++) out.push(this.passes.get(p) as AcceptedPass)
    return out
  }

  /** The reports of the accepted passes, in pass order, as `finish` gets them. */
  reports (): PassReport[] {
    return this.accepted().map(a => (a.fact.loss != null ? { loss: a.fact.loss } : {}))
  }
}
