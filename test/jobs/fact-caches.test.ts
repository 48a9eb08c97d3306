/**
 * The process-wide caches of opened facts: they serve peers sharing a process, and a process
 * hosting one peer keeps nothing in them (that peer never opens a fact twice).
 */
import { describe, expect, it } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { joinFactReaders, openFact, signFact } from '../../src/jobs/facts.ts'

describe('opened-fact caches', () => {
  it('keep a fact opened once for a second peer of the process, and nothing for a peer alone', async () => {
    const key = await generateKeyPair('Ed25519')
    const from = peerIdFromPrivateKey(key).toString()
    const fact = async (n: number): Promise<Uint8Array> => (await signFact(key, from, { t: 'claim', job: `job-${n}`, tasks: [n], lease: 3000, at: Date.now() })).envelope

    const leaveA = joinFactReaders()
    const alone = await fact(1)
    expect(await openFact(alone)).not.toBe(await openFact(alone))

    const leaveB = joinFactReaders()
    const shared = await fact(2)
    const first = await openFact(shared)
    expect(await openFact(shared)).toBe(first)

    // back to one reader: the caches are emptied and stay empty
    leaveB()
    leaveB()
    const again = await openFact(shared)
    expect(again).not.toBe(first)
    expect(await openFact(shared)).not.toBe(again)
    expect(again.id).toBe(first.id)
    leaveA()
  })
})
