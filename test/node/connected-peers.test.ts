/**
 * The connected-peer reads that replace libp2p's getPeers(): distinct peers,
 * in connection order, however many connections each has.
 */
import { describe, it, expect } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { Connection, PeerId } from '@libp2p/interface'
import { connectedPeerCount, connectedPeers, isConnected } from '../../src/node/index.ts'

async function peerId (): Promise<PeerId> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
}

function nodeWith (remotes: PeerId[]): { getConnections: () => Connection[] } {
  return { getConnections: () => remotes.map(p => ({ remotePeer: p }) as unknown as Connection) }
}

describe('connected peers', () => {
  it('counts each peer once, whatever its number of connections', async () => {
    const [a, b, c] = await Promise.all([peerId(), peerId(), peerId()])
    const node = nodeWith([a, b, a, c, b])
    expect(connectedPeers(node).map(p => p.toString())).toEqual([a, b, c].map(p => p.toString()))
    expect(connectedPeerCount(node)).toBe(3)
    expect(isConnected(node)).toBe(true)
  })

  it('is empty without connections', () => {
    const node = nodeWith([])
    expect(connectedPeers(node)).toEqual([])
    expect(connectedPeerCount(node)).toBe(0)
    expect(isConnected(node)).toBe(false)
  })
})
