/**
 * The job service alone, without a network: its collaborators are doubles
 * passed through JobServiceComponents. A submit announces the job on the jobs
 * topic; gossiped facts are verified by the topic validator; a complete job
 * is reduced by this peer (the only one ranked) and its result read back.
 */
import { describe, it, expect, afterEach } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { defaultLogger } from '@libp2p/logger'
import { TopicValidatorResult } from '@libp2p/gossipsub'
import type { PeerId, PrivateKey } from '@libp2p/interface'
import { CID } from 'multiformats/cid'
import { cidOf } from '../../src/data/index.ts'
import { FunctionRegistry, builtinFunctions } from '../../src/functions/index.ts'
import {
  JobService, JOBS_TOPIC, resultHash, signFact, type Fact, type JobNetwork, type JobPubSub, type JobServiceData
} from '../../src/jobs/index.ts'
import { enc, dec } from './swarm.ts'

type FakePubSub = JobPubSub & { published: Uint8Array[], deliver: (data: Uint8Array) => Promise<TopicValidatorResult> }

/** Gossipsub as the service sees it, alone: published messages are recorded, and a test delivers messages through the validator. */
function fakePubSub (): FakePubSub {
  const topicValidators: JobPubSub['topicValidators'] = new Map()
  const published: Uint8Array[] = []
  const publish = async (topic: string, data?: Uint8Array): Promise<{ recipients: PeerId[] }> => {
    if (topic === JOBS_TOPIC && data != null) published.push(data)
    return { recipients: [] }
  }
  const deliver = async (data: Uint8Array): Promise<TopicValidatorResult> => {
    const validate = topicValidators.get(JOBS_TOPIC)
    if (validate == null) throw new Error('no validator on the jobs topic')
    return await validate(peerIdFromPrivateKey(await generateKeyPair('Ed25519')), { type: 'unsigned', topic: JOBS_TOPIC, data })
  }
  return { topicValidators, published, subscribe: () => {}, unsubscribe: () => {}, getSubscribers: () => [], publish, deliver }
}

/** A libp2p node with no connections: nothing to dial, no events. */
function loneNetwork (): JobNetwork {
  const events = new EventTarget()
  return {
    getConnections: () => [],
    dialProtocol: async () => { throw new Error('no peers') },
    handle: async () => {},
    unhandle: async () => {},
    addEventListener: events.addEventListener.bind(events),
    removeEventListener: events.removeEventListener.bind(events)
  } as unknown as JobNetwork
}

/** An in-memory data layer: one input of two shards, and whatever is put. */
function memoryData (shards: Uint8Array[]): JobServiceData & { input: CID } {
  const blocks = new Map<string, Uint8Array>()
  const put = (bytes: Uint8Array): CID => { const cid = cidOf(bytes); blocks.set(cid.toString(), bytes); return cid }
  const shardCids = shards.map(put)
  const input = cidOf(enc('the input root'))
  return {
    input,
    put: async (bytes) => put(bytes),
    cidFor: async (bytes) => cidOf(bytes),
    adoptBlock: async () => false,
    manifest: async (cid) => {
      if (cid.toString() !== input.toString()) throw new Error('unknown root')
      return { size: shards.reduce((n, s) => n + s.length, 0), shards: shardCids.map((c, i) => ({ cid: c, size: shards[i].length, nl: true })) }
    },
    get: async function * (cid) {
      const bytes = blocks.get(cid.toString())
      if (bytes == null) throw new Error('not found')
      yield bytes
    },
    getShard: async (cid) => {
      const bytes = blocks.get(cid.toString())
      if (bytes == null) throw new Error('not found')
      return bytes
    }
  }
}

describe('job service through its components', () => {
  const services: JobService[] = []
  afterEach(async () => { for (const s of services.splice(0)) await s.stop() })

  async function start (): Promise<{ service: JobService, pubsub: FakePubSub, data: ReturnType<typeof memoryData>, peerId: PeerId, privateKey: PrivateKey }> {
    const privateKey = await generateKeyPair('Ed25519')
    const peerId = peerIdFromPrivateKey(privateKey)
    const pubsub = fakePubSub()
    const data = memoryData([enc('1\n2\n'), enc('3\n')])
    const service = new JobService({
      peerId, privateKey, pubsub, network: loneNetwork(), logger: defaultLogger(), data, functions: new FunctionRegistry(builtinFunctions)
    })
    await service.start()
    services.push(service)
    return { service, pubsub, data, peerId, privateKey }
  }

  it('a submit announces the job on the jobs topic; gossiped facts are verified, a complete job is reduced here', async () => {
    const { service, pubsub, data } = await start()
    const job = await service.submit({ fn: 'square', inputs: [data.input.toString()] })
    expect(pubsub.published).toHaveLength(1)
    expect(service.state(job.id)?.doc?.tasks).toHaveLength(2)
    expect(job.status()).toMatchObject({ status: 'queued', total: 2, done: 0 })

    // another peer's results, gossiped: verified by the topic validator, applied to the job
    const worker = await generateKeyPair('Ed25519')
    const from = peerIdFromPrivateKey(worker).toString()
    const parts = [enc('1\n4\n'), enc('9\n')]
    const result = (task: number): Fact => ({ t: 'result', job: job.id, at: Date.now(), results: [{ task, hash: resultHash(parts[task]), size: parts[task].length, data: parts[task] }] })
    expect(await pubsub.deliver((await signFact(worker, from, result(0))).envelope)).toBe(TopicValidatorResult.Accept)
    expect(service.view(job.id).done).toBe(1)

    // a fact in the worker's name signed by another key is refused and counted
    const rejected = service.stats.factsRejected
    const forged = await signFact(await generateKeyPair('Ed25519'), from, result(1))
    expect(await pubsub.deliver(forged.envelope)).toBe(TopicValidatorResult.Reject)
    expect(service.stats.factsRejected).toBe(rejected + 1)
    expect(service.view(job.id).done).toBe(1)

    // the last result completes the job: alone, this peer ranks first and reduces at once
    expect(await pubsub.deliver((await signFact(worker, from, result(1))).envelope)).toBe(TopicValidatorResult.Accept)
    expect(dec(await job.result({ signal: AbortSignal.timeout(5_000) }))).toBe('1\n4\n9\n')
    expect(job.status().status).toBe('done')
    expect(pubsub.published).toHaveLength(2) // the job fact, then this peer's done fact
  })

  it('a job no peer can be asked about is unknown when the time limit passes', async () => {
    const { service } = await start()
    const unknown = cidOf(enc('no such job'), 0x71).toString()
    await expect(service.find(unknown, { signal: AbortSignal.timeout(300) }))
      .rejects.toMatchObject({ name: 'JobNotFoundError', message: expect.stringMatching(/no connection to ask/) })
  })
})
