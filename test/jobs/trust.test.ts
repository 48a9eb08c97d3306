/**
 * Trust and limits: wrong results are outvoted, peers only take what they
 * can run, network-supplied code runs sandboxed within limits, and bad input
 * gets a clear error without breaking anything.
 */
import { readFile } from 'node:fs/promises'
import { describe, it, expect } from 'vitest'
import { lpStream } from '@libp2p/utils'
import * as dagCbor from '@ipld/dag-cbor'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { randomBytes } from 'node:crypto'
import { JOBS_TOPIC, JOB_SYNC_PROTOCOL, signFact, documentId, InvalidJobError } from '../../src/jobs/index.ts'
import { cidOf } from '../../src/data/index.ts'
import type { TaskRunner } from '../../src/scheduler/index.ts'
import { buildWasm } from '../../wasm/build.mts'
import { loopForever, growForever } from '../sandbox/wasm-fixtures.ts'
import { useCleanup, waitFor } from '../helpers.ts'
import { swarm, enc, dec, computeLocally } from './swarm.ts'

const numbers = (n: number): string => Array.from({ length: n }, (_, i) => String(i + 1)).join('\n') + '\n'

/** An executor that runs every task, then returns a wrong answer that still looks plausible: its result with '!' appended. */
function lying (executor: TaskRunner): TaskRunner {
  return {
    canRun: doc => executor.canRun(doc),
    prefetch: (doc, index) => { executor.prefetch(doc, index) },
    clearPrefetched: () => { executor.clearPrefetched() },
    run: async (doc, index, options) => {
      const out = await executor.run(doc, index, options)
      const wrong = new Uint8Array(out.length + 1)
      wrong.set(out)
      wrong[out.length] = 0x21
      return wrong
    }
  }
}

describe('jobs: trust and limits', () => {
  const t = useCleanup()

  it('a peer that returns wrong results is outvoted with redundancy 3 and marked untrusted', async () => {
    const nodes = await swarm(t.node, 4, {}, i => i === 3 ? { decorate: { taskExecutor: lying } } : {})
    const rigged = nodes[3]
    const text = numbers(2000)
    const cid = await nodes[0].data.put(enc(text), { chunkSize: 1024 })
    // the rigged peer submits, so it knows the job first and its claims are the earliest: it always takes part
    // (a peer that learns of the job last can find every task's 3 runs already granted to others)
    const job = await rigged.jobs.submit({ fn: 'square', inputs: [cid.toString()], redundancy: 3 })
    expect(dec(await job.result({ signal: AbortSignal.timeout(60_000) }))).toBe(await computeLocally('square', text))
    // it was outvoted by the honest majority and is distrusted everywhere
    expect(rigged.scheduler.metrics.executed).toBeGreaterThan(0)
    for (const honest of nodes.slice(0, 3)) {
      expect(await waitFor(() => honest.jobs.service.untrusted.has(rigged.peerId.toString()), 10_000)).toBe(true)
    }
  }, 90_000)

  it('peers never take tasks they cannot run: unknown function, missing label, too little memory', async () => {
    const nodes = await swarm(t.node, 3, {}, i => i === 2 ? { scheduler: { labels: ['lab-a'] } } : {})
    const [a, b, c] = nodes
    b.functions.register('only-on-b', async (input) => input)
    const cid = await a.data.put(enc(numbers(1500)), { chunkSize: 1024 })

    const onlyB = await b.jobs.submit({ fn: 'only-on-b', inputs: [cid.toString()] })
    await onlyB.result({ signal: AbortSignal.timeout(30_000) })
    const labelled = await a.jobs.submit({ fn: 'square', inputs: [cid.toString()], requirements: { labels: ['lab-a'] } })
    await labelled.result({ signal: AbortSignal.timeout(30_000) })
    const huge = await a.jobs.submit({ fn: 'square', inputs: [cid.toString()], requirements: { minMemoryMB: 10_000_000 } })
    await new Promise(resolve => setTimeout(resolve, 1500))

    const claimants = (id: string): Set<string> => new Set(
      (a.jobs.service.state(id)?.allFacts() ?? []).filter(f => f.fact.t === 'claim').map(f => f.from))
    expect([...claimants(onlyB.id)]).toEqual([b.peerId.toString()])
    expect([...claimants(labelled.id)]).toEqual([c.peerId.toString()])
    expect(claimants(huge.id).size).toBe(0)
    expect(huge.status().status).toBe('queued')
  }, 60_000)

  it('runs network-supplied WebAssembly sandboxed: same result as the built-in; runaway modules are killed; bad modules refused', async () => {
    const nodes = await swarm(t.node, 2, { scheduler: { wasmLimits: { timeoutMs: 2000, memoryMB: 32 } } })
    const [a, b] = nodes
    const [squarePath] = await buildWasm(['square'])
    const squareWasm = await a.data.put(await readFile(squarePath))
    const text = numbers(800)
    const input = await a.data.put(enc(text), { chunkSize: 1024 })
    const viaWasm = await b.jobs.submit({ fn: 'square', wasm: squareWasm.toString(), inputs: [input.toString()] })
    expect(dec(await viaWasm.result({ signal: AbortSignal.timeout(30_000) }))).toBe(await computeLocally('square', text))

    const small = await a.data.put(enc('1\n2\n'))
    const loop = await a.jobs.submit({ fn: 'loop', wasm: (await a.data.put(loopForever)).toString(), inputs: [small.toString()], maxAttempts: 2 })
    await expect(loop.result({ signal: AbortSignal.timeout(30_000) })).rejects.toThrow(/WasmTimeoutError/)
    const grow = await a.jobs.submit({ fn: 'grow', wasm: (await a.data.put(growForever)).toString(), inputs: [small.toString()], maxAttempts: 2 })
    await expect(grow.result({ signal: AbortSignal.timeout(30_000) })).rejects.toThrow(/Memory/)
    await expect(a.jobs.submit({ fn: 'junk', wasm: (await a.data.put(enc('not wasm at all'))).toString(), inputs: [small.toString()] }))
      .rejects.toMatchObject({ name: 'InvalidWasmError' })

    // the peers keep working
    const after = await b.jobs.submit({ fn: 'square', inputs: [small.toString()] })
    expect(dec(await after.result({ signal: AbortSignal.timeout(30_000) }))).toBe('1\n4\n')
  }, 90_000)

  it('bad input gets a clear error and breaks nothing', async () => {
    const [a, b] = await swarm(t.node, 2)
    const cid = await a.data.put(enc('3\n'))
    await expect(a.jobs.submit({ fn: 'no-such-fn', inputs: [cid.toString()] })).rejects.toMatchObject({ name: 'UnknownFunctionError' })
    await expect(a.jobs.submit({ fn: 'square', inputs: ['not-a-cid'] })).rejects.toBeInstanceOf(InvalidJobError)
    await expect(a.jobs.submit({ fn: 'square', inputs: [] })).rejects.toThrow(/at least one input/)
    await expect(a.jobs.submit({ fn: 'square', inputs: [cid.toString()], redundancy: 99 })).rejects.toThrow(/redundancy/)
    await expect(a.jobs.submit({ fn: 'csv-stats', inputs: [cid.toString()], params: { colum: 'x' } })).rejects.toThrow()
    await expect(a.jobs.submit({ fn: 'square', inputs: [cidOf(randomBytes(64)).toString()] })).rejects.toMatchObject({ name: 'InvalidCidError' })
    const missing = cidOf(randomBytes(64), dagCbor.code).toString()
    await expect(a.jobs.submit({ fn: 'square', inputs: [missing] }, { signal: AbortSignal.timeout(20_000) }))
      .rejects.toMatchObject({ name: 'NotFoundError' })
    // a submit stopped by its signal says which step it was in, at once
    const stop = new AbortController()
    const stopped = a.jobs.submit({ fn: 'square', inputs: [missing] }, { signal: stop.signal })
    stop.abort(new Error('user gave up'))
    await expect(stopped).rejects.toMatchObject({ name: 'SubmitAbortedError', message: expect.stringMatching(/reading the input roots \(0 of 1 read\): user gave up/) })
    const unknownJob = (await documentId(randomBytes(64))).toString()
    await expect(a.jobs.get(unknownJob)).rejects.toMatchObject({ name: 'JobNotFoundError' })

    // malformed and forged facts over gossip are rejected
    const rejectedBefore = b.jobs.service.stats.factsRejected
    await a.libp2p.services.pubsub.publish(JOBS_TOPIC, enc('garbage'))
    const stranger = await generateKeyPair('Ed25519')
    // a fact in another peer's name, and one whose inner signature is not its author's
    const forged = await signFact(stranger, b.peerId.toString(), { t: 'claim', job: 'x', tasks: [0], at: Date.now(), lease: 1000 })
    await a.libp2p.services.pubsub.publish(JOBS_TOPIC, forged.envelope)
    const selfForged = await signFact(stranger, a.peerId.toString(), { t: 'claim', job: 'x', tasks: [0], at: Date.now(), lease: 1000 })
    await a.libp2p.services.pubsub.publish(JOBS_TOPIC, selfForged.envelope)
    const wrongAuthor = await signFact(stranger, peerIdFromPrivateKey(stranger).toString(), { t: 'job', job: unknownJob, doc: enc('nope') })
    await a.libp2p.services.pubsub.publish(JOBS_TOPIC, wrongAuthor.envelope)
    expect(await waitFor(() => b.jobs.service.stats.factsRejected >= rejectedBefore + 4, 5000)).toBe(true)

    // a malformed sync request closes that stream only
    const stream = await a.libp2p.dialProtocol(b.peerId, JOB_SYNC_PROTOCOL)
    const lp = lpStream(stream)
    await lp.write(dagCbor.encode({ have: 'nonsense' }))
    await expect(lp.read({ signal: AbortSignal.timeout(5000) })).rejects.toThrow()

    // and both peers keep working
    const job = await b.jobs.submit({ fn: 'square', inputs: [cid.toString()] })
    expect(dec(await job.result({ signal: AbortSignal.timeout(30_000) }))).toBe('9\n')
  }, 90_000)
})
