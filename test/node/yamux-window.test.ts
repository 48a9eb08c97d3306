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
    // @libp2p/yamux's own rule sends one update per data frame received (hundreds here)
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
