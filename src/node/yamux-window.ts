/**
 * node/yamux-window: yamux whose streams send window updates at half a
 * window, as go-yamux and rust-yamux do, instead of after every data frame
 * (@libp2p/yamux 8's rule). A stream grants more credit once half of its
 * receive window is used, or at once when the update carries a flag (SYN,
 * ACK); the sender is never blocked while it has half a window left, and the
 * frames on the wire are standard yamux, so peers running any yamux
 * interoperate (docs/decisions/node-yamux-half-window.md).
 *
 * Owns that one change, on the streams of edgeswarm's own muxers only
 * (nothing global is patched). Never changes anything else of yamux: a stream
 * that does not look as expected (another yamux version) keeps the library's
 * behaviour.
 */
import { yamux, type YamuxMuxerInit } from '@libp2p/yamux'
import { AbstractStreamMuxer, isPromise } from '@libp2p/utils'
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

/** `yamux(init)` whose every stream, inbound and outbound, sends window updates at half a window. */
export function yamuxHalfWindow (init?: YamuxMuxerInit): () => StreamMuxerFactory {
  const make = yamux(init)
  return () => {
    // the library's factory itself (its protocol and capabilities stay as they are), each muxer it makes adjusted
    const factory: StreamMuxerFactory = make()
    const createStreamMuxer = factory.createStreamMuxer.bind(factory)
    factory.createStreamMuxer = (maConn) => {
      const muxer = createStreamMuxer(maConn)
      if (!(muxer instanceof AbstractStreamMuxer)) return muxer
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
