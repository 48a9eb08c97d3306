/**
 * The swarm view: every peer's table lists every live peer within a bound
 * (real peers over TCP), a killed peer turns stale and then leaves every
 * table, and statuses that are forged, oversized, malformed, replayed or
 * older than the one held are refused.
 */
import { describe, expect, it } from 'vitest'
import * as dagCbor from '@ipld/dag-cbor'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import fc from 'fast-check'
import { MAX_STATUS_BYTES, MAX_STATUS_RATE_PER_S, STATUS_EXPIRY_INTERVALS, StatusService, openStatus, signStatus, InvalidStatusError, type PeerStatus } from '../../src/status/index.ts'
import { useCleanup, waitFor } from '../helpers.ts'
import { swarm } from '../jobs/swarm.ts'
import { defaultLogger } from '@libp2p/logger'

const INTERVAL_MS = 500

const sampleStatus = (at: number): PeerStatus => ({
  at, intervalMs: INTERVAL_MS, version: '0.1.0', uptimeMs: 1, connections: 2, routingTable: 2, blocks: 3, bytes: 4, storageUsed: 1, storageMax: 10,
  underReplicated: 0, slots: 2, running: 1, queued: 0, executed: 5, failed: 0, load: 0.5, loopDelayMs: 3,
  labels: ['gpu-room'], cpus: 2, memoryMB: 100, gpu: false, functions: ['square']
})

describe('swarm view', () => {
  const t = useCleanup()

  it('lists every live peer in every table, and drops a killed one', async () => {
    const nodes = await swarm(t.node, 4, { swarm: { intervalMs: INTERVAL_MS }, metrics: false })
    const ids = nodes.map(n => n.peerId.toString()).sort()
    const everyoneSeesAll = (): boolean => nodes.every(n => JSON.stringify(n.swarm?.table().map(r => r.id).sort()) === JSON.stringify(ids))
    expect(await waitFor(everyoneSeesAll, 10_000)).toBe(true)
    for (const n of nodes) {
      const rows = n.swarm?.table() ?? []
      expect(rows[0].self).toBe(true)
      expect(rows[0].id).toBe(n.peerId.toString())
      const other = rows.find(r => !r.self)
      expect(other?.slots).toBeGreaterThan(0)
      expect(other?.functions).toContain('square')
      expect(other?.stale).toBe(false)
    }
    // a killed peer: stale, then gone from every survivor's table within the expiry bound
    const [victim, ...survivors] = nodes
    const gone = victim.peerId.toString()
    await victim.stop()
    expect(await waitFor(() => survivors.every(n => n.swarm?.table().some(r => r.id === gone && r.stale) ?? false), 10_000, 20)).toBe(true)
    const bound = INTERVAL_MS * STATUS_EXPIRY_INTERVALS + 5_000
    expect(await waitFor(() => survivors.every(n => !(n.swarm?.table().some(r => r.id === gone) ?? true)), bound)).toBe(true)
    expect(survivors.every(n => n.swarm?.table().length === 3)).toBe(true)
  })

  it('refuses forged, oversized and malformed statuses, and keeps the newest per peer', async () => {
    const key = await generateKeyPair('Ed25519')
    const other = await generateKeyPair('Ed25519')
    const from = peerIdFromPrivateKey(key).toString()
    const now = Date.now()
    const good = await signStatus(key, from, sampleStatus(now))
    const opened = await openStatus(good)
    expect(opened.from).toBe(from)
    // signed by another key under this author's id
    const forged = await signStatus(other, from, sampleStatus(now))
    await expect(openStatus(forged)).rejects.toThrow(InvalidStatusError)
    // a body altered after signing
    const env = dagCbor.decode(good) as { from: string, body: Uint8Array, sig: Uint8Array }
    const altered = dagCbor.encode({ ...env, body: dagCbor.encode({ ...sampleStatus(now), connections: 999 }) })
    await expect(openStatus(altered)).rejects.toThrow('signature')
    await expect(openStatus(new Uint8Array(MAX_STATUS_BYTES + 1))).rejects.toThrow('exceeds')
    await expect(signStatus(key, from, { ...sampleStatus(now), labels: Array.from({ length: 100 }, (_, i) => `l${i}`) })).rejects.toThrow(InvalidStatusError)
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 600 }), async (bytes) => {
      await expect(openStatus(bytes)).rejects.toThrow(InvalidStatusError)
    }), { numRuns: 200 })

    const service = new StatusService({
      peerId: peerIdFromPrivateKey(other),
      privateKey: other,
      pubsub: { topicValidators: new Map(), subscribe: () => {}, unsubscribe: () => {}, publish: async () => ({ recipients: [] }) } as never,
      logger: defaultLogger(),
      collect: () => { const { at, intervalMs, ...rest } = sampleStatus(0); void at; void intervalMs; return rest }
    }, { intervalMs: INTERVAL_MS })
    expect(service.accept(opened, now)).toBe(true)
    // the same status again (a replay) and an older one are ignored; a newer one replaces it
    expect(service.accept(opened, now)).toBe(false)
    expect(service.accept(await openStatus(await signStatus(key, from, sampleStatus(now - 10))), now)).toBe(false)
    expect(service.accept(await openStatus(await signStatus(key, from, { ...sampleStatus(now + 10), connections: 7 })), now)).toBe(true)
    expect(service.table(now).find(r => r.id === from)?.connections).toBe(7)
    // from far in the future, or too old to be current
    const stranger = await generateKeyPair('Ed25519')
    const strangerId = peerIdFromPrivateKey(stranger).toString()
    expect(service.accept(await openStatus(await signStatus(stranger, strangerId, sampleStatus(now + 3_600_000))), now)).toBe(false)
    expect(service.accept(await openStatus(await signStatus(stranger, strangerId, sampleStatus(now - INTERVAL_MS * STATUS_EXPIRY_INTERVALS - 1))), now)).toBe(false)
    expect(service.table(now).map(r => r.id)).toEqual([peerIdFromPrivateKey(other).toString(), from])
    // a peer judged by the interval its own status announces
    const slow = await generateKeyPair('Ed25519')
    const slowId = peerIdFromPrivateKey(slow).toString()
    expect(service.accept(await openStatus(await signStatus(slow, slowId, { ...sampleStatus(now), intervalMs: 60_000 })), now)).toBe(true)
    expect(service.table(now + INTERVAL_MS * STATUS_EXPIRY_INTERVALS + 1).some(r => r.id === slowId && !r.stale)).toBe(true)
    expect(service.table(now + INTERVAL_MS * STATUS_EXPIRY_INTERVALS + 1).some(r => r.id === from)).toBe(false)

    // however large the swarm, statuses reach a peer at most MAX_STATUS_RATE_PER_S a second
    expect(service.interval).toBe(INTERVAL_MS)
    const many = 40
    for (let i = 0; i < many; i++) {
      const k = await generateKeyPair('Ed25519')
      service.accept(await openStatus(await signStatus(k, peerIdFromPrivateKey(k).toString(), sampleStatus(now))), now)
    }
    const peers = service.table(now).length
    expect(peers).toBe(many + 2)
    expect(service.interval).toBe(Math.ceil(peers * 1000 / MAX_STATUS_RATE_PER_S))
    expect(peers / (service.interval / 1000)).toBeLessThanOrEqual(MAX_STATUS_RATE_PER_S)
  })
})
