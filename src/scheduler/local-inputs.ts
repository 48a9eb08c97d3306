/**
 * scheduler/local-inputs: which tasks of each job have their input shard
 * held on this peer (by document task: an iterative job's tasks of every
 * pass read their shard's input). Looked up once per job, in the background, before the
 * peer claims anything of it: a peer prefers tasks it needs nothing to fetch
 * for, and a peer alone in the swarm takes only those.
 *
 * Never fetches a block; asks the local store only.
 */
import { shardCid, taskCount, taskShards, type JobState } from '../jobs/index.ts'
import type { SchedulerData } from './job-source.ts'

export class LocalInputs {
  private readonly data: Pick<SchedulerData, 'hasLocal'>
  private readonly ready: () => void
  /** Per job, the tasks whose input is held here, or 'pending' while they are looked up. */
  private readonly byJob = new Map<string, ReadonlySet<number> | 'pending'>()

  /** `ready` is called when a job's lookup ends (the scheduler runs a round). */
  constructor (data: Pick<SchedulerData, 'hasLocal'>, ready: () => void) {
    this.data = data
    this.ready = ready
  }

  /** The tasks of `state` whose input is held here; undefined while they are looked up (the first call starts the lookup). */
  of (state: JobState): ReadonlySet<number> | undefined {
    const held = this.byJob.get(state.id)
    if (held == null) {
      this.lookUp(state)
      return undefined
    }
    return held === 'pending' ? undefined : held
  }

  /** Forgets a job that is never scanned again. */
  forget (job: string): void {
    this.byJob.delete(job)
  }

  private lookUp (state: JobState): void {
    const doc = state.doc
    if (doc == null) return
    this.byJob.set(state.id, 'pending')
    void (async () => {
      const local = new Set<number>()
      for (let i = 0; i < taskCount(doc); i++) {
        if (await this.data.hasLocal(shardCid(doc, taskShards(doc, i).first)).catch(() => false)) local.add(i)
      }
      this.byJob.set(state.id, local)
      this.ready()
    })()
  }
}
