/**
 * scripts/bench-record-memory: the heap one data record costs a peer. Every peer keeps every
 * root and release record of the swarm (up to MAX_DATA_RECORDS) indexed in memory, so the
 * bytes a record takes times that bound is what the record store may hold. Indexes N records
 * of a swarm of P authors (a root record per put, two puts a root for every fourth root, and
 * a release for every tenth root) into a RecordStore over a datastore that keeps nothing, and reports
 * the V8 heap used after forced collections, per record. Prints a line, or JSON with --json;
 * medians of several runs, each in a fresh store.
 *
 *   node --expose-gc scripts/bench-record-memory.ts [--json] [--records N] [--authors P] [--runs N]
 */

import { randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'
import { logger } from '@libp2p/logger'
import type { Datastore, Key } from 'interface-datastore'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { DAG_CBOR_CODE } from '../src/data/blocks.ts'
import { PUT_ID_LENGTH } from '../src/data/constants.ts'
import { RecordStore } from '../src/data/record-store.ts'
import type { DataRecord, SignedRecord } from '../src/data/records.ts'

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    records: { type: 'string', default: '100000' },
    authors: { type: 'string', default: '20' },
    runs: { type: 'string', default: '3' }
  }
})
const records = Number(args.records)
const authors = Number(args.authors)
const runs = Number(args.runs)
if (!Number.isSafeInteger(records) || records < 1000) throw new Error('--records must be a whole number >= 1000')
if (!Number.isSafeInteger(authors) || authors < 1) throw new Error('--authors must be a whole number >= 1')
if (!Number.isSafeInteger(runs) || runs < 1) throw new Error('--runs must be a whole number >= 1')
const gc = (globalThis as { gc?: () => void }).gc
if (gc == null) throw new Error('run with node --expose-gc')

/** Peer ids as the network gives them: a fresh string per record, as decoding an envelope makes. */
const authorIds = Array.from({ length: authors }, () => `12D3KooW${randomBytes(33).toString('base64url').slice(0, 44)}`)

function heapUsed (): number {
  for (let i = 0; i < 4; i++) gc?.()
  return process.memoryUsage().heapUsed
}

/** A put id as putters draw them: 16 random bytes, base64url (PUT_ID_LENGTH characters), a flat string. */
function putId (): string {
  const id = randomBytes(16).toString('base64url')
  if (id.length !== PUT_ID_LENGTH) throw new Error(`a put id is ${PUT_ID_LENGTH} characters`)
  return id
}

/** A root CID's text as a decoded record holds it: a flat string (a CID's own toString is built a character at a time). */
async function rootCid (): Promise<string> {
  return Buffer.from(CID.createV1(DAG_CBOR_CODE, await sha256.digest(randomBytes(32))).toString()).toString()
}

/** The records as a peer decodes them (fresh strings each); envelopes are left out (the store keeps none in memory). */
async function makeRecords (): Promise<SignedRecord[]> {
  const out: SignedRecord[] = []
  const at = Date.now()
  for (let k = 0; out.length < records; k++) {
    const root = await rootCid()
    const author = authorIds[k % authors]
    const puts = k % 4 === 0 ? 2 : 1
    for (let p = 0; p < puts; p++) {
      const record: DataRecord = { t: 'root', put: putId(), root, at: at + k }
      out.push({ id: randomBytes(32).toString('base64url'), from: Buffer.from(author).toString(), record, envelope: new Uint8Array(0) })
    }
    if (k % 10 === 0) out.push({ id: randomBytes(32).toString('base64url'), from: Buffer.from(author).toString(), record: { t: 'release', root, at: at + k + 1 }, envelope: new Uint8Array(0) })
  }
  return out.slice(0, records)
}

/** A datastore that keeps nothing: a peer's records are on disk, and only the store's memory index is measured. */
const nullDatastore = {
  put: async (key: Key) => key,
  delete: async () => {},
  query: async function * () {}
} as unknown as Datastore

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

/** Heap bytes a record costs in a fresh store: in a function, so nothing of one run outlives it. */
async function measureOnce (): Promise<number> {
  const before = heapUsed()
  const list = await makeRecords()
  const store = new RecordStore({ datastore: nullDatastore, log: logger('bench'), maxRecords: records + 1 })
  for (const sr of list) await store.accept(sr)
  // the records as decoded are garbage once accepted: what stays is what the store keeps of them
  list.length = 0
  const bytes = (heapUsed() - before) / records
  if (store.size !== records) throw new Error(`indexed ${store.size} of ${records} records`)
  return bytes
}

const perRecord: number[] = []
for (let run = 0; run < runs; run++) perRecord.push(await measureOnce())
const result = { records, authors, runs, bytesPerRecordP50: Math.round(median(perRecord)), bytesPerRecord: perRecord.map(b => Math.round(b)) }
if (args.json === true) process.stdout.write(`${JSON.stringify(result)}\n`)
else process.stdout.write(`${records} records of ${authors} authors: ${result.bytesPerRecordP50} bytes of heap a record (runs ${result.bytesPerRecord.join(', ')})\n`)
