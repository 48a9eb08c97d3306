/**
 * sim/probes: the latency measurements between the data load and the job.
 * DHT: a random live device provides a CID nobody stores (timed to the end
 * of the operation), then another finds its providers (timed to the first
 * event naming one). Gossip: a random live device publishes a numbered probe
 * and every device stamps its receipt with the machine clock.
 *
 * Owns the choice of devices (seeded: the `measure` stream) and the
 * arithmetic of the samples; never counts a failed sample as a time.
 */
import { createHash } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { create as createDigest } from 'multiformats/hashes/digest'
import { forEachLimit } from '../async/index.ts'
import { DHT_SAMPLE_CONCURRENCY, DHT_SAMPLE_TIMEOUT_MS, GOSSIP_RECEIPT_TIMEOUT_MS, GOSSIP_SAMPLE_GAP_MS } from './constants.ts'
import type { Progress } from './progress.ts'
import type { DhtSamples, GossipSamples } from './samples.ts'
import type { SeededRandom } from './random.ts'
import type { Swarm } from './swarm.ts'

/** Receipt polls after gossip probes. */
const RECEIPT_POLL_MS = 100
/** Multihash code of sha2-256. */
const SHA2_256 = 0x12

/** A CID nobody stores, named by the seed: what the DHT samples announce and look up. */
function probeCid (seed: string, k: number): string {
  const digest = createHash('sha256').update(`edgeswarm-sim/${seed}/dht/${k}`).digest()
  return CID.createV1(raw.code, createDigest(SHA2_256, digest)).toString()
}

/** `samples` provide/find pairs, DHT_SAMPLE_CONCURRENCY at once, each part bounded by DHT_SAMPLE_TIMEOUT_MS. */
export async function measureDht (swarm: Swarm, seed: string, samples: number, rnd: SeededRandom, progress: Progress, signal?: AbortSignal): Promise<DhtSamples> {
  const r: DhtSamples = { put: [], get: [], putFailures: 0, getFailures: 0, localHits: 0 }
  const live = swarm.live()
  const pairs = Array.from({ length: samples }, (_, k) => {
    const provider = rnd.pick(live)
    const others = live.filter(d => d !== provider)
    return { k, provider, finder: rnd.pick(others) }
  })
  let done = 0
  progress('dht', 'timing DHT provide/find', 0, samples)
  await forEachLimit(pairs, DHT_SAMPLE_CONCURRENCY, async ({ k, provider, finder }) => {
    signal?.throwIfAborted()
    const cid = probeCid(seed, k)
    try {
      r.put.push((await provider.host.call('dhtProvide', { index: provider.index, cid, timeoutMs: DHT_SAMPLE_TIMEOUT_MS })).ms)
    } catch {
      r.putFailures++
      progress('dht', 'timing DHT provide/find', ++done, samples)
      return
    }
    try {
      const found = await finder.host.call('dhtFind', { index: finder.index, cid, timeoutMs: DHT_SAMPLE_TIMEOUT_MS })
      if (found.ms == null) r.getFailures++
      else { r.get.push(found.ms); if (found.local) r.localHits++ }
    } catch {
      r.getFailures++
    }
    progress('dht', 'timing DHT provide/find', ++done, samples)
  })
  return r
}

/** `samples` probes, GOSSIP_SAMPLE_GAP_MS apart; receipts are collected until all arrived or GOSSIP_RECEIPT_TIMEOUT_MS passed. */
export async function measureGossip (swarm: Swarm, samples: number, rnd: SeededRandom, progress: Progress, signal?: AbortSignal): Promise<GossipSamples> {
  const sent: Array<{ probe: number, at: number, expect: Set<number> }> = []
  progress('gossip', 'timing gossip', 0, samples)
  for (let k = 0; k < samples; k++) {
    signal?.throwIfAborted()
    const live = swarm.live()
    const publisher = rnd.pick(live)
    const probe = k + 1
    const { at } = await publisher.host.call('gossipPublish', { index: publisher.index, probe })
    sent.push({ probe, at, expect: new Set(live.filter(d => d !== publisher).map(d => d.index)) })
    progress('gossip', 'timing gossip', k + 1, samples)
    await sleep(GOSSIP_SAMPLE_GAP_MS, undefined, { signal })
  }
  const expected = sent.reduce((a, s) => a + s.expect.size, 0)
  const got = new Map<number, Map<number, number>>()
  const until = performance.now() + GOSSIP_RECEIPT_TIMEOUT_MS
  let received = 0
  while (samples > 0) {
    const reports = await Promise.all(swarm.allHosts().map(async h => await h.call('gossipReceipts', { probes: sent.map(s => s.probe) })))
    got.clear()
    for (const [probe, index, at] of reports.flatMap(r => r.receipts)) {
      const m = got.get(probe) ?? new Map<number, number>()
      m.set(index, at)
      got.set(probe, m)
    }
    received = sent.reduce((a, s) => a + [...s.expect].filter(i => got.get(s.probe)?.has(i) === true).length, 0)
    if (received >= expected || performance.now() > until) break
    await sleep(RECEIPT_POLL_MS, undefined, { signal })
  }
  const each: number[] = []
  const all: number[] = []
  for (const s of sent) {
    const m = got.get(s.probe)
    const lat = [...s.expect].map(i => m?.get(i)).filter((x): x is number => x != null).map(at => Math.max(0, at - s.at))
    each.push(...lat)
    if (lat.length === s.expect.size && lat.length > 0) all.push(Math.max(...lat))
  }
  return { each, all, expected, received, probes: samples }
}
