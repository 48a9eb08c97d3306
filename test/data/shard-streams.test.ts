/**
 * Shard streams kept open between requests: a peer serves request after
 * request on one stream, a requester reuses its streams to a peer instead of
 * opening one per block, and a stream the other side closed while it was idle
 * costs a new stream, not a failed request.
 */
import { lpStream } from '@libp2p/utils'
import { afterEach, describe, expect, it } from 'vitest'
import { equals } from 'uint8arrays/equals'
import type { CID } from 'multiformats/cid'
import { SHARD_PROTOCOL, MAX_MESSAGE_SIZE, cidOf } from '../../src/data/index.ts'
import { decodeResponse, encodeHeader, serveShardStream, type ShardServer } from '../../src/data/protocol.ts'
import { ShardClient } from '../../src/data/shard-client.ts'
import { collect, random, startSwarm, stopAll, type TestPeer } from './helpers.ts'

const encoder = new TextEncoder()
const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

/** A ShardServer over a map, for serving a test protocol. */
function mapServer (blocks: Map<string, Uint8Array>): ShardServer {
  return {
    has: async (cid: CID) => blocks.has(cid.toString()),
    read: async (cid: CID) => blocks.get(cid.toString()),
    admit: async () => ({ release: () => {} }),
    accept: async (req, bytes) => { blocks.set(req.cid.toString(), bytes.slice()); return { ok: true } }
  }
}

describe('shard streams', () => {
  const peers: TestPeer[] = []
  afterEach(async () => { await stopAll(peers) })

  it('serves requests one after another on one stream, and ends it when the requester closes its side', async () => {
    await startSwarm(2, () => ({ repairIntervalMs: 0 }), peers)
    const [a, b] = peers
    const content = random(3000)
    await b.data.put(content, { replicas: 1 })
    const shard = cidOf(content)
    const stream = await a.node.dialProtocol(b.node.peerId, SHARD_PROTOCOL)
    const lp = lpStream(stream, { maxDataLength: MAX_MESSAGE_SIZE })
    const signal = AbortSignal.timeout(5000)
    const ask = async (req: Parameters<typeof encodeHeader>[0]): Promise<ReturnType<typeof decodeResponse>> => {
      await lp.write(encodeHeader(req), { signal })
      return decodeResponse((await lp.read({ signal })).subarray())
    }
    expect(await ask({ op: 'has', cid: shard })).toEqual({ ok: true, has: true })
    expect(await ask({ op: 'get', cid: shard })).toEqual({ ok: true, size: content.byteLength })
    expect(equals((await lp.read({ signal })).subarray(), content)).toBe(true)
    const absent = cidOf(random(10))
    expect(await ask({ op: 'get', cid: absent })).toMatchObject({ ok: false, code: 'not-found' })
    expect(await ask({ op: 'has', cid: absent })).toEqual({ ok: true, has: false })
    // done: the server answers our close with its own, the stream ends cleanly
    await stream.close({ signal })
    for (let i = 0; i < 100 && stream.status !== 'closed'; i++) await sleep(20)
    expect(stream.status).toBe('closed')
    expect(stream.remoteWriteStatus).not.toBe('writable')
  })

  it('pushes and fetches a file over a few reused streams, not one per block', async () => {
    await startSwarm(2, () => ({ repairIntervalMs: 0 }), peers)
    const [a, b] = peers
    const content = random(64 * 1024)
    // 64 shards of 1 KiB, each pushed to b (2 replicas of 2 peers: both hold every block)
    const cid = await a.data.put(content, { replicas: 2, chunkSize: 1024 })
    expect(a.data.metrics.streamsOpened + a.data.metrics.streamsReused).toBeGreaterThanOrEqual(65)
    // a put keeps 8 shards in flight: at most that many streams (and one more for a request racing a release)
    expect(a.data.metrics.streamsOpened).toBeLessThanOrEqual(12)
    expect(a.data.metrics.streamsReused).toBeGreaterThanOrEqual(50)
    expect(equals(await collect(b.data.get(cid)), content)).toBe(true)
    // a third peer that holds nothing reads the whole file from the others
    const c = (await startSwarm(1, () => ({ repairIntervalMs: 0 }), []))[0]
    peers.push(c)
    await c.node.dial(a.node.getMultiaddrs()[0])
    await c.node.dial(b.node.getMultiaddrs()[0])
    expect(equals(await collect(c.data.get(cid, { signal: AbortSignal.timeout(20_000) })), content)).toBe(true)
    expect(c.data.metrics.bytesReceived).toBeGreaterThanOrEqual(content.byteLength)
    expect(c.data.metrics.streamsReused).toBeGreaterThan(c.data.metrics.streamsOpened)
  })

  it('replaces a stream the server closed while it was idle, without failing the request', async () => {
    await startSwarm(2, () => ({ repairIntervalMs: 0 }), peers)
    const [a, b] = peers
    const protocol = '/edgeswarm-test/shard-short-idle/1.0.0'
    const blocks = new Map<string, Uint8Array>()
    const content = random(2000)
    blocks.set(cidOf(content).toString(), content)
    // this server ends a stream after 50 ms without a request
    await b.node.handle(protocol, (stream, connection) => {
      void serveShardStream(stream, connection.remotePeer.toString(), mapServer(blocks), 5_000, 50)
    })
    const client = new ShardClient({ open: async (peer, signal) => await a.node.dialProtocol(peer, protocol, { signal }), idleMs: 60_000 })
    try {
      const get = async (): Promise<Uint8Array | undefined> => (await client.request(b.node.peerId, { op: 'get', cid: cidOf(content) }, undefined, AbortSignal.timeout(5000))).bytes
      expect(equals(await get() as Uint8Array, content)).toBe(true)
      expect(equals(await get() as Uint8Array, content)).toBe(true)
      expect(client.metrics).toEqual({ streamsOpened: 1, streamsReused: 1 })
      expect(client.idle).toBe(1)
      // the server closes the idle stream; the next request still gets its answer, on a new stream
      await sleep(300)
      expect(equals(await get() as Uint8Array, content)).toBe(true)
      expect(client.metrics.streamsOpened).toBe(2)
      // 'not found' is an answer like any other: the stream is kept for the next request
      const refused = await client.request(b.node.peerId, { op: 'get', cid: cidOf(random(5)) }, undefined, AbortSignal.timeout(5000))
      expect(refused.response).toMatchObject({ ok: false, code: 'not-found' })
      expect(client.idle).toBe(1)
      expect(client.metrics).toEqual({ streamsOpened: 2, streamsReused: 2 })
    } finally {
      client.close()
    }
    expect(client.idle).toBe(0)
  })

  it('answers a malformed request and ends the stream, and keeps serving others', async () => {
    await startSwarm(2, () => ({ repairIntervalMs: 0 }), peers)
    const [a, b] = peers
    const stream = await a.node.dialProtocol(b.node.peerId, SHARD_PROTOCOL)
    const lp = lpStream(stream, { maxDataLength: MAX_MESSAGE_SIZE })
    const signal = AbortSignal.timeout(5000)
    await lp.write(encoder.encode('{"op":"has","cid":"nope"}'), { signal })
    expect(decodeResponse((await lp.read({ signal })).subarray())).toMatchObject({ ok: false, code: 'invalid' })
    for (let i = 0; i < 100 && stream.remoteWriteStatus === 'writable'; i++) await sleep(20)
    expect(stream.remoteWriteStatus).not.toBe('writable')
    const content = random(100)
    const cid = await b.data.put(content, { replicas: 1 })
    expect(equals(await collect(a.data.get(cid)), content)).toBe(true)
  })
})
