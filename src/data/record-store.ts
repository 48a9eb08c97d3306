/**
 * data/record-store: every root and release record this peer knows, and what
 * they say — whether a put (and so each block pushed under it) is live,
 * released or unknown, and whether a root was removed. Records are kept in
 * the datastore (one key per record, under its bucket) and indexed in memory;
 * each bucket's digest lets two peers find the records one lacks.
 *
 * Owns the liveness rule and the record bound (MAX_DATA_RECORDS). Never
 * verifies a signature (callers do, once, in `openRecord`) and never talks to
 * the network.
 */
import { Key, type Datastore } from 'interface-datastore'
import type { Logger } from '@libp2p/interface'
import { MAX_DATA_RECORDS, RECORD_BUCKETS } from './constants.ts'
import { openRecord, type SignedRecord } from './records.ts'

const RECORD_PREFIX = '/edgeswarm/data/records'
/** Bytes of each record's hash XORed into its bucket's digest. */
const DIGEST_BYTES = 8

/** What this peer knows of a put, or of a root: live (some record of it is not released), released (every one is), or unknown (no record yet). */
export type Liveness = 'live' | 'released' | 'unknown'

/** One author's root record: its put `put` made `root` at `at`. */
export interface RootClaim {
  put: string
  root: string
  author: string
  at: number
  id: string
}

/** One value, or several: most puts have one root record and most roots one put, and a lone value costs no array or set. */
type OneOrMore<T> = T | T[]

function listOf<T> (value: OneOrMore<T> | undefined): readonly T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value]
}

function withAdded<T> (value: OneOrMore<T> | undefined, item: T): OneOrMore<T> {
  if (value === undefined) return item
  if (Array.isArray(value)) { value.push(item); return value }
  return [value, item]
}

function bucketOf (id: string): number {
  return Buffer.from(id, 'base64url')[0] % RECORD_BUCKETS
}

function keyOf (id: string): Key {
  return new Key(`${RECORD_PREFIX}/${bucketOf(id).toString(16).padStart(2, '0')}/${id}`)
}

export interface RecordStoreInit {
  datastore: Datastore
  log: Logger
  /** Called with the root when a release record is accepted. */
  onRelease?: (root: string) => void
  /** @default MAX_DATA_RECORDS */
  maxRecords?: number
}

export class RecordStore {
  private readonly datastore: Datastore
  private readonly log: Logger
  private readonly onRelease: (root: string) => void
  private readonly maxRecords: number
  /** Ids of the records held. */
  private readonly ids = new Set<string>()
  /** Root records by put id (one normally; more only if another author reused the id). */
  private readonly claims = new Map<string, OneOrMore<RootClaim>>()
  /** Put ids by root, each once. */
  private readonly putsOfRoot = new Map<string, OneOrMore<string>>()
  /** One string per author: every record of an author shares it instead of holding its own copy. */
  private readonly authors = new Map<string, string>()
  /** The latest release of each root by each author: its time and record id. */
  private readonly releases = new Map<string, Map<string, { at: number, id: string }>>()
  private readonly digests = new Uint8Array(RECORD_BUCKETS * DIGEST_BYTES)

  constructor (init: RecordStoreInit) {
    this.datastore = init.datastore
    this.log = init.log
    this.onRelease = init.onRelease ?? (() => {})
    this.maxRecords = init.maxRecords ?? MAX_DATA_RECORDS
  }

  /** Reads the records persisted here back into the index. */
  async load (): Promise<void> {
    for await (const { value } of this.datastore.query({ prefix: RECORD_PREFIX })) {
      try {
        this.index(await openRecord(value, Infinity, { verified: true }))
      } catch {
        // a damaged entry: dropped; a peer that holds the record sends it again
      }
    }
  }

  /** Records held. */
  get size (): number {
    return this.ids.size
  }

  has (id: string): boolean {
    return this.ids.has(id)
  }

  /** Applies and persists a verified record; false when it was known, or refused because the store is full of live roots. */
  async accept (sr: SignedRecord): Promise<boolean> {
    if (this.ids.has(sr.id)) return false
    if (this.ids.size >= this.maxRecords && !this.forgetReleased()) {
      this.log.error('record store full (%d records, all of live roots): record %s refused', this.ids.size, sr.id)
      return false
    }
    this.index(sr)
    try {
      await this.datastore.put(keyOf(sr.id), sr.envelope)
    } catch (err) {
      // kept in memory; a peer sends it again after a restart
      this.log('persisting record %s failed - %e', sr.id, err)
    }
    if (sr.record.t === 'release') this.onRelease(sr.record.root)
    return true
  }

  private index (sr: SignedRecord): void {
    if (this.ids.has(sr.id)) return
    this.ids.add(sr.id)
    this.flip(sr.id)
    const r = sr.record
    const author = this.author(sr.from)
    if (r.t === 'root') {
      this.claims.set(r.put, withAdded(this.claims.get(r.put), { put: r.put, root: r.root, author, at: r.at, id: sr.id }))
      const puts = this.putsOfRoot.get(r.root)
      if (!listOf(puts).includes(r.put)) this.putsOfRoot.set(r.root, withAdded(puts, r.put))
    } else {
      const byAuthor = this.releases.get(r.root) ?? new Map<string, { at: number, id: string }>()
      const old = byAuthor.get(author)
      // only the latest release of an author counts: an older one is kept (peers hold the same set) but changes nothing
      if (old == null || old.at < r.at) byAuthor.set(author, { at: r.at, id: sr.id })
      this.releases.set(r.root, byAuthor)
    }
  }

  /** The one string kept for `from`. */
  private author (from: string): string {
    const known = this.authors.get(from)
    if (known !== undefined) return known
    this.authors.set(from, from)
    return from
  }

  /** Adds or removes a record id from its bucket's digest (XOR is its own inverse). */
  private flip (id: string): void {
    const hash = Buffer.from(id, 'base64url')
    const at = (hash[0] % RECORD_BUCKETS) * DIGEST_BYTES
    for (let i = 0; i < DIGEST_BYTES; i++) this.digests[at + i] ^= hash[i]
  }

  private released (claim: RootClaim): boolean {
    const release = this.releases.get(claim.root)?.get(claim.author)
    return release != null && release.at >= claim.at
  }

  /** Whether put `put` is live: some root record of it has no later release by its author. */
  putState (put: string): Liveness {
    const claims = this.claims.get(put)
    if (claims == null) return 'unknown'
    return listOf(claims).some(c => !this.released(c)) ? 'live' : 'released'
  }

  /**
   * What the puts a block is part of say of it together: live when any is,
   * unknown when none is live and some has no record yet (a put still running,
   * or interrupted), released when every one was released.
   */
  blockState (puts: readonly string[]): Liveness {
    let unknown = puts.length === 0
    for (const put of puts) {
      const state = this.putState(put)
      if (state === 'live') return 'live'
      if (state === 'unknown') unknown = true
    }
    return unknown ? 'unknown' : 'released'
  }

  /** Whether a root is live (a put of it is), released (it was put and every put of it released), or unknown here. */
  rootState (root: string): Liveness {
    const puts = this.putsOfRoot.get(root)
    if (puts != null) {
      for (const put of listOf(puts)) if (this.putState(put) === 'live') return 'live'
      return 'released'
    }
    return this.releases.has(root) ? 'released' : 'unknown'
  }

  /** The root records of a put (its root and putter). */
  claimsOf (put: string): readonly RootClaim[] {
    return listOf(this.claims.get(put))
  }

  /** The latest time `author` stamped a root record of `root`, if any: a release must come after it. */
  latestClaimAt (root: string, author: string): number | undefined {
    let latest: number | undefined
    for (const put of listOf(this.putsOfRoot.get(root))) {
      for (const c of listOf(this.claims.get(put))) if (c.author === author && (latest == null || c.at > latest)) latest = c.at
    }
    return latest
  }

  /** A copy of the bucket digests: RECORD_BUCKETS × 8 bytes. */
  digest (): Uint8Array {
    return this.digests.slice()
  }

  /** Indexes of the buckets whose digest differs from `other`'s. */
  differingBuckets (other: Uint8Array): number[] {
    const out: number[] = []
    for (let b = 0; b < RECORD_BUCKETS; b++) {
      for (let i = 0; i < DIGEST_BYTES; i++) {
        if (this.digests[b * DIGEST_BYTES + i] !== other[b * DIGEST_BYTES + i]) { out.push(b); break }
      }
    }
    return out
  }

  /** The envelopes of every record in `bucket`, read from the datastore. */
  async * bucket (bucket: number, options: { signal?: AbortSignal } = {}): AsyncGenerator<Uint8Array> {
    const prefix = `${RECORD_PREFIX}/${bucket.toString(16).padStart(2, '0')}`
    for await (const { value } of this.datastore.query({ prefix }, options)) yield value
  }

  /**
   * Forgets the oldest released roots (each author's root records of it and
   * its release) until a tenth of the bound is free; false when none is
   * released. A peer away while they were forgotten may bring a forgotten
   * root's record back, which then lives again: the price of the bound.
   */
  private forgetReleased (): boolean {
    const released: Array<{ root: string, author: string, at: number, id: string }> = []
    for (const [root, byAuthor] of this.releases) {
      for (const [author, rel] of byAuthor) released.push({ root, author, at: rel.at, id: rel.id })
    }
    if (released.length === 0) return false
    released.sort((a, b) => a.at - b.at)
    const target = Math.floor(this.maxRecords * 0.9)
    for (const rel of released) {
      if (this.ids.size <= target) break
      const forget: string[] = [rel.id]
      const keptPuts: string[] = []
      for (const put of listOf(this.putsOfRoot.get(rel.root))) {
        const claims = listOf(this.claims.get(put))
        const kept = claims.filter(c => c.author !== rel.author || c.at > rel.at)
        for (const c of claims) if (!kept.includes(c)) forget.push(c.id)
        if (kept.length > 0) {
          this.claims.set(put, kept.length === 1 ? kept[0] : kept)
          keptPuts.push(put)
        } else {
          this.claims.delete(put)
        }
      }
      if (keptPuts.length > 0) this.putsOfRoot.set(rel.root, keptPuts.length === 1 ? keptPuts[0] : keptPuts)
      else this.putsOfRoot.delete(rel.root)
      const byAuthor = this.releases.get(rel.root)
      byAuthor?.delete(rel.author)
      if (byAuthor?.size === 0) this.releases.delete(rel.root)
      for (const id of forget) {
        if (!this.ids.delete(id)) continue
        this.flip(id)
        Promise.resolve(this.datastore.delete(keyOf(id))).catch(() => {})
      }
    }
    return this.ids.size < this.maxRecords
  }
}
