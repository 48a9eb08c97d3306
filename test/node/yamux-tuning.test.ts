import { describe, it, expect } from 'vitest'
import { createHash } from 'node:crypto'
import type { Stream } from '@libp2p/interface'
import { useCleanup } from '../helpers.ts'

const PROTOCOL = '/edgeswarm-test/window/1.0.0'

/** Counts the window-update frames (yamux type 1) a stream sends, by wrapping its own frame writer. */
function countWindowUpdates (stream: Stream): { count: () => number } {
  const s = stream as unknown as { sendFrame: (header: { type: number }, data?: unknown) => boolean }
  let n = 0
  const send = s.sendFrame
  s.sendFrame = (header, data) => {
    if (header.type === 1) n++
    return send(header, data)
  }
  return { count: () => n }
}

async function readAll (stream: Stream): Promise<{ bytes: number, messages: number, sha: string }> {
  const hash = createHash('sha256')
  let bytes = 0
  let messages = 0
  for await (const chunk of stream) {
    const buf = chunk instanceof Uint8Array ? chunk : chunk.subarray()
    hash.update(buf)
    bytes += buf.byteLength
    messages++
  }
  return { bytes, messages, sha: hash.digest('hex') }
}

/** Counts what a connection's muxer hands to the encrypted connection under it (one Noise message and its socket writes each). */
function countHandOvers (connection: unknown): { count: () => number } {
  const muxer = (connection as { muxer?: { maConn?: { send: (data: unknown) => boolean } } }).muxer
  const conn = muxer?.maConn
  if (conn == null) throw new Error('connection has no muxer over a connection')
  let n = 0
  const send = conn.send.bind(conn)
  conn.send = (data) => { n++; return send(data) }
  return { count: () => n }
}

describe('yamux window updates at half a window (real peers over TCP)', () => {
  const t = useCleanup()

  async function pair (): Promise<{ send: (chunks: Uint8Array[]) => Promise<void>, received: Promise<{ bytes: number, messages: number, sha: string, updates: number }> }> {
    const a = await t.node()
    const b = await t.node()
    let resolve!: (v: { bytes: number, messages: number, sha: string, updates: number }) => void
    let reject!: (err: unknown) => void
    const received = new Promise<{ bytes: number, messages: number, sha: string, updates: number }>((res, rej) => { resolve = res; reject = rej })
    await b.libp2p.handle(PROTOCOL, (stream) => {
      const updates = countWindowUpdates(stream)
      readAll(stream).then(r => { resolve({ ...r, updates: updates.count() }) }, reject)
    })
    const send = async (chunks: Uint8Array[]): Promise<void> => {
      const stream = await a.libp2p.dialProtocol(b.multiaddrs[0], PROTOCOL, { signal: AbortSignal.timeout(10_000) })
      for (const chunk of chunks) {
        // respect backpressure: a sender out of credit waits for the receiver's update
        if (!stream.send(chunk)) await new Promise(resolve => stream.addEventListener('drain', resolve, { once: true }))
      }
      await stream.close()
    }
    return { send, received }
  }

  it('a stream of many small messages is granted credit a few times, not once per message', async () => {
    const { send, received } = await pair()
    const chunks = Array.from({ length: 2_000 }, (_, i) => new Uint8Array(100).fill(i % 251))
    await send(chunks)
    const r = await received
    expect(r.bytes).toBe(200_000)
    expect(r.sha).toBe(createHash('sha256').update(Buffer.concat(chunks)).digest('hex'))
    // 200 kB through a 256 KiB window: credit falls due once (at half), plus the ACK;
    // yamux's own rule sent one update per data frame received (hundreds here)
    expect(r.messages).toBeGreaterThan(20)
    expect(r.updates).toBeLessThanOrEqual(4)
  })

  it('a transfer of many windows still flows: every byte arrives, in order', async () => {
    const { send, received } = await pair()
    const chunks = Array.from({ length: 128 }, (_, i) => new Uint8Array(64 * 1024).map((_, j) => (i * 31 + j) % 256))
    await send(chunks)
    const r = await received
    // 8 MiB is 32 initial windows: the sender runs out of credit many times and is granted more each time
    expect(r.bytes).toBe(8 * 1024 * 1024)
    expect(r.sha).toBe(createHash('sha256').update(Buffer.concat(chunks)).digest('hex'))
    expect(r.updates).toBeGreaterThanOrEqual(2)
  }, 30_000)
})

describe('yamux frames of one event-loop turn go out together (real peers over TCP)', () => {
  const t = useCleanup()

  it('sends the frames of many streams written in one turn as a few hand-overs, every byte in order', async () => {
    const a = await t.node()
    const b = await t.node()
    const got = new Map<number, Promise<{ bytes: number, messages: number, sha: string }>>()
    let next = 0
    await b.libp2p.handle(PROTOCOL, (stream) => { got.set(next++, readAll(stream)) }, { maxInboundStreams: 64 })
    const streams = await Promise.all(Array.from({ length: 20 }, async () => await a.libp2p.dialProtocol(b.multiaddrs[0], PROTOCOL, { signal: AbortSignal.timeout(10_000) })))
    const connection = a.libp2p.getConnections(b.peerId)[0]
    const handOvers = countHandOvers(connection)
    // let the streams' opening frames go out, then write 20 x 20 messages in one turn
    await new Promise(resolve => setTimeout(resolve, 200))
    const before = handOvers.count()
    const chunks = Array.from({ length: 20 }, (_, i) => new Uint8Array(100).fill(i))
    for (const s of streams) for (const c of chunks) s.send(c)
    await new Promise(resolve => setImmediate(resolve))
    // 400 data frames, ~45 KB: one hand-over (a batch goes at 64 KiB); stock yamux makes each its own
    expect(handOvers.count() - before).toBeGreaterThanOrEqual(1)
    expect(handOvers.count() - before).toBeLessThanOrEqual(2)
    await Promise.all(streams.map(async s => { await s.close() }))
    for (let i = 0; i < 100 && got.size < 20; i++) await new Promise(resolve => setTimeout(resolve, 20))
    const results = await Promise.all([...got.values()])
    const sha = createHash('sha256').update(Buffer.concat(chunks)).digest('hex')
    expect(results).toHaveLength(20)
    for (const r of results) expect(r).toMatchObject({ bytes: 2_000, sha })
  })

  it('a connection closed right after writing still delivers what was written', async () => {
    const a = await t.node()
    const b = await t.node()
    let resolve!: (v: { bytes: number, messages: number, sha: string }) => void
    const received = new Promise<{ bytes: number, messages: number, sha: string }>((res, rej) => { resolve = res; void rej })
    await b.libp2p.handle(PROTOCOL, (stream) => { void readAll(stream).then(resolve, () => resolve({ bytes: -1, messages: 0, sha: '' })) })
    const stream = await a.libp2p.dialProtocol(b.multiaddrs[0], PROTOCOL, { signal: AbortSignal.timeout(10_000) })
    const chunks = Array.from({ length: 30 }, (_, i) => new Uint8Array(1000).fill(i + 1))
    for (const c of chunks) stream.send(c)
    // no turn of the loop in between: the frames are still held when the close begins
    await Promise.all([stream.close(), a.libp2p.getConnections(b.peerId)[0].close()])
    const r = await received
    expect(r.bytes).toBe(30_000)
    expect(r.sha).toBe(createHash('sha256').update(Buffer.concat(chunks)).digest('hex'))
  })
})
