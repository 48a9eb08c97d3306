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
 */
import type { JobDocument } from './spec.ts'
import type { FactOf, ResultEntry, SignedFact } from './facts.ts'
import { resultHash } from './result-hash.ts'
import { foldTask, slotsOf, type TaskEvent, type TaskFold } from './task-fold.ts'

export type TaskStatus = 'open' | 'running' | 'done' | 'failed'
export type JobStatus = 'queued' | 'running' | 'done' | 'failed'

export interface TaskView {
  status: TaskStatus
  /** Holders whose lease is alive now. */
  running: string[]
  /** Slots free now. */
  openSlots: number
  results: number
  accepted: ResultEntry | undefined
  retried: number
  /**
   * When an open task was opened again: its last holder's lease lapsed or it
   * failed (the same time on every peer with the same facts); undefined for a
   * task nobody held yet, or one not open.
   */
  reopenedAt?: number
}

export interface JobView {
  id: string
  status: JobStatus
  total: number
  done: number
  running: number
  open: number
  retried: number
  failedTasks: number
  /** Why the job failed, when it did. */
  reason?: string
  /** The final result, when done. */
  result?: { cid: string, hash: string, size: number }
  /** A training job's rounds so far, in order, each with its loss once known: what the dashboard charts. */
  rounds?: Array<{ round: number, loss?: number }>
}

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
  /** Data of inline results by hash, so any peer can reduce without fetching. */
  readonly inlineResults = new Map<string, Uint8Array>()
  /** Where larger results live: hash → root CID in the swarm. */
  readonly resultRefs = new Map<string, string>()

  private readonly avoid: ReadonlySet<string>

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

  /** Adds a verified fact; returns false if it was known already. */
  add (sf: SignedFact): boolean {
    if (this.facts.has(sf.id)) return false
    this.facts.set(sf.id, sf)
    this.authorCounts.set(sf.from, (this.authorCounts.get(sf.from) ?? 0) + 1)
    const f = sf.fact
    const push = (task: number, ev: TaskEvent): void => {
      if (this.doc != null && task >= this.doc.tasks.length) return
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
      default:
        break
    }
    this.refresh()
    return true
  }

  /** Refolds changed tasks and keeps the pending/accepted/failed sets current. */
  private refresh (): void {
    const doc = this.doc
    if (doc == null) return
    for (const task of [...this.dirty]) {
      // mirror the fold both ways: a late fact (an earlier claim that wins a tie)
      // can take back an acceptance the fold had given
      const f = this.fold(task)
      const accepted = f.accepted != null
      const failed = !accepted && f.failures >= doc.maxAttempts
      if (accepted) this.acceptedTasks.add(task); else this.acceptedTasks.delete(task)
      if (failed) this.failedTasks.add(task); else this.failedTasks.delete(task)
      if (accepted || failed) this.pending.delete(task); else this.pending.add(task)
    }
  }

  /** Task indices still needing work (neither accepted nor failed). */
  pendingTasks (): IterableIterator<number> {
    return this.pending.values()
  }

  /** Every task has an accepted result. */
  get complete (): boolean {
    return this.doc != null && this.acceptedTasks.size === this.doc.tasks.length
  }

  /** Some task failed too often: the job has failed. */
  get failed (): boolean {
    return this.failedTasks.size > 0
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
    for (let i = 0; i < this.doc.tasks.length; i++) n += this.fold(i).lostClaims
    return n
  }

  /** Accepted results of every task in task order, or undefined while any is missing. */
  acceptedResults (): ResultEntry[] | undefined {
    if (this.doc == null || !this.complete) return undefined
    const out: ResultEntry[] = []
    for (let i = 0; i < this.doc.tasks.length; i++) {
      const accepted = this.fold(i).accepted
      if (accepted == null) return undefined
      out.push(accepted.entry)
    }
    return out
  }

  /** Peers that contributed accepted results. */
  contributors (): string[] {
    const peers = new Set<string>()
    if (this.doc == null) return []
    for (let i = 0; i < this.doc.tasks.length; i++) for (const p of this.fold(i).accepted?.voters ?? []) peers.add(p)
    return [...peers].sort()
  }

  /** The agreed final result: the hash with most distinct `done` authors, then the earliest. */
  doneResult (): FactOf<'done'> | undefined {
    let best: Array<SignedFact & { fact: FactOf<'done'> }> | undefined
    for (const list of this.doneFacts.values()) {
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
    const total = this.doc?.tasks.length ?? 0
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
    const done = this.doneResult()
    if (done != null) {
      view.status = 'done'
      view.result = { cid: done.result, hash: done.hash, size: done.size }
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
    for (let i = 0; i < doc.tasks.length; i++) this.pending.add(i)
    for (const task of this.taskEvents.keys()) {
      if (task >= doc.tasks.length) this.taskEvents.delete(task)
      else this.dirty.add(task)
    }
    this.refresh()
  }
}
