/**
 * data/record-sync: how root and release records reach every peer — gossip on
 * DATA_TOPIC (the fast path), and reconciliation over RECORD_SYNC_PROTOCOL
 * with each peer that connects and with one random peer every
 * RECORD_SYNC_INTERVAL_MS, so a peer that was away learns the releases it
 * missed; always over a connection already open, never a dial of its own
 * (a peer that went is reconciled with when it connects again). One exchange
 * per stream:
 *
 * 1. requester → the digest of each of its record buckets (RECORD_BUCKETS × 8 bytes);
 * 2. responder → a bitmap of the buckets that differ, then its records of
 *    those buckets (one envelope a frame), then an empty frame;
 * 3. requester → its records of those buckets, then an empty frame.
 *
 * Both sides keep what they lacked. Owns this peer's own records (signed and
 * published here). Never accepts a record it has not verified, never reads a
 * frame past MAX_RECORD_BYTES (the digest excepted) and never runs an
 * exchange past RECORD_SYNC_TIMEOUT_MS.
 */
import { setMaxListeners } from 'node:events'
import { TopicValidatorResult, type GossipSub } from '@libp2p/gossipsub'
import type { Libp2p, Logger, PeerId, PrivateKey, Startable, Stream } from '@libp2p/interface'
import { lpStream, type LengthPrefixedStream } from '@libp2p/utils'
import { anySignal, deadline } from '../async/index.ts'
import { connectedPeers } from '../node/index.ts'
import {
  DATA_TOPIC, MAX_RECORD_BYTES, RECORD_BUCKETS, RECORD_SYNC_INTERVAL_MS, RECORD_SYNC_PROTOCOL, RECORD_SYNC_TIMEOUT_MS,
  RECORDS_READY_TIMEOUT_MS
} from './constants.ts'
import { InvalidRecordError } from './errors.ts'
import { openRecord, recordId, signRecord, type DataRecord, type SignedRecord } from './records.ts'
import type { RecordStore } from './record-store.ts'

/** What record sync uses of gossipsub. */
export type RecordPubSub = Pick<GossipSub, 'topicValidators' | 'subscribe' | 'unsubscribe' | 'publish'>

export interface RecordSyncComponents {
  peerId: PeerId
  /** Signs this peer's own records. */
  privateKey: PrivateKey
  pubsub: RecordPubSub
  libp2p: Pick<Libp2p, 'handle' | 'unhandle' | 'getConnections' | 'addEventListener' | 'removeEventListener'>
  store: RecordStore
  log: Logger
}

export interface RecordSyncInit {
  /** @default RECORD_SYNC_INTERVAL_MS */
  intervalMs?: number
}

/** The digest frame: RECORD_BUCKETS digests of 8 bytes. */
const DIGEST_FRAME_BYTES = RECORD_BUCKETS * 8

/** A peer connecting is reconciled with after this (ms), once identify and the other protocols have settled. */
const SYNC_ON_CONNECT_DELAY_MS = 500

export class RecordSync implements Startable {
  private readonly components: RecordSyncComponents
  private readonly log: Logger
  private readonly intervalMs: number
  private running = false
  private timer?: ReturnType<typeof setInterval>
  private shutdown = new AbortController()
  /** Exchanges in flight, by peer: one at a time with each. */
  private readonly syncing = new Map<string, Promise<boolean>>()
  private ready = readiness()
  private readyTimer?: ReturnType<typeof setTimeout>
  private readonly onConnect = (evt: CustomEvent<PeerId>): void => {
    const peer = evt.detail
    setTimeout(() => { void this.syncWith(peer) }, SYNC_ON_CONNECT_DELAY_MS).unref()
  }

  constructor (components: RecordSyncComponents, init: RecordSyncInit = {}) {
    this.components = components
    this.log = components.log
    this.intervalMs = init.intervalMs ?? RECORD_SYNC_INTERVAL_MS
  }

  async start (): Promise<void> {
    if (this.running) return
    const { pubsub, libp2p, store } = this.components
    this.running = true
    this.shutdown = new AbortController()
    setMaxListeners(Infinity, this.shutdown.signal)
    this.ready = readiness()
    this.readyTimer = setTimeout(() => { this.ready.resolve() }, RECORDS_READY_TIMEOUT_MS)
    this.readyTimer.unref()
    pubsub.topicValidators.set(DATA_TOPIC, async (_peer, msg) => {
      try {
        if (store.has(recordId(msg.data))) return TopicValidatorResult.Ignore
        await store.accept(await openRecord(msg.data))
        return TopicValidatorResult.Accept
      } catch (err) {
        this.log.trace('rejected a gossiped record: %e', err)
        return TopicValidatorResult.Reject
      }
    })
    pubsub.subscribe(DATA_TOPIC)
    await libp2p.handle(RECORD_SYNC_PROTOCOL, (stream) => { void this.serve(stream) })
    libp2p.addEventListener('peer:connect', this.onConnect)
    this.timer = setInterval(() => {
      const peers = connectedPeers(libp2p)
      if (peers.length > 0) void this.syncWith(peers[Math.floor(Math.random() * peers.length)])
    }, this.intervalMs)
    this.timer.unref()
    // peers already connected (the data service may start after the peer)
    for (const peer of connectedPeers(libp2p)) void this.syncWith(peer)
  }

  async stop (): Promise<void> {
    if (!this.running) return
    const { pubsub, libp2p } = this.components
    this.running = false
    clearInterval(this.timer)
    clearTimeout(this.readyTimer)
    this.ready.resolve()
    this.shutdown.abort(new Error('data service stopped'))
    libp2p.removeEventListener('peer:connect', this.onConnect)
    pubsub.topicValidators.delete(DATA_TOPIC)
    try { pubsub.unsubscribe(DATA_TOPIC) } catch {}
    await libp2p.unhandle(RECORD_SYNC_PROTOCOL).catch(() => {})
  }

  /** Resolves once a first reconciliation completed, or RECORDS_READY_TIMEOUT_MS after start. */
  async whenReady (): Promise<void> {
    await this.ready.promise
  }

  /** Signs, keeps and gossips one of this peer's records. */
  async publish (record: DataRecord): Promise<SignedRecord> {
    const { peerId, privateKey, pubsub, store } = this.components
    const sr = await signRecord(privateKey, peerId.toString(), record)
    await store.accept(sr)
    try {
      await pubsub.publish(DATA_TOPIC, sr.envelope)
    } catch {
      // no subscribed peer right now: reconciliation carries it
    }
    return sr
  }

  /** Reconciles with `peer` (joining an exchange in flight); true when one completed. */
  async syncWith (peer: PeerId): Promise<boolean> {
    if (!this.running) return false
    const key = peer.toString()
    const inflight = this.syncing.get(key)
    if (inflight != null) return await inflight
    const run = this.pull(peer).finally(() => { this.syncing.delete(key) })
    this.syncing.set(key, run)
    return await run
  }

  private async pull (peer: PeerId): Promise<boolean> {
    const limit = deadline(RECORD_SYNC_TIMEOUT_MS)
    const signal = anySignal(limit.signal, this.shutdown.signal)
    let stream: Stream | undefined
    try {
      // over an open connection only: a reconciliation never dials (nor fights the connection trimmer)
      const connection = this.components.libp2p.getConnections(peer).find(c => c.status === 'open')
      if (connection == null) return false
      stream = await connection.newStream(RECORD_SYNC_PROTOCOL, { signal })
      const lp = recordStream(stream)
      await lp.write(this.components.store.digest(), { signal })
      const buckets = decodeBuckets((await lp.read({ signal })).subarray())
      const received = await this.readRecords(lp, signal)
      await this.writeRecords(lp, buckets, signal)
      await stream.close({ signal })
      this.ready.resolve()
      if (received > 0) this.log('learned %d records from %p', received, peer)
      return true
    } catch (err) {
      stream?.abort(err instanceof Error ? err : new Error(String(err)))
      if (!this.shutdown.signal.aborted) this.log('record sync with %p failed - %e', peer, err)
      return false
    } finally {
      limit.clear()
      signal.clear()
    }
  }

  private async serve (stream: Stream): Promise<void> {
    const limit = deadline(RECORD_SYNC_TIMEOUT_MS)
    const signal = anySignal(limit.signal, this.shutdown.signal)
    try {
      const lp = recordStream(stream)
      const theirs = (await lp.read({ signal })).subarray()
      if (theirs.byteLength !== DIGEST_FRAME_BYTES) throw new InvalidRecordError(`digest frame of ${theirs.byteLength} bytes, expected ${DIGEST_FRAME_BYTES}`)
      const buckets = this.components.store.differingBuckets(theirs)
      await lp.write(encodeBuckets(buckets), { signal })
      await this.writeRecords(lp, buckets, signal)
      await this.readRecords(lp, signal)
      await stream.close({ signal })
      this.ready.resolve()
    } catch (err) {
      stream.abort(err instanceof Error ? err : new Error(String(err)))
      if (!this.shutdown.signal.aborted) this.log('serving a record sync failed - %e', err)
    } finally {
      limit.clear()
      signal.clear()
    }
  }

  private async writeRecords (lp: LengthPrefixedStream<Stream>, buckets: number[], signal: AbortSignal): Promise<void> {
    for (const b of buckets) {
      for await (const envelope of this.components.store.bucket(b, { signal })) await lp.write(envelope, { signal })
    }
    await lp.write(new Uint8Array(0), { signal })
  }

  /** Reads records until the empty frame; keeps the valid new ones; how many it kept. */
  private async readRecords (lp: LengthPrefixedStream<Stream>, signal: AbortSignal): Promise<number> {
    const { store } = this.components
    let kept = 0
    for (;;) {
      const frame = (await lp.read({ signal })).subarray()
      if (frame.byteLength === 0) return kept
      if (store.has(recordId(frame))) continue
      try {
        if (await store.accept(await openRecord(frame))) kept++
      } catch (err) {
        if (!(err instanceof InvalidRecordError)) throw err
        this.log('refused a synced record - %s', err.message)
      }
    }
  }
}

/** A promise and its resolve: whether the first reconciliation happened. */
function readiness (): { promise: Promise<void>, resolve: () => void } {
  let resolve = (): void => {}
  const promise = new Promise<void>(r => { resolve = r })
  return { promise, resolve }
}

function recordStream (stream: Stream): LengthPrefixedStream<Stream> {
  return lpStream(stream, { maxDataLength: Math.max(MAX_RECORD_BYTES, DIGEST_FRAME_BYTES) })
}

function encodeBuckets (buckets: number[]): Uint8Array {
  const out = new Uint8Array(RECORD_BUCKETS / 8)
  for (const b of buckets) out[b >> 3] |= 1 << (b & 7)
  return out
}

function decodeBuckets (bytes: Uint8Array): number[] {
  if (bytes.byteLength !== RECORD_BUCKETS / 8) throw new InvalidRecordError(`bucket bitmap of ${bytes.byteLength} bytes`)
  const out: number[] = []
  for (let b = 0; b < RECORD_BUCKETS; b++) if ((bytes[b >> 3] & (1 << (b & 7))) !== 0) out.push(b)
  return out
}
