/**
 * scheduler/rank-table: how this peer ranks a job's tasks among the live
 * peers. For every task: its rendezvous rank (how many live peers outscore
 * this one, which orders stealing), its score, and whether this peer is the
 * task's designated peer (the first by rendezvous hash among the peers
 * expected to hold the task's input, where the data layer placed it), so
 * every peer with the same view of the swarm picks the same one.
 *
 * A table is built once per job and view of the live peers, from per-job
 * keys and hashes made once per job: a round reads it, never recomputes it.
 * Never decides anything: the claim rules read the table.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { blockKadId, closestIndexes, peerKadId } from '../data/index.ts'
import { keyHash, peerHash, scoreOf, shardCid, taskCount, taskShards, type JobDocument } from '../jobs/index.ts'
import { rankAmong } from './choose.ts'
import { MAX_CACHED_KAD_IDS, MAX_STORED_RANK } from './constants.ts'

/** A job's tasks as this peer ranks them, for one view of the live peers. */
export interface RankTable {
  /** The live peers the table was built for (compared by identity: the job layer keeps the array until membership changes). */
  live: readonly string[]
  /** Each task's input shard's Kademlia key. */
  keys: Uint8Array[]
  /** Each task's rendezvous hash (`keyHash` of `job/index`). */
  hashes: Uint32Array[]
  /** How many live peers outscore this peer, per task (0: this peer ranks first). */
  ranks: Uint16Array
  /** 1 where this peer is the task's designated peer. */
  designated: Uint8Array
  /** This peer's rendezvous score, per task. */
  scores: Float64Array
}

/**
 * The rank table of job `job` (document `doc`) for peer `me` among `live`
 * (the other live peers), where each block is held by the `replicas` peers
 * closest to it. `kadIdOf` gives a peer's Kademlia id; `previous`, a table of
 * the same job for another view, lends its keys and hashes, which do not
 * depend on the peers.
 */
export function buildRankTable (job: string, doc: JobDocument, me: string, live: readonly string[], replicas: number, kadIdOf: (peer: string) => Uint8Array, previous?: RankTable): RankTable {
  const n = taskCount(doc)
  // a task is placed by its first shard: its holders read the rest from their neighbours
  const keys = previous?.keys ?? Array.from({ length: n }, (_, i) => blockKadId(shardCid(doc, taskShards(doc, i).first)))
  const hashes = previous?.hashes ?? Array.from({ length: n }, (_, i) => keyHash(`${job}/${i}`))
  const peers = [me, ...live]
  const ids = peers.map(kadIdOf)
  const peerHashes = peers.map(p => peerHash(p))
  const ranks = new Uint16Array(n)
  const designated = new Uint8Array(n)
  const scores = new Float64Array(n)
  const holderCount = Math.max(1, replicas)
  const mine = peerHashes[0]
  const others = peerHashes.slice(1)
  for (let i = 0; i < n; i++) {
    const h = hashes[i]
    ranks[i] = Math.min(MAX_STORED_RANK, rankAmong(mine, others, h))
    scores[i] = scoreOf(h, mine)
    // peers[0] is this peer: designated when it is a holder and no other holder scores higher
    const holders = closestIndexes(keys[i], ids, holderCount)
    if (holders.includes(0) && rankAmong(mine, holders.filter(k => k !== 0).map(k => peerHashes[k]), h) === 0) designated[i] = 1
  }
  return { live, keys, hashes, ranks, designated, scores }
}

/** This peer's rank tables, one per job, each rebuilt when the view of the live peers changes. */
export class RankTables {
  private readonly me: string
  private readonly replicas: number
  private readonly tables = new Map<string, RankTable>()
  /** Kademlia ids of peers, by peer id string. */
  private readonly kadIds = new Map<string, Uint8Array>()
  private readonly kadIdOf = (peer: string): Uint8Array => {
    let id = this.kadIds.get(peer)
    if (id == null) {
      id = peerKadId(peerIdFromString(peer))
      if (this.kadIds.size > MAX_CACHED_KAD_IDS) this.kadIds.clear()
      this.kadIds.set(peer, id)
    }
    return id
  }

  /** `me`: this peer's id; `replicas`: the peers the data layer places each block on. */
  constructor (me: string, replicas: number) {
    this.me = me
    this.replicas = replicas
  }

  /** The table of job `job` (document `doc`) for the live peers `live`: the same table while `live` is the same array. */
  of (job: string, doc: JobDocument, live: readonly string[]): RankTable {
    const cached = this.tables.get(job)
    if (cached != null && cached.live === live) return cached
    const table = buildRankTable(job, doc, this.me, live, this.replicas, this.kadIdOf, cached)
    this.tables.set(job, table)
    return table
  }

  /** Drops the table of a job that is never scanned again. */
  forget (job: string): void {
    this.tables.delete(job)
  }
}
