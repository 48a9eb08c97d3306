/**
 * jobs/state: one job's facts and what the swarm agrees on from them
 * (`JobState`): it indexes each fact into the events of the tasks it names,
 * refolds only the tasks a new fact touched (rules in task-fold.ts), keeps the
 * pending, accepted and failed task sets current, and builds the task and job
 * views. Never does I/O; only "is this lease alive now" reads a clock, and a
 * lease that expired stays expired everywhere.
 *
 * A result fact's `renew` and `claim` lists become renew and claim events of
 * the fact's time, so they fold exactly as separate renew and claim facts
 * would. A task fails the job after the document's `maxAttempts` failures.
 * The job's outcome is the `done` hash with the most distinct authors (then
 * the earliest), so peers that reduced alike agree on one.
 *
 * An iterative job's task indices cover every pass (passes.ts); only the
 * tasks of the open pass (the first without an accepted `pass` fact, see
 * pass-ledger.ts) are pending, so pass p's tasks open once pass p − 1's state
 * is accepted. `pass` and iterative `done` facts reach the state only once
 * checked (pass-check.ts).
 *
 * A job also ends by its submitter's `cancel` or its deadline (ending.ts):
 * facts that do not count by those rules are refused once the document is
 * here and dropped when it comes; the deadline is the other reading of the
 * clock, and, like a lease's end, it is the same instant on every peer.
 *
 * One concern past 400 lines: the fold of one job's facts, whose indexes
 * (events, folds, pending and accepted sets, the ledger, done and cancel
 * facts) the views, the passes and the endings all read; the rules
 * themselves live in task-fold.ts, pass-ledger.ts and ending.ts.
 */
import { taskCount, type JobDocument } from './spec.ts'
import type { FactOf, ResultEntry, SignedFact } from './facts.ts'
import { resultHash } from './result-hash.ts'
import { foldTask, slotsOf, type TaskEvent, type TaskFold } from './task-fold.ts'
import { isIterative, passCount, passOf, resultsDigest, taskIndexCount } from './passes.ts'
import { PassLedger, type LedgerChange } from './pass-ledger.ts'
import { passesView, type JobView, type TaskStatus, type TaskView } from './views.ts'
import { deadlineReason, refusalOf } from './ending.ts'

/** One job's facts and the views derived from them. */
export class JobState {
  readonly id: string
  doc: JobDocument | undefined
  private readonly facts = new Map<string, SignedFact>()
  private readonly taskEvents = new Map<number, TaskEvent[]>()
  private readonly folds = new Map<number, TaskFold>()
  private readonly dirty = new Set<number>()
  private readonly doneFacts = new Map<string, Array<SignedFact & { fact: FactOf<'done'> }>>()
  /** Per task, the peers its current fold found outvoted. */
  private readonly outvoted = new Map<number, string[]>()

  /**
   * Peers whose results were outvoted in this job, by the current folds (not
   * by any fold seen before): a fold of part of the facts can outvote a peer
   * that the full set does not, and every peer must name the same ones.
   */
  get untrusted (): Set<string> {
    return new Set([...this.outvoted.values()].flat())
  }
  private claimed = false
  /** Tasks neither accepted nor failed: all the scheduler needs to look at. */
  private readonly pending = new Set<number>()
  private readonly acceptedTasks = new Set<number>()
  private readonly failedTasks = new Set<number>()
  /** Of an iterative job: the accepted tasks per pass. */
  private readonly passAccepted = new Map<number, number>()
  /** Of an iterative job: the accepted passes (set with the document). */
  private ledger: PassLedger | undefined
  /** Pass facts that came before the document: applied when it comes. */
  private readonly earlyPasses: Array<SignedFact & { fact: FactOf<'pass'> }> = []
  /** The latest time any held fact was stamped with (or the document created): a finished job's retention runs from it. */
  lastAt = 0
  /** Cancel facts (before the document, of any author; after it, the submitter's only). */
  private readonly cancels: Array<SignedFact & { fact: FactOf<'cancel'> }> = []
  /** Data of inline results by hash, so any peer can reduce without fetching. */
  readonly inlineResults = new Map<string, Uint8Array>()
  /** Where larger results live: hash → root CID in the swarm. */
  readonly resultRefs = new Map<string, string>()

  private readonly avoid: ReadonlySet<string>

  /** The peers untrusted from earlier jobs when this state was made. */
  get avoided (): ReadonlySet<string> {
    return this.avoid
  }

  /** Whether `peer` is untrusted from earlier jobs: its claims are never granted and its results never count here. */
  avoids (peer: string): boolean {
    return this.avoid.has(peer)
  }

  /** `avoid`: peers untrusted from earlier jobs, whose claims are not granted. */
  constructor (id: string, avoid: ReadonlySet<string> = new Set()) {
    this.id = id
    this.avoid = avoid
  }

  get factCount (): number {
    return this.facts.size
  }

  allFacts (): SignedFact[] {
    return [...this.facts.values()]
  }

  /** Facts per author: the sync summary (the facts of authors whose counts differ are offered by id). */
  readonly authorCounts = new Map<string, number>()

  /** The fact of id `factId`, if held. */
  fact (factId: string): SignedFact | undefined {
    return this.facts.get(factId)
  }

  has (factId: string): boolean {
    return this.facts.has(factId)
  }

  /**
   * Adds a verified fact (a `pass` fact, or an iterative job's `done`, only once checked);
   * returns false if it was known already, or contradicts the accepted outcome of its pass.
   */
  add (sf: SignedFact): boolean {
    if (this.facts.has(sf.id)) return false
    const f = sf.fact
    if (this.doc != null && refusalOf(this.doc, sf) != null) return false
    if (f.t === 'pass' && this.doc != null && this.addPass(sf as SignedFact & { fact: FactOf<'pass'> }) === 'conflict') return false
    this.facts.set(sf.id, sf)
    this.authorCounts.set(sf.from, (this.authorCounts.get(sf.from) ?? 0) + 1)
    if ('at' in f && f.at > this.lastAt) this.lastAt = f.at
    const push = (task: number, ev: TaskEvent): void => {
      if (this.doc != null && task >= taskIndexCount(this.doc)) return
      let list = this.taskEvents.get(task)
      if (list == null) { list = []; this.taskEvents.set(task, list) }
      list.push(ev)
      this.dirty.add(task)
    }
    switch (f.t) {
      case 'claim':
      case 'renew':
        if (f.t === 'claim') this.claimed = true
        for (const task of f.tasks) push(task, { at: f.at, kind: f.t, from: sf.from, lease: f.lease, id: sf.id })
        break
      case 'result':
        for (const entry of f.results) {
          push(entry.task, { at: f.at, kind: 'result', from: sf.from, lease: 0, entry, id: sf.id })
          if (entry.data != null) this.inlineResults.set(entry.hash, entry.data)
          if (entry.ref != null) this.resultRefs.set(entry.hash, entry.ref)
        }
        if (f.renew != null) for (const task of f.renew.tasks) push(task, { at: f.at, kind: 'renew', from: sf.from, lease: f.renew.lease, id: sf.id })
        if (f.claim != null) {
          this.claimed = true
          for (const task of f.claim.tasks) push(task, { at: f.at, kind: 'claim', from: sf.from, lease: f.claim.lease, id: sf.id })
        }
        break
      case 'fail':
        push(f.task, { at: f.at, kind: 'fail', from: sf.from, lease: 0, reason: f.reason, id: sf.id })
        break
      case 'done': {
        const list = this.doneFacts.get(f.hash) ?? []
        list.push(sf as SignedFact & { fact: FactOf<'done'> })
        this.doneFacts.set(f.hash, list)
        break
      }
      case 'pass':
        if (this.doc == null) this.earlyPasses.push(sf as SignedFact & { fact: FactOf<'pass'> })
        break
      case 'cancel':
        this.cancels.push(sf as SignedFact & { fact: FactOf<'cancel'> })
        break
      default:
        break
    }
    this.refresh()
    return true
  }

  /** Adds a checked pass fact to the ledger; when it opens the next pass, that pass's tasks become pending. */
  private addPass (sf: SignedFact & { fact: FactOf<'pass'> }): LedgerChange {
    const ledger = this.ledger
    if (ledger == null) return 'conflict'
    const before = ledger.open
    const change = ledger.add(sf)
    if (ledger.open !== before) this.openTasks()
    return change
  }

  /** Makes the open pass's tasks (and only them) pending, none once the job's passes are over. */
  private openTasks (): void {
    const doc = this.doc
    if (doc == null) return
    this.pending.clear()
    const open = this.openPass
    if (open >= passCount(doc) || this.ledger?.failure != null) return
    const tasks = taskCount(doc)
    for (let k = open * tasks; k < (open + 1) * tasks; k++) {
      if (!this.acceptedTasks.has(k) && !this.failedTasks.has(k)) this.pending.add(k)
    }
  }

  /** Refolds changed tasks and keeps the pending/accepted/failed sets current. */
  private refresh (): void {
    const doc = this.doc
    if (doc == null) return
    const tasks = taskCount(doc)
    const open = this.openPass
    const over = open >= passCount(doc) || this.ledger?.failure != null
    for (const task of [...this.dirty]) {
      // mirror the fold both ways: a late fact (an earlier claim that wins a tie)
      // can take back an acceptance the fold had given
      const f = this.fold(task)
      const accepted = f.accepted != null
      const failed = !accepted && f.failures >= doc.maxAttempts
      if (accepted !== this.acceptedTasks.has(task)) {
        const pass = passOf(task, tasks)
        this.passAccepted.set(pass, (this.passAccepted.get(pass) ?? 0) + (accepted ? 1 : -1))
      }
      if (accepted) this.acceptedTasks.add(task); else this.acceptedTasks.delete(task)
      if (failed) this.failedTasks.add(task); else this.failedTasks.delete(task)
      // only the open pass's tasks need work
      if (accepted || failed || over || passOf(task, tasks) !== open) this.pending.delete(task); else this.pending.add(task)
    }
  }

  /** The pass whose tasks are open: the first without an accepted outcome (0 for a job of one pass). */
  get openPass (): number {
    return this.ledger?.open ?? 0
  }

  /** The CIDs of the accepted pass states (an iterative job's models), in pass order. */
  acceptedStates (): string[] {
    const out: string[] = []
    for (const { fact } of this.ledger?.accepted() ?? []) if (fact.state != null) out.push(fact.state)
    return out
  }

  /** Of an iterative job: the accepted passes (see pass-ledger.ts); undefined for a job of one pass or without its document. */
  get passes (): PassLedger | undefined {
    return this.ledger
  }

  /** Of an iterative job: every task of the open pass has an accepted result, and the pass has no accepted outcome yet: it is ready to reduce. */
  get passReady (): boolean {
    const doc = this.doc
    if (doc == null || this.ledger == null || this.ledger.failure != null) return false
    const open = this.ledger.open
    return open < this.ledger.count && this.passAccepted.get(open) === taskCount(doc) && this.failedTasks.size === 0
  }

  /** The digest of pass `pass`'s accepted results (see passes.ts), or undefined while any is missing. */
  resultsDigest (pass = this.openPass): string | undefined {
    const results = this.acceptedResults(pass)
    return results == null ? undefined : resultsDigest(results.map(e => e.hash))
  }

  /** Task indices still needing work (neither accepted nor failed). */
  pendingTasks (): IterableIterator<number> {
    return this.pending.values()
  }

  /** Every task has an accepted result; of an iterative job, every pass has an accepted state. */
  get complete (): boolean {
    if (this.doc == null) return false
    if (this.ledger != null) return this.ledger.complete
    return this.acceptedTasks.size === taskCount(this.doc)
  }

  /**
   * The job ended without a result: some task failed too often, a pass's accepted outcome is
   * a failure, its submitter canceled it, or its deadline passed (by this peer's clock) before
   * it was done.
   */
  get failed (): boolean {
    return this.failedTasks.size > 0 || this.ledger?.failure != null || this.canceled != null || this.deadlinePassed()
  }

  /** The counted cancel (the submitter's earliest), unless a `done` no later than it makes the job done (ending.ts rule 3). */
  get canceled (): { by: string, at: number } | undefined {
    const doc = this.doc
    if (doc == null || this.cancels.length === 0) return undefined
    let at = Infinity
    for (const c of this.cancels) if (c.fact.at < at) at = c.fact.at
    if (this.doneResult() != null) return undefined
    return { by: doc.submitter, at }
  }

  /**
   * When the job finished, if it has (done, failed, canceled, or past its deadline): the
   * latest of its facts' times, and the deadline for a job that ended by it. The same on
   * every peer holding the same facts.
   */
  finishedAt (now = Date.now()): number | undefined {
    if (this.doc == null) return undefined
    if (this.deadlinePassed(now) && this.failedTasks.size === 0 && this.ledger?.failure == null && this.canceled == null) return Math.max(this.lastAt, this.doc.deadline as number)
    return this.doneResult() != null || this.failed ? this.lastAt : undefined
  }

  /** Whether the job has a deadline, `now` is past it and no `done` made it done by then. */
  deadlinePassed (now = Date.now()): boolean {
    const deadline = this.doc?.deadline
    return deadline != null && now > deadline && this.doneResult() == null
  }

  private fold (task: number): TaskFold {
    let f = this.folds.get(task)
    if (f == null || this.dirty.has(task)) {
      f = foldTask([...(this.taskEvents.get(task) ?? [])], this.doc?.redundancy ?? 1, this.avoid)
      this.folds.set(task, f)
      this.dirty.delete(task)
      if (f.untrusted.length > 0) this.outvoted.set(task, f.untrusted)
      else this.outvoted.delete(task)
    }
    return f
  }

  task (index: number, now = Date.now()): TaskView {
    const f = this.fold(index)
    const running = [...f.holders].filter(([, expiry]) => expiry >= now).map(([peer]) => peer)
    const maxAttempts = this.doc?.maxAttempts ?? Infinity
    const redundancy = this.doc?.redundancy ?? 1
    let status: TaskStatus
    let openSlots = 0
    if (f.accepted != null) status = 'done'
    else if (f.failures >= maxAttempts) status = 'failed'
    else {
      status = running.length > 0 ? 'running' : 'open'
      openSlots = Math.max(0, slotsOf(f.results.size, redundancy) - running.length)
    }
    const view: TaskView = { status, running, openSlots, results: f.results.size, accepted: f.accepted?.entry, retried: f.retried }
    if (status === 'open') {
      // lapsed leases still in the fold's holders (no later fact dropped them) count too
      const freed = Math.max(f.lastFreed, ...[...f.holders.values()].filter(expiry => expiry < now))
      if (freed > 0) view.reopenedAt = freed
    }
    return view
  }

  /**
   * Whether the task has a slot no live holder fills: `task(index, now).openSlots > 0`
   * without building the view (a scheduler asks it of every pending task on each round).
   */
  hasOpenSlot (index: number, now = Date.now()): boolean {
    const f = this.fold(index)
    if (f.accepted != null || f.failures >= (this.doc?.maxAttempts ?? Infinity)) return false
    let live = 0
    for (const expiry of f.holders.values()) if (expiry >= now) live++
    return slotsOf(f.results.size, this.doc?.redundancy ?? 1) > live
  }

  /** Has `peer` a live claim on, or a result for, this task? */
  involves (index: number, peer: string, now = Date.now()): boolean {
    const f = this.fold(index)
    const expiry = f.holders.get(peer)
    return f.results.has(peer) || (expiry != null && expiry >= now)
  }

  /** Is `peer` a holder of the task in the fold (granted, no result yet, lease alive)? */
  holds (index: number, peer: string, now = Date.now()): boolean {
    const expiry = this.fold(index).holders.get(peer)
    return expiry != null && expiry >= now
  }

  /** Claims that lost a race, over all tasks. */
  lostClaims (): number {
    if (this.doc == null) return 0
    let n = 0
    for (const task of this.taskEvents.keys()) n += this.fold(task).lostClaims
    return n
  }

  /** Accepted results of every task of pass `pass` (the open one by default) in task order, or undefined while any is missing. */
  acceptedResults (pass = this.openPass): ResultEntry[] | undefined {
    const doc = this.doc
    if (doc == null) return undefined
    const tasks = taskCount(doc)
    if ((this.ledger == null ? this.acceptedTasks.size : this.passAccepted.get(pass) ?? 0) !== tasks) return undefined
    const out: ResultEntry[] = []
    for (let k = pass * tasks; k < (pass + 1) * tasks; k++) {
      const accepted = this.fold(k).accepted
      if (accepted == null) return undefined
      out.push(accepted.entry)
    }
    return out
  }

  /** Peers that contributed accepted results to pass `pass` (the open one by default). */
  contributors (pass = this.openPass): string[] {
    const peers = new Set<string>()
    const doc = this.doc
    if (doc == null) return []
    const tasks = taskCount(doc)
    for (let k = pass * tasks; k < (pass + 1) * tasks; k++) for (const p of this.fold(k).accepted?.voters ?? []) peers.add(p)
    return [...peers].sort()
  }

  /** The agreed final result: the hash with most distinct `done` authors, then the earliest. */
  doneResult (): FactOf<'done'> | undefined {
    let best: Array<SignedFact & { fact: FactOf<'done'> }> | undefined
    // a done stamped after the submitter's cancel does not count (ending.ts rule 3)
    let canceledAt = Infinity
    for (const c of this.cancels) if (c.fact.at < canceledAt) canceledAt = c.fact.at
    for (const all of this.doneFacts.values()) {
      const list = canceledAt === Infinity ? all : all.filter(f => f.fact.at <= canceledAt)
      if (list.length === 0) continue
      const authors = new Set(list.map(f => f.from)).size
      const bestAuthors = best == null ? 0 : new Set(best.map(f => f.from)).size
      if (best == null || authors > bestAuthors || (authors === bestAuthors && Math.min(...list.map(f => f.fact.at)) < Math.min(...best.map(f => f.fact.at)))) best = list
    }
    return best?.sort((a, b) => a.fact.at - b.fact.at)[0].fact
  }

  /** The final result's bytes carried inline by a `done` fact of hash `hash` (checked against it), if any. */
  doneInline (hash: string): Uint8Array | undefined {
    for (const sf of this.doneFacts.get(hash) ?? []) {
      const data = sf.fact.data
      if (data != null && resultHash(data) === hash) return data
    }
    return undefined
  }

  view (now = Date.now()): JobView {
    const total = this.doc != null ? taskIndexCount(this.doc) : 0
    const view: JobView = { id: this.id, status: 'queued', total, done: this.acceptedTasks.size, running: 0, open: 0, retried: 0, failedTasks: this.failedTasks.size }
    for (const i of this.pending) {
      const t = this.task(i, now)
      if (t.status === 'running') view.running++
      else view.open++
    }
    for (const f of this.folds.values()) view.retried += f.retried
    let reason: string | undefined
    if (this.failedTasks.size > 0) {
      const i = Math.min(...this.failedTasks)
      reason = `task ${i} failed ${this.doc?.maxAttempts ?? 0} times: ${this.fold(i).lastFailure ?? 'unknown error'}`
    }
    if (this.ledger != null) {
      reason = this.ledger.failure?.reason ?? reason
      Object.assign(view, passesView(this.ledger))
    }
    const done = this.doneResult()
    const canceled = done == null ? this.canceled : undefined
    if (this.doc?.deadline != null) view.deadline = this.doc.deadline
    if (done == null && canceled == null && reason == null && this.deadlinePassed(now)) reason = deadlineReason(this.doc as JobDocument, view.done, total)
    if (done != null) {
      view.status = 'done'
      view.result = { cid: done.result, hash: done.hash, size: done.size }
    } else if (canceled != null) {
      view.status = 'canceled'
      view.canceled = canceled
    } else if (reason != null) {
      view.status = 'failed'
      view.reason = reason
    } else if (this.claimed || view.done > 0) {
      view.status = 'running'
    }
    return view
  }

  /** Sets the job document (it may arrive after facts about its tasks): every fold is recomputed. */
  setDoc (doc: JobDocument): void {
    if (this.doc != null) return
    this.doc = doc
    this.lastAt = Math.max(this.lastAt, doc.createdAt)
    this.dropRefused(doc)
    if (isIterative(doc)) {
      this.ledger = new PassLedger(passCount(doc))
      for (const sf of this.earlyPasses.splice(0)) {
        // a pass fact that contradicts one applied before it is dropped, as it would have been after the document
        if (this.ledger.add(sf) === 'conflict') {
          this.facts.delete(sf.id)
          this.authorCounts.set(sf.from, (this.authorCounts.get(sf.from) ?? 1) - 1)
        }
      }
    }
    const count = taskIndexCount(doc)
    for (const task of this.taskEvents.keys()) {
      if (task >= count) this.taskEvents.delete(task)
      else this.dirty.add(task)
    }
    this.refresh()
    this.openTasks()
  }

  /** Drops the facts that came before the document and do not count by it (ending.ts rules 1 and 2), as they would have been refused after it. */
  private dropRefused (doc: JobDocument): void {
    const dropped = new Set<string>()
    for (const sf of this.facts.values()) {
      if (refusalOf(doc, sf) == null) continue
      dropped.add(sf.id)
      this.authorCounts.set(sf.from, (this.authorCounts.get(sf.from) ?? 1) - 1)
    }
    if (dropped.size === 0) return
    for (const id of dropped) this.facts.delete(id)
    for (const [task, events] of this.taskEvents) this.taskEvents.set(task, events.filter(ev => !dropped.has(ev.id)))
    for (const [hash, list] of this.doneFacts) {
      const kept = list.filter(sf => !dropped.has(sf.id))
      if (kept.length > 0) this.doneFacts.set(hash, kept); else this.doneFacts.delete(hash)
    }
    const keep = <T extends SignedFact>(list: T[]): void => { list.splice(0, list.length, ...list.filter(sf => !dropped.has(sf.id))) }
    keep(this.earlyPasses)
    keep(this.cancels)
  }
}
