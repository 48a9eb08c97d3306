/**
 * jobs/fact-log: the job facts a peer keeps on disk, and the tombstones of
 * the jobs it collected, in its datastore:
 * - `/edgeswarm/job-facts/<job>/<fact id>`: a fact's envelope as received, so
 *   a job's facts are read back by prefix and every job's come grouped;
 * - `/edgeswarm/job-tombstones/<job>`: when the job was collected (ms, decimal).
 *
 * Facts are queued and written in batches (see `append`); `drop` never lets a
 * write under way bring a dropped job's facts back. Never decodes a fact and
 * never decides what to keep (fact-store.ts does).
 */
import { Key, type Datastore } from 'interface-datastore'
import type { Logger } from '@libp2p/interface'
import { FACT_PERSIST_BATCH, FACT_PERSIST_DELAY_MS } from './constants.ts'

const FACT_PREFIX = '/edgeswarm/job-facts'
const TOMBSTONE_PREFIX = '/edgeswarm/job-tombstones'

/** A fact queued for the datastore, with its job. */
interface Unwritten { job: string, key: Key, value: Uint8Array }

/** One fact record read back: its job, and its envelope as received. */
export interface FactRecord { job: string, key: string, value: Uint8Array }

export interface FactLogComponents {
  datastore: Datastore
  log: Logger
}

export class FactLog {
  private readonly datastore: Datastore
  private readonly log: Logger
  /** Facts appended but not yet written. */
  private readonly unwritten: Unwritten[] = []
  /** Every write begun so far, settled together. */
  private writing: Promise<void> = Promise.resolve()
  private timer?: ReturnType<typeof setTimeout>

  constructor (components: FactLogComponents) {
    this.datastore = components.datastore
    this.log = components.log
  }

  /**
   * Queues a fact for the datastore: a batch is written when it holds
   * FACT_PERSIST_BATCH facts or FACT_PERSIST_DELAY_MS after its first, since
   * a write per fact costs a busy peer more than the fact. Facts a crash loses
   * are pulled back from other peers by sync.
   */
  append (job: string, factId: string, envelope: Uint8Array): void {
    this.unwritten.push({ job, key: new Key(`${FACT_PREFIX}/${job}/${factId}`), value: envelope })
    if (this.unwritten.length >= FACT_PERSIST_BATCH) { void this.write(); return }
    if (this.timer == null) {
      this.timer = setTimeout(() => { void this.write() }, FACT_PERSIST_DELAY_MS)
      this.timer.unref?.()
    }
  }

  /** The jobs with facts queued and not yet written. */
  queuedJobs (): Set<string> {
    return new Set(this.unwritten.map(u => u.job))
  }

  /** Writes the facts queued now, after every write begun before. */
  async write (): Promise<void> {
    clearTimeout(this.timer)
    this.timer = undefined
    if (this.unwritten.length === 0) return await this.writing
    const writes = this.unwritten.splice(0)
    const batch = this.datastore.batch()
    for (const { key, value } of writes) batch.put(key, value)
    const written = Promise.resolve(batch.commit()).catch((err: unknown) => { this.log('writing %d facts failed: %e', writes.length, err) })
    this.writing = Promise.all([this.writing, written]).then(() => {})
    await this.writing
  }

  /** Every fact record, grouped by job (the datastore's key order). */
  async * all (): AsyncGenerator<FactRecord> {
    for await (const { key, value } of this.datastore.query({ prefix: FACT_PREFIX })) {
      yield { job: key.parent().baseNamespace(), key: key.toString(), value }
    }
  }

  /** The fact records of job `id`. */
  async * of (id: string): AsyncGenerator<FactRecord> {
    for await (const { key, value } of this.datastore.query({ prefix: `${FACT_PREFIX}/${id}/` })) {
      yield { job: id, key: key.toString(), value }
    }
  }

  /** Deletes job `id`'s facts (queued ones too, and those a write under way holds) and records its tombstone at `at`. */
  async drop (id: string, at: number): Promise<void> {
    for (let i = this.unwritten.length - 1; i >= 0; i--) if (this.unwritten[i].job === id) this.unwritten.splice(i, 1)
    // a write under way may hold facts of the job: they are deleted after it
    await this.writing
    const batch = this.datastore.batch()
    for await (const key of this.datastore.queryKeys({ prefix: `${FACT_PREFIX}/${id}/` })) batch.delete(key)
    batch.put(new Key(`${TOMBSTONE_PREFIX}/${id}`), new TextEncoder().encode(String(at)))
    await Promise.resolve(batch.commit()).catch((err: unknown) => { this.log('dropping the facts of job %s failed: %e', id, err) })
  }

  /** Every tombstone: the job and when it was collected, oldest first. */
  async tombstones (): Promise<Array<[string, number]>> {
    const out: Array<[string, number]> = []
    for await (const { key, value } of this.datastore.query({ prefix: TOMBSTONE_PREFIX })) {
      const at = Number(new TextDecoder().decode(value))
      if (Number.isFinite(at)) out.push([key.baseNamespace(), at])
    }
    return out.sort((a, b) => a[1] - b[1])
  }

  /** Deletes job `id`'s tombstone, in the background. */
  dropTombstone (id: string): void {
    void Promise.resolve(this.datastore.delete(new Key(`${TOMBSTONE_PREFIX}/${id}`))).catch(() => {})
  }
}
