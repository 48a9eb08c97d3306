/**
 * Fixtures for the fact store's tests without a network: signing peers, a
 * store with its retention over a datastore, and a small job's facts.
 */
import { MemoryDatastore } from 'datastore-core'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { logger } from '@libp2p/logger'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import type { PrivateKey } from '@libp2p/interface'
import { buildDocument, encodeDocument, documentId, signFact, validateSpec, type Fact, type SignedFact } from '../../src/jobs/index.ts'
import { FactStore } from '../../src/jobs/fact-store.ts'
import { JobRetention } from '../../src/jobs/retention.ts'
import type { Verdict } from '../../src/jobs/pass-check.ts'

/** Every key an async source yields. */
export async function collectKeys<T> (source: AsyncIterable<T> | Iterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const k of source) out.push(k)
  return out
}

export const BATCH = 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku'
export const OTHER_BATCH = 'bafkreiaxnnnb7qz2focittuqq3ya25q7rcv3bqynnczfzao35q7awxmdfi'

export interface Peer { key: PrivateKey, id: string }
export async function peer (): Promise<Peer> {
  const key = await generateKeyPair('Ed25519')
  return { key, id: peerIdFromPrivateKey(key).toString() }
}

/** A fact store over `datastore`, its retention keeping jobs `keepMs`, and the roots it released. */
export function storeOf (me: Peer, datastore: MemoryDatastore | undefined, keepMs: number, finishedIdleMs?: number): { store: FactStore, retention: JobRetention, released: string[] } {
  const released: string[] = []
  const log = logger('test:retention')
  const store: FactStore = new FactStore(
    {
      peerId: me.id,
      data: { adoptBlock: async () => false },
      checker: { verdict: async (): Promise<Verdict> => ({ verdict: 'accept' }) },
      datastore,
      stats: { factsReceived: 0, factsRejected: 0, syncs: 0 },
      events: new EventTarget(),
      log
    },
    { changed: (state) => { retention.changed(state) }, finishedIdleMs }
  )
  const retention: JobRetention = new JobRetention({
    peerId: me.id,
    store,
    data: {
      cidFor: async (bytes) => CID.createV1(0x71, await sha256.digest(bytes)),
      rm: async (cid) => { released.push(cid.toString()) }
    },
    log
  }, { keepMs })
  retention.markLoaded()
  return { store, retention, released }
}

/** A job of `me` over one input of two shards, and its id and `job` fact. */
export async function jobOf (me: Peer, createdAt: number): Promise<{ id: string, fact: SignedFact }> {
  const spec = validateSpec({ fn: 'square', inputs: ['bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku'] })
  const doc = buildDocument(spec, [{ shards: [{ cid: CID.parse(BATCH) }, { cid: CID.parse(OTHER_BATCH) }] }], me.id, createdAt)
  const bytes = encodeDocument(doc)
  const id = (await documentId(bytes)).toString()
  return { id, fact: await signFact(me.key, me.id, { t: 'job', job: id, doc: bytes }) }
}

export const sign = async (p: Peer, fact: Fact): Promise<SignedFact> => await signFact(p.key, p.id, fact)

/** An iterative job (`train`) of `me` over one shard, of `passes` passes, created at `createdAt`, with its `job` fact. */
export async function iterativeJobOf (me: Peer, createdAt: number, passes: number): Promise<{ id: string, fact: SignedFact }> {
  const doc = buildDocument(validateSpec({ fn: 'train', inputs: [BATCH] }), [{ shards: [{ cid: CID.parse(BATCH) }] }], me.id, createdAt, passes)
  const bytes = encodeDocument(doc)
  const id = (await documentId(bytes)).toString()
  return { id, fact: await signFact(me.key, me.id, { t: 'job', job: id, doc: bytes }) }
}

/** A pass state's bytes and the CID they are stored under. */
export async function passStateOf (bytes: Uint8Array): Promise<{ data: Uint8Array, cid: string }> {
  return { data: bytes, cid: CID.createV1(0x55, await sha256.digest(bytes)).toString() }
}
