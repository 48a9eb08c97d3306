/**
 * jobs/membership: which peers this peer can work with now: the peers it is
 * connected to (a sorted id list kept until a peer connects or disconnects,
 * since the scheduler asks on every round) and the peers it sees on the jobs
 * topic. Never dials or disconnects anyone.
 */
import type { PeerId, Startable } from '@libp2p/interface'
import { connectedPeers, isConnected } from '../node/index.ts'
import { JOBS_TOPIC } from './constants.ts'
import type { JobNetwork, JobPubSub } from './components.ts'

export interface MembershipComponents {
  network: Pick<JobNetwork, 'getConnections' | 'addEventListener' | 'removeEventListener'>
  pubsub: Pick<JobPubSub, 'getSubscribers'>
}

export class Membership implements Startable {
  private readonly network: MembershipComponents['network']
  private readonly pubsub: MembershipComponents['pubsub']
  /** Sorted ids of the connected peers; undefined once a connection opened or closed. */
  private connected: string[] | undefined
  private readonly forget = (): void => { this.connected = undefined }

  constructor (components: MembershipComponents) {
    this.network = components.network
    this.pubsub = components.pubsub
  }

  start (): void {
    this.network.addEventListener('peer:connect', this.forget)
    this.network.addEventListener('peer:disconnect', this.forget)
  }

  stop (): void {
    this.network.removeEventListener('peer:connect', this.forget)
    this.network.removeEventListener('peer:disconnect', this.forget)
  }

  /** The peers connected now, each once (read afresh, not cached). */
  connectedPeers (): PeerId[] {
    return connectedPeers(this.network)
  }

  /** Whether any connection is open. */
  isConnected (): boolean {
    return isConnected(this.network)
  }

  /**
   * Ids of the connected peers, sorted. The same array until a peer connects
   * or disconnects, so callers may compare it by identity.
   */
  livePeerIds (): readonly string[] {
    this.connected ??= connectedPeers(this.network).map(p => p.toString()).sort()
    return this.connected
  }

  /** How many peers are connected (for fair shares of open work). */
  livePeers (): number {
    return this.livePeerIds().length
  }

  /**
   * How many peers this peer sees on the jobs topic. None means it is outside
   * the swarm's job layer, connected or not: no peer would answer it about jobs.
   */
  jobPeers (): number {
    return this.pubsub.getSubscribers(JOBS_TOPIC).length
  }
}
