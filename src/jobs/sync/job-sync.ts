/**
 * jobs/sync/job-sync: anti-entropy of job facts. It serves the sync protocol,
 * syncs with one random connected peer every interval and with each peer that
 * connects, runs at most one exchange per peer at a time (a call during one
 * queues one more after it), and counts the peers that showed they hold a job
 * (what a submit waits for). Gossip is the fast path; this makes every peer
 * converge on the same facts even when a message was missed.
 *
 * Never trusts what a peer sends (the client verifies every fact) and never
 * serves an exchange past its time limit.
 */
import type { Logger, PeerId, Startable } from '@libp2p/interface'
import { JOB_SYNC_MAX_INBOUND_STREAMS, JOB_SYNC_PROTOCOL, MAX_WITNESSED_JOBS, SYNC_ON_CONNECT_DELAY_MS } from '../constants.ts'
import type { JobNetwork } from '../components.ts'
import type { FactStore, JobStats } from '../fact-store.ts'
import type { Membership } from '../membership.ts'
import { SyncClient } from './client.ts'
import { SyncServer } from './server.ts'

export interface JobSyncComponents {
  network: Pick<JobNetwork, 'dialProtocol' | 'handle' | 'unhandle' | 'addEventListener' | 'removeEventListener'>
  membership: Pick<Membership, 'connectedPeers'>
  store: Pick<FactStore, 'accept' | 'all' | 'known' | 'knows' | 'restore' | 'collected'>
  stats: JobStats
  log: Logger
}

export interface JobSyncInit {
  /** How often (ms) to sync with one random connected peer. */
  intervalMs: number
}

export class JobSync implements Startable {
  private readonly network: JobSyncComponents['network']
  private readonly membership: JobSyncComponents['membership']
  private readonly intervalMs: number
  private readonly client: SyncClient
  private readonly server: SyncServer
  private running = false
  private timer?: ReturnType<typeof setInterval>
  /** The exchange in flight with each peer. */
  private readonly syncing = new Map<string, Promise<boolean>>()
  /** Peers with one more exchange queued after the one in flight. */
  private readonly syncAgain = new Set<string>()
  /** Per job, how many times a peer showed (by sync) that it holds the job. */
  private readonly witnesses = new Map<string, number>()
  private readonly onConnect = (evt: CustomEvent<PeerId>): void => {
    const peer = evt.detail
    setTimeout(() => { void this.syncWith(peer) }, SYNC_ON_CONNECT_DELAY_MS).unref()
  }

  constructor (components: JobSyncComponents, init: JobSyncInit) {
    this.network = components.network
    this.membership = components.membership
    this.intervalMs = init.intervalMs
    const witness = (jobs: string[]): void => { this.witness(jobs) }
    this.client = new SyncClient({ network: components.network, store: components.store, stats: components.stats, witness, log: components.log })
    this.server = new SyncServer({ store: components.store, witness, pullBack: (peer) => { void this.syncWith(peer) }, log: components.log })
  }

  async start (): Promise<void> {
    this.running = true
    await this.network.handle(JOB_SYNC_PROTOCOL, (stream, connection) => { void this.server.serve(stream, connection.remotePeer) }, { maxInboundStreams: JOB_SYNC_MAX_INBOUND_STREAMS })
    this.network.addEventListener('peer:connect', this.onConnect)
    this.timer = setInterval(() => {
      const peers = this.membership.connectedPeers()
      if (peers.length > 0) void this.syncWith(peers[Math.floor(Math.random() * peers.length)])
    }, this.intervalMs)
    this.timer.unref()
  }

  async stop (): Promise<void> {
    this.running = false
    clearInterval(this.timer)
    this.network.removeEventListener('peer:connect', this.onConnect)
    await this.network.unhandle(JOB_SYNC_PROTOCOL).catch(() => {})
  }

  /** Syncs with `peer` (joining the exchange in flight, or queueing one after it); true when an exchange completed. */
  async syncWith (peer: PeerId): Promise<boolean> {
    const key = peer.toString()
    if (!this.running) return false
    const inflight = this.syncing.get(key)
    if (inflight != null) {
      if (this.syncAgain.has(key)) return await inflight
      this.syncAgain.add(key)
      await inflight
      this.syncAgain.delete(key)
      return await this.syncWith(peer)
    }
    const run = this.client.pull(peer).finally(() => { this.syncing.delete(key) })
    this.syncing.set(key, run)
    return await run
  }

  /**
   * Syncs with up to `n` connected peers at once, asking also for the jobs of ids `wanted`
   * (each such exchange runs on its own, beside any in flight): how many were asked, and how
   * many answered.
   */
  async syncWithConnected (n: number, wanted: readonly string[] = []): Promise<{ asked: number, answered: number }> {
    const peers = this.membership.connectedPeers().slice(0, n)
    const one = async (peer: PeerId): Promise<boolean> => wanted.length === 0 ? await this.syncWith(peer) : this.running && await this.client.pull(peer, wanted)
    const answered = (await Promise.all(peers.map(one))).filter(Boolean).length
    return { asked: peers.length, answered }
  }

  /** Whether some peer has shown, by sync, that it holds job `id`. */
  witnessed (id: string): boolean {
    return (this.witnesses.get(id) ?? 0) > 0
  }

  /** Counts a witness of each job; the oldest counts go past MAX_WITNESSED_JOBS (a submit waits on a job just announced, never an old one). */
  private witness (jobs: string[]): void {
    for (const id of jobs) {
      const n = this.witnesses.get(id) ?? 0
      this.witnesses.delete(id)
      this.witnesses.set(id, n + 1)
    }
    for (const id of this.witnesses.keys()) {
      if (this.witnesses.size <= MAX_WITNESSED_JOBS) break
      this.witnesses.delete(id)
    }
  }
}
