/**
 * Why a peer has no peers, with real peers on 127.0.0.1: a peer with another
 * swarm key (seen from both ends of the handshake), a bootstrap address nobody
 * listens on, and one whose peer id is wrong each become one named cause in
 * `status`, reported once while it recurs; the table's own rules (forget on
 * connect, expiry, rate limit, bound) hold on their own.
 */
import { createServer } from 'node:net'
import { describe, it, expect } from 'vitest'
import { multiaddr } from '@multiformats/multiaddr'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { Libp2pEvents, TypedEventTarget } from '@libp2p/interface'
import { ConnectionDiagnostics, generateSwarmKey, type ConnectionProblem } from '../../src/node/index.ts'
import type { EdgeNode } from '../../src/index.ts'
import { addrOf, useCleanup, waitFor } from '../helpers.ts'

async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise(resolve => server.close(resolve))
  return port
}

async function problemOf (node: EdgeNode, kind: ConnectionProblem['kind'], address?: string): Promise<ConnectionProblem | undefined> {
  let found: ConnectionProblem | undefined
  await waitFor(async () => {
    found = (await node.status()).connectionProblems.find(p => p.kind === kind && (address == null || p.address === address))
    return found != null
  }, 20_000, 100)
  return found
}

function recordProblems (node: EdgeNode): ConnectionProblem[] {
  const seen: ConnectionProblem[] = []
  node.diagnostics.addEventListener('problem', evt => { seen.push((evt as CustomEvent<ConnectionProblem>).detail) })
  return seen
}

describe('connection diagnostics', () => {
  const t = useCleanup()

  it('names a peer with another swarm key, from both ends, once while it recurs', async () => {
    const a = await t.node({ swarmKey: generateSwarmKey() })
    const b = await t.node({ swarmKey: generateSwarmKey(), bootstrap: [addrOf(a)] })
    const c = await t.node({ bootstrap: [addrOf(a)] })
    const reportedByB = recordProblems(b)

    // the dialler cannot decrypt the answer
    const atB = await problemOf(b, 'swarm-key', addrOf(a))
    expect(atB?.message).toBe(`bootstrap peer ${addrOf(a)} failed the private-swarm handshake (different swarm key?)`)
    expect(atB?.peer).toBe(a.peerId.toString())
    const atC = await problemOf(c, 'swarm-key', addrOf(a))
    expect(atC?.message).toBe(`bootstrap peer ${addrOf(a)} failed the handshake: it is in a private swarm (this peer has no swarm key)`)
    // the answerer sees the dialler hang up after its answer
    const atA = await problemOf(a, 'swarm-key', '/ip4/127.0.0.1')
    expect(atA?.message).toBe('a peer at /ip4/127.0.0.1 hung up during the handshake (a different swarm key, or it expected another peer id here?)')
    expect(a.peers()).toEqual([])

    // alone, b redials every few seconds: the cause counts up, but is reported once
    expect(await waitFor(async () => ((await problemOf(b, 'swarm-key', addrOf(a)))?.count ?? 0) >= 3, 20_000, 200)).toBe(true)
    expect(reportedByB.filter(p => p.kind === 'swarm-key' && p.address === addrOf(a))).toHaveLength(1)
  })

  it('names a bootstrap address nobody listens on', async () => {
    const id = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    const address = `/ip4/127.0.0.1/tcp/${await freePort()}/p2p/${id}`
    const node = await t.node({ bootstrap: [address] })
    const reported = recordProblems(node)
    const problem = await problemOf(node, 'unreachable', address)
    expect(problem?.message).toBe(`bootstrap ${address} is unreachable: connection refused: nothing listens there`)
    expect(problem?.peer).toBe(id)
    expect(reported.map(p => p.address)).toContain(address)
  })

  it('names a bootstrap address that answers as another peer', async () => {
    const target = await t.node()
    const other = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    const wrong = addrOf(target).replace(target.peerId.toString(), other)
    const node = await t.node({ bootstrap: [wrong] })
    const problem = await problemOf(node, 'wrong-peer', wrong)
    expect(problem?.message).toBe(`bootstrap ${wrong} answered as peer ${target.peerId.toString()}: fix the /p2p/ part of the address`)
    expect(problem?.peer).toBe(other)
    expect(node.peers()).toEqual([])
    // a connection to another peer leaves the cause of the peer the address names
    await node.libp2p.dial(multiaddr(addrOf(target)))
    expect((await node.status()).connectionProblems.map(p => p.kind)).toContain('wrong-peer')
  })
})

describe('the diagnostics table', () => {
  const events = (): TypedEventTarget<Libp2pEvents> & EventTarget => new EventTarget() as TypedEventTarget<Libp2pEvents> & EventTarget
  const refused = new Error('connection error 127.0.0.1:9: connect ECONNREFUSED 127.0.0.1:9')

  it('keeps bootstrap causes only, forgets a peer\'s causes when it connects, and expires old ones', async () => {
    const peer = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const boot = `/ip4/127.0.0.1/tcp/9/p2p/${peer.toString()}`
    const bus = events()
    const d = new ConnectionDiagnostics({ events: bus }, { bootstrap: [boot], problemTtlMs: 200 })
    d.start()
    d.dialFailed(`/ip4/127.0.0.1/tcp/10/p2p/${peer.toString()}`, refused)
    expect(d.problems()).toEqual([])
    d.dialFailed(boot, refused)
    expect(d.problems().map(p => p.kind)).toEqual(['unreachable'])
    bus.dispatchEvent(new CustomEvent('connection:open', { detail: { remotePeer: peer } }))
    expect(d.problems()).toEqual([])
    d.dialFailed(boot, refused)
    await new Promise(resolve => setTimeout(resolve, 250))
    expect(d.problems()).toEqual([])
    d.stop()
  })

  it('reports a cause again only after its interval, at most a few reports a minute, and keeps a bounded table', () => {
    const d = new ConnectionDiagnostics({ events: events() }, { privateSwarm: true, reportIntervalMs: 60_000 })
    const reported: ConnectionProblem[] = []
    d.addEventListener('problem', evt => { reported.push((evt as CustomEvent<ConnectionProblem>).detail) })
    const hangUp = new Error('read ECONNRESET')
    for (let i = 0; i < 5; i++) d.handshakeFailed('inbound', multiaddr('/ip4/10.0.0.1/tcp/5000'), hangUp)
    expect(reported).toHaveLength(1)
    expect(d.problems()[0].count).toBe(5)
    // a scan from many hosts: the table and the log stay bounded
    for (let i = 0; i < 500; i++) d.handshakeFailed('inbound', multiaddr(`/ip4/10.1.${i >> 8}.${i & 255}/tcp/5000`), hangUp)
    expect(d.problems().length).toBeLessThanOrEqual(64)
    expect(reported.length).toBeLessThanOrEqual(10)
    // timeouts and aborts say nothing about the other end
    const timeout = Object.assign(new Error('aborted'), { name: 'AbortError' })
    const before = d.problems().length
    d.handshakeFailed('inbound', multiaddr('/ip4/10.9.9.9/tcp/1'), timeout)
    expect(d.problems().length).toBe(before)
  })
})
