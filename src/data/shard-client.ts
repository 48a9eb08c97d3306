/**
 * data/shard-client: the requesting end of the shard protocol, with streams
 * kept open between requests. A request to a peer takes one of that peer's
 * idle shard streams when there is one (else opens a new one), and puts it
 * back after a clean answer; a stream idle for SHARD_STREAM_IDLE_MS is
 * closed, and at most MAX_IDLE_SHARD_STREAMS_PER_PEER wait per peer.
 *
 * A stream opened per request cost its SYN and ACK, a protocol negotiation
 * and a close each way: in the benchmark's job of 2,000 tiny tasks, eight
 * frames per fetched shard, most of the frames of the job.
 *
 * Owns the idle streams and their lifetimes, nothing else: what to ask and
 * whom is the DataService's, the wire format is `protocol.ts`'s. A stream is
 * used by one request at a time, and one whose exchange failed is reset,
 * never reused; a request that fails on a stream that was idle (the peer may
 * have closed it meanwhile) is tried once more on a new stream.
 */
import type { PeerId, Stream } from '@libp2p/interface'
import { lpStream, type LengthPrefixedStream } from '@libp2p/utils'
import { MAX_IDLE_SHARD_STREAMS_PER_PEER, MAX_MESSAGE_SIZE, SHARD_STREAM_IDLE_MS } from './constants.ts'
import { exchangeShard, type ShardReply, type ShardRequest } from './protocol.ts'

/** Opens a new shard-protocol stream to `peer`. */
export type OpenShardStream = (peer: PeerId, signal: AbortSignal) => Promise<Stream>

interface Channel {
  stream: Stream
  lp: LengthPrefixedStream<Stream>
  /** When its last request ended (while idle). */
  idleSince: number
}

export interface ShardClientInit {
  open: OpenShardStream
  /** @default SHARD_STREAM_IDLE_MS */
  idleMs?: number
  /** @default MAX_IDLE_SHARD_STREAMS_PER_PEER */
  maxIdlePerPeer?: number
  /** Counters to add to (the data service's); the client's own when absent. */
  metrics?: ShardClientMetrics
}

export interface ShardClientMetrics {
  /** Streams opened. */
  streamsOpened: number
  /** Requests sent on a stream opened for an earlier one. */
  streamsReused: number
}

export class ShardClient {
  readonly #open: OpenShardStream
  readonly #idleMs: number
  readonly #maxIdlePerPeer: number
  /** Idle streams by peer, the most recently used last. */
  readonly #idle = new Map<string, Channel[]>()
  #sweeper?: ReturnType<typeof setInterval>
  #closed = false
  readonly metrics: ShardClientMetrics

  constructor (init: ShardClientInit) {
    this.#open = init.open
    this.#idleMs = init.idleMs ?? SHARD_STREAM_IDLE_MS
    this.#maxIdlePerPeer = init.maxIdlePerPeer ?? MAX_IDLE_SHARD_STREAMS_PER_PEER
    this.metrics = init.metrics ?? { streamsOpened: 0, streamsReused: 0 }
  }

  /** Idle streams held now. */
  get idle (): number {
    let n = 0
    for (const list of this.#idle.values()) n += list.length
    return n
  }

  /** One request and its answer; throws on transport errors and malformed answers, as `exchangeShard` does. */
  async request (peer: PeerId, req: ShardRequest, body: Uint8Array | undefined, signal: AbortSignal): Promise<ShardReply> {
    const reused = this.#take(peer.toString())
    if (reused != null) {
      try {
        const reply = await exchangeShard(reused.lp, req, body, signal)
        this.metrics.streamsReused++
        this.#release(peer.toString(), reused, reply)
        return reply
      } catch (err) {
        reused.stream.abort(err instanceof Error ? err : new Error(String(err)))
        // the peer may have closed the stream while it was idle: once more on a new one
        signal.throwIfAborted()
      }
    }
    const stream = await this.#open(peer, signal)
    this.metrics.streamsOpened++
    const channel: Channel = { stream, lp: lpStream(stream, { maxDataLength: MAX_MESSAGE_SIZE }), idleSince: 0 }
    try {
      const reply = await exchangeShard(channel.lp, req, body, signal)
      this.#release(peer.toString(), channel, reply)
      return reply
    } catch (err) {
      stream.abort(err instanceof Error ? err : new Error(String(err)))
      throw err
    }
  }

  /** Closes every idle stream; later requests still work (each on a stream of its own, closed after it). */
  close (): void {
    this.#closed = true
    clearInterval(this.#sweeper)
    this.#sweeper = undefined
    for (const list of this.#idle.values()) for (const c of list) this.#end(c)
    this.#idle.clear()
  }

  /** An idle stream to `peer` still open both ways, or undefined. */
  #take (peer: string): Channel | undefined {
    const list = this.#idle.get(peer)
    while (list != null && list.length > 0) {
      const c = list.pop() as Channel
      if (list.length === 0) this.#idle.delete(peer)
      if (usable(c.stream)) return c
      c.stream.abort(new Error('shard stream closed while idle'))
    }
    return undefined
  }

  /** Keeps a stream after a clean answer (the server ends the stream after a refusal), else closes it. */
  #release (peer: string, c: Channel, reply: ShardReply): void {
    const list = this.#idle.get(peer) ?? []
    const reusable = reply.response.ok || reply.response.code === 'not-found'
    if (this.#closed || !reusable || !usable(c.stream) || list.length >= this.#maxIdlePerPeer) {
      this.#end(c)
      return
    }
    c.idleSince = Date.now()
    list.push(c)
    this.#idle.set(peer, list)
    if (this.#sweeper == null) {
      this.#sweeper = setInterval(() => { this.#sweep() }, Math.max(100, Math.round(this.#idleMs / 2)))
      this.#sweeper.unref()
    }
  }

  #sweep (): void {
    const before = Date.now() - this.#idleMs
    for (const [peer, list] of this.#idle) {
      const keep = list.filter(c => c.idleSince > before && usable(c.stream))
      for (const c of list) if (!keep.includes(c)) this.#end(c)
      if (keep.length > 0) this.#idle.set(peer, keep)
      else this.#idle.delete(peer)
    }
    if (this.#idle.size === 0) {
      clearInterval(this.#sweeper)
      this.#sweeper = undefined
    }
  }

  /** Closes our side (the server then ends its side); a stream that does not close in time is reset. */
  #end (c: Channel): void {
    if (!usable(c.stream)) {
      c.stream.abort(new Error('shard stream ended'))
      return
    }
    c.stream.close({ signal: AbortSignal.timeout(this.#idleMs) }).catch((err: unknown) => {
      c.stream.abort(err instanceof Error ? err : new Error(String(err)))
    })
  }
}

/** Open both ways, with nothing unread: ready for the next request. */
function usable (s: Stream): boolean {
  return s.status === 'open' && s.writeStatus === 'writable' && s.remoteWriteStatus === 'writable' && s.readBufferLength === 0
}
