/**
 * jobs/sync/server: the responder's side of one sync exchange. It reads the
 * requester's summary, answers with its own and an offer (the ids of its
 * facts by every author of whom it holds more, per job the `job` and `done`
 * facts first), and sends the offered facts the requester asks for; when the
 * requester holds facts it lacks, it pulls them back afterwards.
 *
 * Never sends a fact it did not offer, nor more than MAX_SYNC_FACTS in one
 * exchange; a malformed message ends that stream only.
 */
import type { Logger, PeerId, Stream } from '@libp2p/interface'
import { deadline } from '../../async/index.ts'
import { MAX_SYNC_FACTS, SYNC_TIMEOUT_MS } from '../constants.ts'
import type { SignedFact } from '../facts.ts'
import type { FactStore } from '../fact-store.ts'
import type { JobState } from '../state.ts'
import { readHave, readIds, syncStream, writeEnd, writeHave, writeIds, type SyncSummary } from './codec.ts'
import { jobsToSync, summaryOf } from './summary.ts'
import type { KnownJob } from '../finished-job.ts'

export interface SyncServerComponents {
  store: Pick<FactStore, 'all' | 'known' | 'restore' | 'collected'>
  /** Told the jobs a peer has shown it holds. */
  witness: (jobs: string[]) => void
  /** Asked to sync with a requester that holds facts this peer lacks. */
  pullBack: (peer: PeerId) => void
  log: Logger
}

/**
 * A job's facts in the order a sync offers them: the job and its outcome
 * (`done`, `cancel`) first, then the history (claims, results, failures). A sync cut
 * short by its time limit, again and again on a loaded peer, still delivers
 * the job and its result, which is all a done job needs.
 */
function outcomeFirst (facts: SignedFact[]): SignedFact[] {
  const first: SignedFact[] = []
  const rest: SignedFact[] = []
  for (const sf of facts) (sf.fact.t === 'job' || sf.fact.t === 'done' || sf.fact.t === 'cancel' ? first : rest).push(sf)
  return first.concat(rest)
}

export class SyncServer {
  private readonly components: SyncServerComponents

  constructor (components: SyncServerComponents) {
    this.components = components
  }

  /** Serves one exchange on `stream`, within SYNC_TIMEOUT_MS. */
  async serve (stream: Stream, remote: PeerId): Promise<void> {
    const { store, witness, pullBack, log } = this.components
    const limit = deadline(SYNC_TIMEOUT_MS)
    const signal = limit.signal
    try {
      const lp = syncStream(stream)
      const theirs = await readHave(lp, signal)
      witness(Object.keys(theirs).filter(id => store.known(id) != null))
      const mine = jobsToSync(store.all())
      const { offer, states } = await this.offerFor(theirs, mine)
      await writeHave(lp, summaryOf(mine), signal)
      await writeIds(lp, offer, signal)
      const want = await readIds(lp, signal)
      for (const [job, ids] of Object.entries(want)) {
        // only facts that were offered: the want list cannot ask for anything else
        const offered = new Set(offer[job] ?? [])
        const state = states.get(job)
        if (state == null) continue
        for (const id of ids) {
          const sf = offered.has(id) ? state.fact(id) : undefined
          if (sf != null) await lp.write(sf.envelope, { signal })
        }
      }
      await writeEnd(lp, signal)
      await stream.close({ signal })
      // the requester read everything and closed: it has the jobs offered now
      witness(Object.keys(offer).filter(id => theirs[id] == null))
      // the requester knows facts we lack: pull them back (anti-entropy both ways)
      if (Object.entries(theirs).some(([id, authors]) => !store.collected(id) && Object.entries(authors).some(([author, n]) => (store.known(id)?.authorCounts.get(author) ?? 0) < n))) {
        setImmediate(() => { pullBack(remote) })
      }
    } catch (err) {
      log('serving a sync to %p failed: %e', remote, err)
      stream.abort(err instanceof Error ? err : new Error(String(err)))
    } finally {
      limit.clear()
    }
  }

  /**
   * The ids offered to a peer whose summary is `theirs`, of the jobs it names and `mine` (those
   * this peer's summary names): per job, the facts of every author of whom this peer holds
   * more, the job and done facts first; MAX_SYNC_FACTS in all; with the states the offered
   * facts are sent from (a finished job's facts are read back from disk for it).
   */
  private async offerFor (theirs: SyncSummary, mine: KnownJob[]): Promise<{ offer: Record<string, string[]>, states: Map<string, JobState> }> {
    const offer: Record<string, string[]> = {}
    const states = new Map<string, JobState>()
    const jobs = new Map<string, KnownJob>()
    for (const id of Object.keys(theirs)) {
      const job = this.components.store.known(id)
      if (job != null) jobs.set(id, job)
    }
    for (const job of mine) jobs.set(job.id, job)
    let offered = 0
    for (const job of jobs.values()) {
      const known = theirs[job.id]
      const authors = new Set([...job.authorCounts].filter(([author, count]) => (known?.[author] ?? 0) < count).map(([author]) => author))
      if (authors.size === 0) continue
      const state = await this.components.store.restore(job.id)
      if (state == null) continue
      const ids = outcomeFirst(state.allFacts()).filter(sf => authors.has(sf.from)).map(sf => sf.id).slice(0, MAX_SYNC_FACTS - offered)
      if (ids.length === 0) break
      offer[job.id] = ids
      states.set(job.id, state)
      offered += ids.length
    }
    return { offer, states }
  }
}
