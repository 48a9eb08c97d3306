/**
 * scheduler/job-source: what the scheduler uses of the layers below it, as
 * interfaces: the job layer (`JobSource`: the jobs' states, the live peers,
 * publishing this peer's facts, change events) and the data layer
 * (`SchedulerData`: local holdings, result storage, placement). The job and
 * data services satisfy them; tests pass a job source built from facts, with
 * no network.
 *
 * Types only. Never widen them with what the scheduler does not use.
 */
import type { Fact, JobDataAccess, JobState } from '../jobs/index.ts'

/** The job layer as the scheduler sees it. */
export interface JobSource {
  /** The jobs this peer knows, with their documents: what a round scans. */
  jobs: () => Iterable<JobState>
  /** One job's state, if known. */
  state: (id: string) => JobState | undefined
  /**
   * Ids of the peers this peer is connected to, sorted: the same array until
   * a peer connects or disconnects (rank tables are rebuilt when it changes).
   */
  livePeerIds: () => readonly string[]
  /** Peers this peer sees on the jobs topic: none means it is alone in the job layer, connected or not. */
  jobPeers: () => number
  /** Signs, applies and gossips one of this peer's facts. */
  publish: (fact: Fact) => Promise<unknown>
  /** `change` fires when a job's state changed (its id in `detail`). */
  addEventListener: (type: 'change', listener: (evt: Event) => void) => void
  removeEventListener: (type: 'change', listener: (evt: Event) => void) => void
}

/** The data layer as the scheduler sees it. */
export interface SchedulerData extends Pick<JobDataAccess, 'put' | 'keepBlock' | 'hasLocal'> {
  /** Peers each block is placed on: the expected holders of a task's input, among whom its designated peer is chosen. */
  readonly replicas: number
}
