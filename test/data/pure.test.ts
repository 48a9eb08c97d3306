/**
 * Pure logic of the data layer, no network: chunking, manifest codec, CIDs,
 * XOR placement, the byte-bounded cache, ordered parallelism, when a miss is conclusive.
 */
import { createHash } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { equals } from 'uint8arrays/equals'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { generateKeyPair } from '@libp2p/crypto/keys'
import * as dagCbor from '@ipld/dag-cbor'
import {
  ChunkSizeError, InvalidCidError, InvalidManifestError, MAX_BLOCK_SIZE, MAX_SHARDS_PER_ROOT,
  TooManyShardsError, chunk, cidOf, closestPeers, compareXor, decodeManifest, encodeManifest, parseCid, peerKadId, blockKadId
} from '../../src/data/index.ts'
import { BlockCache } from '../../src/data/cache.ts'
import { conclusiveMiss, type SearchSeen } from '../../src/data/errors.ts'
import { collect, random } from './helpers.ts'

describe('chunker', () => {
  it('cuts any piece sizes into fixed shards', async () => {
    await fc.assert(fc.asyncProperty(
      fc.uint8Array({ maxLength: 20_000 }), fc.integer({ min: 1024, max: 4096 }), fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 10 }),
      async (data, size, cuts) => {
        async function * pieces (): AsyncGenerator<Uint8Array> {
          let o = 0; let i = 0
          while (o < data.byteLength) { const n = cuts[i++ % cuts.length]; yield data.subarray(o, o + n); o += n }
        }
        const shards: Uint8Array[] = []
        for await (const s of chunk(pieces(), size)) shards.push(s)
        expect(shards.every((s, i) => i === shards.length - 1 ? s.byteLength > 0 && s.byteLength <= size : s.byteLength === size)).toBe(true)
        expect(equals(await collect((async function * () { yield * shards })()), data)).toBe(true)
      }), { numRuns: 50 })
  })

  it('rejects chunk sizes outside 1 KiB..1 MiB', async () => {
    for (const bad of [0, 1023, 1024 * 1024 + 1, 1536.5]) {
      await expect(collect(chunk(new Uint8Array(10), bad))).rejects.toBeInstanceOf(ChunkSizeError)
    }
  })

  it('stops at MAX_SHARDS_PER_ROOT with a hint to raise the chunk size', async () => {
    async function * endless (): AsyncGenerator<Uint8Array> { for (;;) yield new Uint8Array(64 * 1024) }
    await expect(collect(chunk(endless(), 1024))).rejects.toThrow(TooManyShardsError)
    await expect(collect(chunk(endless(), 1024))).rejects.toThrow(/larger chunk size/)
  })
})

describe('blocks', () => {
  it('addresses shards as IPFS raw leaves (CIDv1 raw sha2-256)', () => {
    const bytes = new TextEncoder().encode('hello edgeswarm')
    const cid = cidOf(bytes)
    expect(cid.version).toBe(1)
    expect(cid.code).toBe(0x55)
    expect(cid.multihash.code).toBe(0x12)
    expect(equals(cid.multihash.digest, new Uint8Array(createHash('sha256').update(bytes).digest()))).toBe(true)
    expect(cid.toString().startsWith('bafkrei')).toBe(true)
  })

  it('round-trips the dag-cbor manifest and rejects wrong ones', () => {
    const shards = [cidOf(random(2048)), cidOf(random(100))].map((cid, i) => ({ cid, size: i === 0 ? 2048 : 100, nl: i === 0 }))
    const { cid, bytes } = encodeManifest({ size: 2148, chunkSize: 2048, shards })
    expect(cid.code).toBe(0x71)
    expect(cid.toString().startsWith('bafyrei')).toBe(true)
    const m = decodeManifest(bytes)
    expect(m).toMatchObject({ type: 'edgeswarm/file', version: 1, size: 2148, chunkSize: 2048 })
    expect(m.shards.map(s => s.cid.toString())).toEqual(shards.map(s => s.cid.toString()))
    expect(m.shards.map(s => s.nl)).toEqual([true, false])
    // a manifest written without `nl` (before it existed) still reads, with nothing said about newlines
    expect(decodeManifest(dagCbor.encode({ type: 'edgeswarm/file', version: 1, size: 100, chunkSize: 2048, shards: [{ cid: shards[1].cid, size: 100 }] })).shards[0].nl).toBeUndefined()
    const bad = (v: unknown): void => { expect(() => decodeManifest(dagCbor.encode(v))).toThrow(InvalidManifestError) }
    bad({ type: 'other', version: 1, size: 0, chunkSize: 2048, shards: [] })
    bad({ type: 'edgeswarm/file', version: 1, size: 9, chunkSize: 2048, shards: [{ cid: shards[0].cid, size: 2048 }] })
    bad({ type: 'edgeswarm/file', version: 1, size: 200, chunkSize: 2048, shards: [{ cid: shards[1].cid, size: 100 }, { cid: shards[1].cid, size: 100 }] })
    bad({ type: 'edgeswarm/file', version: 1, size: 100, chunkSize: 2048, shards: [{ cid: shards[1].cid, size: 100, nl: 'yes' }] })
    expect(() => decodeManifest(new Uint8Array([0xff, 0x00]))).toThrow(InvalidManifestError)
  })

  it('keeps a root with MAX_SHARDS_PER_ROOT shards under MAX_BLOCK_SIZE', () => {
    const cid = cidOf(new Uint8Array(1))
    const { bytes } = encodeManifest({ size: MAX_SHARDS_PER_ROOT * 1024 * 1024, chunkSize: 1024 * 1024, shards: Array.from({ length: MAX_SHARDS_PER_ROOT }, () => ({ cid, size: 1024 * 1024, nl: false })) })
    expect(bytes.byteLength).toBeLessThan(MAX_BLOCK_SIZE)
  })

  it('parses CIDs and refuses others with InvalidCidError', () => {
    const cid = cidOf(random(10))
    expect(parseCid(cid.toString()).equals(cid)).toBe(true)
    expect(() => parseCid('hello')).toThrow(InvalidCidError)
    expect(() => parseCid('bafkqaaa')).toThrow(InvalidCidError) // identity hash
  })
})

describe('placement', () => {
  it('orders peers by XOR distance of sha256(peer id) to sha256(multihash), like kad-dht', async () => {
    const peers = await Promise.all(Array.from({ length: 12 }, async () => peerIdFromPrivateKey(await generateKeyPair('Ed25519'))))
    const cid = cidOf(random(50))
    const target = new Uint8Array(createHash('sha256').update(cid.multihash.bytes).digest())
    expect(equals(blockKadId(cid), target)).toBe(true)
    const dist = (p: typeof peers[number]): bigint => {
      const id = new Uint8Array(createHash('sha256').update(p.toMultihash().bytes).digest())
      return BigInt('0x' + Buffer.from(id.map((b, i) => b ^ target[i])).toString('hex'))
    }
    const expected = [...peers].sort((a, b) => (dist(a) < dist(b) ? -1 : 1)).slice(0, 3).map(String)
    expect(closestPeers(cid, peers, 3).map(String)).toEqual(expected)
    expect(closestPeers(cid, [...peers, ...peers], 20)).toHaveLength(12)
    expect(compareXor(target, peerKadId(peers[0]), peerKadId(peers[0]))).toBe(0)
  })
})

describe('cache', () => {
  it('evicts least recently used entries to stay within its byte bound', () => {
    const c = new BlockCache(300)
    c.set('a', new Uint8Array(100)); c.set('b', new Uint8Array(100)); c.set('c', new Uint8Array(100))
    c.get('a')
    c.set('d', new Uint8Array(100))
    expect(c.has('b')).toBe(false)
    expect(['a', 'c', 'd'].every(k => c.has(k))).toBe(true)
    expect(c.bytes).toBe(300)
    c.set('huge', new Uint8Array(301))
    expect(c.has('huge')).toBe(false)
    expect(c.bytes).toBeLessThanOrEqual(300)
  })

  it('sweeps out the blocks unread since a time, and keeps the others', () => {
    const c = new BlockCache(1000)
    c.set('old', new Uint8Array(100), 1000)
    c.set('read', new Uint8Array(100), 1000)
    c.set('new', new Uint8Array(100), 5000)
    c.get('read', 6000)
    expect(c.sweep(4000)).toBe(1)
    expect(c.has('old')).toBe(false)
    expect(c.has('read') && c.has('new')).toBe(true)
    expect(c.bytes).toBe(200)
    expect(c.sweep(7000)).toBe(2)
    expect(c.bytes).toBe(0)
  })
})

describe('conclusiveMiss', () => {
  it('calls a miss conclusive only when the search could have found the block', () => {
    const seen = (s: Partial<SearchSeen>): SearchSeen => ({ none: 0, failed: 0, providers: 0, lookup: 'not run', pending: 0, closestSaidNone: false, ...s })
    // every peer asked answered "none" (a named provider among them), or a lookup finished and the closest peers asked said none
    expect(conclusiveMiss(seen({ none: 3 }))).toBe(true)
    expect(conclusiveMiss(seen({ none: 2, providers: 1, lookup: 'done' }))).toBe(true)
    expect(conclusiveMiss(seen({ none: 3, failed: 5, lookup: 'done', closestSaidNone: true }))).toBe(true)
    // a finished lookup whose closest peers did not answer: they may be the holders
    expect(conclusiveMiss(seen({ none: 1, failed: 13, lookup: 'done' }))).toBe(false)
    expect(conclusiveMiss(seen({ failed: 15, lookup: 'done' }))).toBe(false)
    // providers were named but did not serve: the block was announced, its holders were busy or gone
    expect(conclusiveMiss(seen({ failed: 2, providers: 1, lookup: 'running' }))).toBe(false)
    expect(conclusiveMiss(seen({ failed: 1, pending: 3, providers: 1, lookup: 'running' }))).toBe(false)
    // silent peers may be the holders
    expect(conclusiveMiss(seen({ none: 3, failed: 7 }))).toBe(false)
    expect(conclusiveMiss(seen({ none: 1, failed: 1, lookup: 'running' }))).toBe(false)
    // a search that ran out of time with requests still open: those may be the holders
    expect(conclusiveMiss(seen({ none: 3, pending: 2 }))).toBe(false)
    expect(conclusiveMiss(seen({ none: 3, lookup: 'done', pending: 2, closestSaidNone: true }))).toBe(true)
    // the deadline passed with the lookup still running: the closest peers were not reached yet
    expect(conclusiveMiss(seen({ none: 3, lookup: 'running', closestSaidNone: true }))).toBe(false)
    // nobody answered, or nobody was asked
    expect(conclusiveMiss(seen({ failed: 4 }))).toBe(false)
    expect(conclusiveMiss(seen({}))).toBe(false)
  })
})
