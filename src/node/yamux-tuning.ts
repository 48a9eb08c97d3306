/**
 * yamux as edgeswarm runs it: @libp2p/yamux with two adjustments, both
 * invisible on the wire (peers running any yamux interoperate).
 *
 * 1. Window updates at half a window, as go-yamux and rust-yamux send them,
 *    instead of after every data frame. @libp2p/yamux 8 answers every data
 *    frame a stream receives with a window update frame, however little of
 *    the window it used. On a gossipsub stream carrying small messages that
 *    is one extra frame per message, each a Noise encryption, a socket write
 *    and a wake-up of the other peer: in the 8-peer 50 ms-task benchmark
 *    window updates were 40% of all frames sent during a job. Here a stream
 *    grants more credit once half of its receive window is used (or at once
 *    when the update carries a flag: SYN, ACK); the sender is never blocked
 *    while it has half a window left.
 * 2. Frames sent in one turn of the event loop go out together: a muxer
 *    collects the frames its streams send and hands them to the encrypted
 *    connection once, after the turn's I/O (setImmediate), or at once when
 *    SEND_BATCH_MAX_BYTES are waiting. Each hand-over is a Noise message and
 *    two socket writes; in the benchmark's job of 2,000 tiny tasks a host
 *    sent ~3 frames per connection per turn, each on its own.
 *
 * Owns those two changes, on the streams and muxers of edgeswarm's own
 * connections only (nothing global is patched). Never changes anything else
 * of yamux: a stream or muxer that does not look as expected (another yamux
 * version) keeps the library's behaviour.
 */
import { yamux, type YamuxMuxerInit } from '@libp2p/yamux'
import { AbstractStreamMuxer, isPromise } from '@libp2p/utils'
import { Uint8ArrayList } from 'uint8arraylist'
import type { StreamMuxerFactory } from '@libp2p/interface'

/** yamux frame type of a window update (the specification's 0x1). */
const WINDOW_UPDATE = 1
/** yamux stream state in which the reader paused the stream (no credit is granted). */
const PAUSED = 5

/** What the half-window update reads and writes of a yamux stream (private in its types). */
interface WindowedStream {
  state: number
  streamId: number
  recvWindow: number
  recvWindowCapacity: number
  maxStreamWindowSize: number
  epochStart: number
  getRTT: () => number
  getSendFlags: () => number
  sendFrame: (header: { type: number, flag: number, streamID: number, length: number }) => boolean
  sendWindowUpdate: () => void
}

function isWindowed (stream: unknown): stream is WindowedStream {
  const s = stream as Partial<Record<keyof WindowedStream, unknown>>
  return typeof s.state === 'number' && typeof s.streamId === 'number' &&
    typeof s.recvWindow === 'number' && typeof s.recvWindowCapacity === 'number' &&
    typeof s.maxStreamWindowSize === 'number' && typeof s.epochStart === 'number' &&
    typeof s.getRTT === 'function' && typeof s.getSendFlags === 'function' &&
    typeof s.sendFrame === 'function' && typeof s.sendWindowUpdate === 'function'
}

/**
 * @libp2p/yamux's own update, except that without a flag to carry it waits
 * until half the receive window is used; the window still grows (doubles, up
 * to its maximum) when an update falls due within four round trips of the
 * previous one, as a fast reader's would.
 */
function sendWindowUpdateAtHalf (this: WindowedStream): void {
  if (this.state === PAUSED) {
    // no credit while the reader is paused; the window's clock restarts with it
    this.epochStart = Date.now()
    return
  }
  // may change the stream's state (SYN/ACK sent): called exactly once, as yamux does
  const flags = this.getSendFlags()
  if (flags === 0 && this.recvWindow - this.recvWindowCapacity < this.recvWindow / 2) return
  const now = Date.now()
  const rtt = this.getRTT()
  if (flags === 0 && rtt > -1 && now - this.epochStart <= rtt * 4) {
    this.recvWindow = Math.min(this.recvWindow * 2, this.maxStreamWindowSize)
  }
  const delta = this.recvWindow - this.recvWindowCapacity
  this.recvWindowCapacity = this.recvWindow
  this.epochStart = now
  this.sendFrame({ type: WINDOW_UPDATE, flag: flags, streamID: this.streamId, length: delta })
}

/** Gives one stream the half-window update (a no-op for a stream of another shape). */
function halfWindowUpdates (stream: unknown): void {
  if (isWindowed(stream)) stream.sendWindowUpdate = sendWindowUpdateAtHalf
}

/** Bytes of frames a muxer holds back at most before handing them to the connection (one full Noise message). */
export const SEND_BATCH_MAX_BYTES = 65_519

/** What batching reads of a muxer's connection (its write state; private in its types). */
interface Drainable { writableNeedsDrain?: boolean }

/**
 * Makes `muxer` hand the frames sent in one event-loop turn to its connection
 * together. A send is accepted (true) while the connection can take more; once
 * it cannot, false, and the library's own signalling pauses the streams until
 * the connection drains. A close of the muxer sends what is waiting first.
 */
function batchSends (muxer: AbstractStreamMuxer): void {
  const send = muxer.send.bind(muxer)
  const conn = (muxer as unknown as { maConn: Drainable }).maConn
  let pending: Uint8ArrayList | undefined
  let scheduled = false
  const flush = (): boolean => {
    scheduled = false
    const data = pending
    pending = undefined
    if (data == null || data.byteLength === 0) return true
    try {
      return send(data)
    } catch (err) {
      // the connection closed under the frames: the muxer goes with it, as on a failed direct send
      muxer.abort(err instanceof Error ? err : new Error(String(err)))
      return false
    }
  }
  muxer.send = (data) => {
    pending ??= new Uint8ArrayList()
    pending.append(data)
    if (pending.byteLength >= SEND_BATCH_MAX_BYTES) return flush()
    if (!scheduled) {
      scheduled = true
      setImmediate(flush)
    }
    // false only while the connection is full: its drain event resumes the streams
    return conn.writableNeedsDrain !== true
  }
  const close = muxer.close.bind(muxer)
  muxer.close = async (options) => {
    await close(options)
    // the streams' closing frames, before the connection under them closes
    flush()
  }
}

/** `yamux(init)` whose every stream sends window updates at half a window, and whose muxers batch the frames of a turn. */
export function tunedYamux (init?: YamuxMuxerInit): () => StreamMuxerFactory {
  const make = yamux(init)
  return () => {
    // the library's factory itself (its protocol and capabilities stay as they are), each muxer it makes adjusted
    const factory: StreamMuxerFactory = make()
    const createStreamMuxer = factory.createStreamMuxer.bind(factory)
    factory.createStreamMuxer = (maConn) => {
      const muxer = createStreamMuxer(maConn)
      if (!(muxer instanceof AbstractStreamMuxer)) return muxer
      batchSends(muxer)
      // the two places every stream passes as it is made, before it sends its first frame
      // (not the 'stream' event: the first listener of that receives the streams that
      // arrived early, which libp2p's own listener, added later, would then never see)
      const onCreateStream = muxer.onCreateStream.bind(muxer)
      muxer.onCreateStream = (options) => {
        const stream = onCreateStream(options)
        if (isPromise(stream)) return stream.then(s => { halfWindowUpdates(s); return s })
        halfWindowUpdates(stream)
        return stream
      }
      const onRemoteStream = muxer.onRemoteStream.bind(muxer)
      muxer.onRemoteStream = (stream) => {
        halfWindowUpdates(stream)
        onRemoteStream(stream)
      }
      return muxer
    }
    return factory
  }
}
