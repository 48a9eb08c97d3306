/**
 * data/shard-client: the asking side of the shard protocol — one request to
 * one peer on a fresh stream, ended by REQUEST_TIMEOUT_MS, with the block
 * bytes it moves counted in the service's metrics.
 *
 * Never retries, never chooses peers and never trusts the bytes it returns:
 * callers check them against the CID.
 */
import type { PeerId } from '@libp2p/interface'
import { anySignal, deadline, raceAbort } from '../async/index.ts'
import { REQUEST_TIMEOUT_MS, SHARD_PROTOCOL } from './constants.ts'
import { requestShard, type ShardReply, type ShardRequest } from './protocol.ts'
import type { DataMetrics, DataServiceComponents } from './types.ts'

export type ShardClientComponents = Pick<DataServiceComponents, 'libp2p'>

export class ShardClient {
  private readonly components: ShardClientComponents
  private readonly metrics: DataMetrics

  constructor (components: ShardClientComponents, metrics: DataMetrics) {
    this.components = components
    this.metrics = metrics
  }

  /**
   * Sends `req` (and `body`, a put's block) to `peer` and reads the answer.
   * Throws on transport errors, malformed answers and the time limit; an
   * `{ ok: false }` answer is returned, not thrown.
   */
  async request (peer: PeerId, req: ShardRequest, body: Uint8Array | undefined, signal: AbortSignal): Promise<ShardReply> {
    const limit = deadline(REQUEST_TIMEOUT_MS)
    const s = anySignal(signal, limit.signal)
    try {
      s.throwIfAborted()
      // bounded by its time limit even if a dial or stream under it does not stop when aborted
      return await raceAbort((async () => {
        const stream = await this.components.libp2p.dialProtocol(peer, SHARD_PROTOCOL, { signal: s })
        const reply = await requestShard(stream, req, body, s)
        if (body != null && reply.response.ok) this.metrics.bytesSent += body.byteLength
        if (reply.bytes != null) this.metrics.bytesReceived += reply.bytes.byteLength
        return reply
      })(), s)
    } finally {
      limit.clear()
      s.clear()
    }
  }
}
