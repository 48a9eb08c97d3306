/**
 * jobs/components: the narrow interfaces through which the job service takes
 * what it uses (the parts of libp2p, the data layer, the function registry,
 * the datastore) and its one tuning (`JobServiceInit`). A test passes doubles
 * of these; the product passes the libp2p node and the layers below. Never
 * holds code.
 */
import type { GossipSub } from '@libp2p/gossipsub'
import type { ComponentLogger, Libp2p, Metrics, PeerId, PrivateKey } from '@libp2p/interface'
import type { Datastore } from 'interface-datastore'
import type { FunctionRegistry } from '../functions/index.ts'
import type { JobServiceData } from './data-access.ts'
import type { RunnerStatus } from './runnability.ts'

/** What the job layer uses of gossipsub: the jobs topic's validator, subscription, publishing and subscribers. */
export type JobPubSub = Pick<GossipSub, 'topicValidators' | 'subscribe' | 'unsubscribe' | 'publish' | 'getSubscribers'>

/** What the job layer uses of the libp2p node: the sync protocol's streams, open connections and their events. */
export type JobNetwork = Pick<Libp2p, 'dialProtocol' | 'handle' | 'unhandle' | 'getConnections' | 'addEventListener' | 'removeEventListener'>

/** What the job layer uses of the function registry: whether a function is known, and the function (to check params, to reduce). */
export type JobFunctions = Pick<FunctionRegistry, 'has' | 'get'>

/** Everything the job service uses, named. */
export interface JobServiceComponents {
  /** This peer's id: the author of its facts. */
  peerId: PeerId
  /** This peer's key: its facts are signed with it. */
  privateKey: PrivateKey
  pubsub: JobPubSub
  network: JobNetwork
  logger: ComponentLogger
  /** The data layer: job documents, result blocks, input roots and results are read and stored through it. */
  data: JobServiceData
  functions: JobFunctions
  /** Where facts are persisted (the repo's datastore), so a restarted peer knows its jobs before it syncs; none keeps them in memory only. */
  datastore?: Datastore
  /** Where the job layer registers its `edgeswarm_jobs_*` metrics; none: no metrics. */
  metrics?: Metrics
  /**
   * What the live peers (this one included) say they can run, from the swarm view: a
   * waiting job none of them can run shows why (`JobView.warning`). None: no such warning.
   */
  runners?: () => readonly RunnerStatus[]
}

/** The job service's tunings. */
export interface JobServiceInit {
  /**
   * How often (ms) the peer syncs with one random connected peer.
   * @default SYNC_INTERVAL_MS
   */
  syncIntervalMs?: number
  /**
   * How long (ms) a finished job (done, failed, canceled) is kept after it finished, then
   * collected: facts, document and results (see retention.ts); 0 keeps jobs forever.
   * @default DEFAULT_JOB_KEEP_MS
   */
  keepMs?: number
  /**
   * How long (ms) a finished job stays whole in memory after its last fact or its last read;
   * after it, only its summary stays in memory and its facts in the datastore (fact-store.ts).
   * @default FINISHED_JOB_IDLE_MS
   */
  finishedIdleMs?: number
}
