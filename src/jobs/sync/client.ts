/**
 * jobs/sync/client: the requester's side of one sync exchange. It sends its
 * summary, reads the peer's summary and offer, asks for the offered facts it
 * does not hold, and applies those the peer sends, each verified on its own
 * signature. Most offered facts came by gossip already, so a fact's bytes
 * cross the wire only when they are missing here.
 *
 * Never applies a fact it has not verified, and never reads past what it
 * asked for (one frame more, the end).
 */
import type { Logger, PeerId, Stream } from '@libp2p/interface'
import { deadline } from '../../async/index.ts'
import { JOB_SYNC_PROTOCOL, SYNC_TIMEOUT_MS } from '../constants.ts'
import { openFact, peekFactId } from '../facts.ts'
import type { JobNetwork } from '../components.ts'
import type { FactStore, JobStats } from '../fact-store.ts'
import { readHave, readIds, syncStream, writeHave, writeIds } from './codec.ts'
import { jobsToSync, summaryOf } from './summary.ts'

export interface SyncClientComponents {
  network: Pick<JobNetwork, 'dialProtocol'>
  store: Pick<FactStore, 'accept' | 'all' | 'known' | 'knows' | 'restore' | 'collected'>
  stats: JobStats
  /** Told the jobs a peer has shown it holds. */
  witness: (jobs: string[]) => void
  log: Logger
}

export class SyncClient {
  private readonly components: SyncClientComponents

  constructor (components: SyncClientComponents) {
    this.components = components
  }

  /** One exchange with `peer`, within SYNC_TIMEOUT_MS, asking also for the jobs of ids `jobsWanted`; true when it completed. */
  async pull (peer: PeerId, jobsWanted: readonly string[] = []): Promise<boolean> {
    const { network, store, stats, witness, log } = this.components
    const limit = deadline(SYNC_TIMEOUT_MS)
    const signal = limit.signal
    let stream: Stream | undefined
    try {
      stream = await network.dialProtocol(peer, JOB_SYNC_PROTOCOL, { signal })
      const lp = syncStream(stream)
      await writeHave(lp, summaryOf(jobsToSync(store.all()), jobsWanted), signal)
      // the answer opens with what the peer holds: a peer that knows a job witnesses it
      const theirs = await readHave(lp, signal)
      witness(Object.keys(theirs).filter(id => store.known(id) != null))
      // ask only for the offered facts not held: most were gossiped here already
      const want: Record<string, string[]> = {}
      let wanted = 0
      for (const [job, ids] of Object.entries(await readIds(lp, signal))) {
        // a job collected here is never fetched back
        if (store.collected(job)) continue
        // a finished job's facts may be on disk only: read back, so only the missing ones are asked for
        await store.restore(job)
        const missing = ids.filter(id => !store.knows(id))
        if (missing.length > 0) { want[job] = missing; wanted += missing.length }
      }
      await writeIds(lp, want, signal)
      let n = 0
      while (n++ <= wanted) {
        const bytes = (await lp.read({ signal })).subarray()
        if (bytes.length === 0) break
        const id = await peekFactId(bytes)
        if (id == null) { stats.factsRejected++; continue }
        if (store.knows(id)) continue
        try { await store.accept(await openFact(bytes), true) } catch { stats.factsRejected++ }
      }
      stats.syncs++
      await stream.close().catch(() => {})
      return true
    } catch (err) {
      log('sync with %p failed: %e', peer, err)
      stream?.abort(new Error('sync failed'))
      return false
    } finally {
      limit.clear()
    }
  }
}
