/**
 * The simulation's devices run configurations a daemon can have: for every
 * swarm size, the run's config.json sections pass the node's own validation
 * and hold the tuning the size calls for; the tuning fields of config.json
 * are bounded, with messages naming the field; a config that names no
 * profile runs the default one, which sets nothing; and a node takes each
 * setting from the option, else config.json, else the profile.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it, expect } from 'vitest'
import { createEdgeNode, initRepo, type EdgeNode } from '../../src/index.ts'
import { defaultConfig, parseConfig, TUNING } from '../../src/node/index.ts'
import { deviceConfigFor } from '../../src/sim/index.ts'
import { useCleanup } from '../helpers.ts'

/** A device's whole config.json for a swarm of `peers`, as the sim writes it into the repo. */
function configText (peers: number): string {
  return JSON.stringify({ ...defaultConfig('12D3KooWtest', { listen: ['/ip4/127.0.0.1/tcp/0'] }), ...deviceConfigFor(peers, 3) })
}

describe('sim: device configurations', () => {
  it('every swarm size runs a config.json a daemon accepts, with the tuning of its size', () => {
    const small = parseConfig(configText(12))
    expect(small).toMatchObject({
      tuning: 'default',
      discovery: { mdns: false, targetPeers: 12 },
      limits: { maxConnections: 300, inboundConnectionThreshold: 10_000 },
      gossip: { meshDegree: 1 },
      data: { replicas: 3 },
      scheduler: { slots: 1 }
    })
    expect(small.gossip.lazyPeers).toBeUndefined()
    expect(small.data.provideRatePerSecond).toBeUndefined()

    // bounded connections and slower background work, gossipsub's own mesh
    const large = parseConfig(configText(50))
    expect(large).toMatchObject({
      tuning: 'default',
      discovery: { targetPeers: 8 },
      limits: { maxConnections: 40 },
      data: { provideRatePerSecond: 0.25, repairIntervalMs: TUNING.crowded.repairIntervalMs },
      jobs: { syncIntervalMs: TUNING.crowded.jobSyncIntervalMs }
    })
    expect(large.gossip.meshDegree).toBeUndefined()
    expect(large.limits.handshakeTimeoutMs).toBeUndefined()

    // the crowded profile itself: its values come from the profile, not from fields
    const crowded = parseConfig(configText(200))
    expect(crowded).toMatchObject({ tuning: 'crowded', discovery: { targetPeers: 8 }, limits: { maxConnections: 100 } })
    expect(crowded.data.provideRatePerSecond).toBeUndefined()
    expect(crowded.jobs.syncIntervalMs).toBeUndefined()
  })

  it('a config that names no profile runs the default one, which sets nothing', () => {
    const config = parseConfig(JSON.stringify({ identity: { peerId: 'x' } }))
    expect(config.tuning).toBe('default')
    expect(TUNING.default).toEqual({})
    expect(Object.keys(TUNING.crowded).sort()).toEqual(['gossipLazyPeers', 'handshakeTimeoutMs', 'jobSyncIntervalMs', 'provideRatePerSecond', 'repairIntervalMs', 'stealRankStepMs'])
  })

  it('bounds every tuning field, naming the field', () => {
    const bad = (patch: Record<string, unknown>): string => JSON.stringify({ identity: { peerId: 'x' }, ...patch })
    expect(() => parseConfig(bad({ tuning: 'fast' }))).toThrow(/config\.json: tuning:/)
    expect(() => parseConfig(bad({ limits: { handshakeTimeoutMs: 10 } }))).toThrow(/limits\.handshakeTimeoutMs/)
    expect(() => parseConfig(bad({ gossip: { lazyPeers: -1 } }))).toThrow(/gossip\.lazyPeers/)
    expect(() => parseConfig(bad({ gossip: { meshDegree: 0 } }))).toThrow(/gossip\.meshDegree/)
    expect(() => parseConfig(bad({ data: { provideRatePerSecond: 0 } }))).toThrow(/data\.provideRatePerSecond/)
    expect(() => parseConfig(bad({ jobs: { syncIntervalMs: 10 } }))).toThrow(/jobs\.syncIntervalMs/)
    expect(() => parseConfig(bad({ scheduler: { stealRankStepMs: 0 } }))).toThrow(/scheduler\.stealRankStepMs/)
  })
})

describe('sim: the tuning profile reaches the node', () => {
  const t = useCleanup()
  /** gossipsub's D_lazy of a node (its options are public on the class, not on the interface): the crowded profile sets it to 0. */
  const lazyPeers = (node: EdgeNode): number => (node.libp2p.services.pubsub as unknown as { opts: { Dlazy: number } }).opts.Dlazy

  it('option, else config.json, else the profile, else the layer default', async () => {
    const plain = await t.node()
    expect(lazyPeers(plain)).toBeGreaterThan(0)
    expect(lazyPeers(await t.node({ tuning: 'crowded' }))).toBe(TUNING.crowded.gossipLazyPeers)
    expect(lazyPeers(await t.node({ tuning: 'crowded', gossipLazyPeers: 3 }))).toBe(3)

    const repo = join(await t.tempDir(), 'r')
    await initRepo(repo, { listen: ['/ip4/127.0.0.1/tcp/0'] })
    const path = join(repo, 'config.json')
    const config = JSON.parse(await readFile(path, 'utf8'))
    await writeFile(path, JSON.stringify({ ...config, tuning: 'crowded', discovery: { mdns: false } }))
    let node = await createEdgeNode({ repo })
    expect(lazyPeers(node)).toBe(TUNING.crowded.gossipLazyPeers)
    await node.stop()
    // a field in config.json wins over the profile it names
    await writeFile(path, JSON.stringify({ ...config, tuning: 'crowded', discovery: { mdns: false }, gossip: { lazyPeers: 2 } }))
    node = await createEdgeNode({ repo })
    t.defer(() => node.stop())
    expect(lazyPeers(node)).toBe(2)
    expect(lazyPeers(plain)).toBe(lazyPeers(await t.node({ tuning: 'default' })))
  })
})
