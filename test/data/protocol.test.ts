/**
 * The shard protocol at the trust boundary: malformed, oversized, lying and
 * over-budget messages from a raw stream are rejected, and the peer keeps
 * serving afterwards.
 */
import { lpStream } from '@libp2p/utils'
import * as varint from 'uint8-varint'
import { afterEach, describe, expect, it } from 'vitest'
import { equals } from 'uint8arrays/equals'
import { CID } from 'multiformats/cid'
import { SHARD_PROTOCOL, MAX_MESSAGE_SIZE, cidOf } from '../../src/data/index.ts'
import { MAX_HAS_BATCH } from '../../src/data/constants.ts'
import { decodeBits, decodeResponse, encodeCidList } from '../../src/data/protocol.ts'
import { waitFor } from '../helpers.ts'
import { collect, random, startSwarm, stopAll, type TestPeer } from './helpers.ts'

const encoder = new TextEncoder()

describe('shard protocol hardening', () => {
  const peers: TestPeer[] = []
  afterEach(async () => { await stopAll(peers) })

  async function exchange (from: TestPeer, to: TestPeer, frames: Uint8Array[]): Promise<{ response?: ReturnType<typeof decodeResponse>, error?: Error }> {
    const stream = await from.node.dialProtocol(to.node.peerId, SHARD_PROTOCOL)
    const lp = lpStream(stream, { maxDataLength: MAX_MESSAGE_SIZE })
    const signal = AbortSignal.timeout(5000)
    try {
      if (frames.length > 0) await lp.writeV(frames, { signal })
      await stream.close({ signal })
      return { response: decodeResponse((await lp.read({ signal })).subarray()) }
    } catch (err) {
      return { error: err as Error }
    }
  }

  it('rejects malformed and oversized messages and keeps serving', async () => {
    await startSwarm(2, () => ({ repairIntervalMs: 0, storageMax: 300 * 1024 }), peers)
    const [a, b] = peers
    const content = random(100 * 1024)
    const cid = await a.data.put(content, { replicas: 2 })
    const shard = cidOf(content)

    const cases: Array<[string, Uint8Array[]]> = [
      ['not JSON', [encoder.encode('{nope')]],
      ['binary garbage', [random(64)]],
      ['unknown op', [json({ op: 'delete', cid: shard.toString() })]],
      ['bad cid', [json({ op: 'get', cid: 'not-a-cid' })]],
      ['extra field', [json({ op: 'has', cid: shard.toString(), evil: true })]],
      ['negative size', [json({ op: 'put', cid: shard.toString(), size: -1 }), new Uint8Array(0)]],
      ['announce not a boolean', [json({ op: 'put', cid: shard.toString(), size: content.byteLength, announce: 'no' }), content]],
      ['too large a block', [json({ op: 'put', cid: shard.toString(), size: 2 * 1024 * 1024 })]],
      ['header too large', [json({ op: 'has', cid: shard.toString(), pad: 'x'.repeat(8000) })]],
      ['size mismatch', [json({ op: 'put', cid: cidOf(random(10)).toString(), size: 10 }), random(11)]],
      ['bytes not matching the CID', [json({ op: 'put', cid: cidOf(random(10)).toString(), size: 10 }), random(10)]]
    ]
    for (const [name, frames] of cases) {
      const { response, error } = await exchange(a, b, frames)
      expect(error != null || response?.ok === false, name).toBe(true)
      if (response != null && !response.ok) expect(['invalid', 'integrity']).toContain(response.code)
    }

    // an oversized length prefix: the stream is reset, never read into memory
    {
      const stream = await a.node.dialProtocol(b.node.peerId, SHARD_PROTOCOL)
      stream.send(varint.encode(MAX_MESSAGE_SIZE + 1))
      stream.send(random(1024))
      const lp = lpStream(stream)
      await expect(lp.read({ signal: AbortSignal.timeout(5000) })).rejects.toThrow()
    }
    // a stream that never sends anything is cut off by the inbound timeout (not waited for here),
    // and an empty stream closed at once is answered with a reset or EOF
    expect((await exchange(a, b, [])).error).toBeDefined()

    // storage for others is bounded: b (300 KiB budget, 100 KiB used) refuses 300 KiB more
    const big = random(300 * 1024)
    const refused = await exchange(a, b, [json({ op: 'put', cid: cidOf(big).toString(), size: big.byteLength }), big])
    expect(refused.response).toMatchObject({ ok: false, code: 'storage-full' })
    expect((await b.data.localStats()).bytesForOthers).toBeLessThanOrEqual(300 * 1024)

    // b still serves: has, get and a fresh get of the file from b's side
    expect((await exchange(a, b, [json({ op: 'has', cid: shard.toString() })])).response).toMatchObject({ ok: true, has: true })
    expect(equals(await collect(b.data.get(cid)), content)).toBe(true)
    const small = random(2000)
    expect((await exchange(a, b, [json({ op: 'put', cid: cidOf(small).toString(), size: small.byteLength }), small])).response).toMatchObject({ ok: true })
    expect(await b.data.hasLocal(cidOf(small))).toBe(true)
  })

  it('answers a batched has with a bit per CID and refuses malformed batches', async () => {
    await startSwarm(2, () => ({ repairIntervalMs: 0 }), peers)
    const [a, b] = peers
    const content = random(3000)
    await a.data.put(content, { replicas: 2 })
    const held = cidOf(content)
    const missing = cidOf(random(10))
    const exchangeMany = async (header: unknown, body: Uint8Array): Promise<{ ok: boolean, code?: string, bits?: boolean[] }> => {
      const stream = await a.node.dialProtocol(b.node.peerId, SHARD_PROTOCOL)
      const lp = lpStream(stream, { maxDataLength: MAX_MESSAGE_SIZE })
      const signal = AbortSignal.timeout(5000)
      await lp.writeV([json(header), body], { signal })
      await stream.close({ signal })
      const response = decodeResponse((await lp.read({ signal })).subarray())
      if (!response.ok) return { ok: false, code: response.code }
      return { ok: true, bits: decodeBits((await lp.read({ signal })).subarray(), response.count ?? 0) }
    }
    expect(await exchangeMany({ op: 'has-many', count: 3 }, encodeCidList([missing, held, held]))).toEqual({ ok: true, bits: [false, true, true] })
    const bad: Array<[string, unknown, Uint8Array]> = [
      ['fewer CIDs than announced', { op: 'has-many', count: 3 }, encodeCidList([held])],
      ['more CIDs than announced', { op: 'has-many', count: 1 }, encodeCidList([held, missing])],
      ['not CIDs', { op: 'has-many', count: 1 }, random(40)],
      ['a CIDv0', { op: 'has-many', count: 1 }, CID.parse('QmPZ9gcCEpqKTo6aq61g2nXGUhM4iCL3ewB6LDXZCtioEB').bytes]
    ]
    for (const [name, header, body] of bad) expect(await exchangeMany(header, body), name).toMatchObject({ ok: false, code: 'invalid' })
    for (const header of [{ op: 'has-many', count: 0 }, { op: 'has-many', count: MAX_HAS_BATCH + 1 }, { op: 'has-many', count: 1, cid: held.toString() }]) {
      const { response, error } = await exchange(a, b, [json(header)])
      expect(error != null || response?.ok === false, JSON.stringify(header)).toBe(true)
    }
  })

  it('refuses a push of a block that only released roots list', async () => {
    await startSwarm(2, () => ({ repairIntervalMs: 0 }), peers)
    const [a, b] = peers
    const content = random(5000)
    let put = ''
    const cid = await a.data.put(content, { replicas: 2, onProgress: ev => { if (ev.type === 'done') put = ev.put } })
    const shard = cidOf(content)
    expect(await b.data.hasLocal(shard)).toBe(true)
    await a.data.rm(cid)
    expect(await waitFor(async () => !(await b.data.hasLocal(shard)), 10_000)).toBe(true)
    // a peer that missed the release pushes the block again: refused, and not stored
    const pushed = await exchange(a, b, [json({ op: 'put', cid: shard.toString(), size: content.byteLength, puts: [put] }), content])
    expect(pushed.response).toMatchObject({ ok: false, code: 'released' })
    expect(await b.data.hasLocal(shard)).toBe(false)
    // the same bytes under a live put are welcome
    const again = random(5000)
    expect((await exchange(a, b, [json({ op: 'put', cid: cidOf(again).toString(), size: again.byteLength, puts: ['A'.repeat(22)] }), again])).response).toMatchObject({ ok: true })
    // put ids are checked at the boundary
    expect((await exchange(a, b, [json({ op: 'put', cid: cidOf(again).toString(), size: again.byteLength, puts: ['not a put id'] }), again])).response).toMatchObject({ ok: false, code: 'invalid' })
  })
})

function json (v: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(v))
}
