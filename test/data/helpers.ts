/**
 * test/data/helpers: a swarm of real libp2p peers on 127.0.0.1 with a
 * DataService each, and helpers to stop them all, always.
 */
import { randomBytes } from 'node:crypto'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PeerId, PrivateKey } from '@libp2p/interface'
import { createPeer, type EdgePeer } from '../../src/node/index.ts'
import { DataService, createMemoryBlockstore, type DataServiceComponents, type DataServiceInit } from '../../src/data/index.ts'

export interface TestPeer {
  node: EdgePeer
  data: DataService
}

/** A libp2p peer on 127.0.0.1 with its key (which signs its data records). */
export async function startNode (bootstrap: string[] = [], privateKey?: PrivateKey): Promise<{ node: EdgePeer, privateKey: PrivateKey }> {
  const key = privateKey ?? await generateKeyPair('Ed25519')
  const node = await createPeer({ privateKey: key, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap })
  return { node, privateKey: key }
}

/** What a DataService uses of `node`, with an in-memory blockstore unless `extra` gives stores or a shard-server decorator. */
export function componentsOf (peer: { node: EdgePeer, privateKey: PrivateKey }, extra: Partial<DataServiceComponents> = {}): DataServiceComponents {
  const { node, privateKey } = peer
  return {
    peerId: node.peerId,
    privateKey,
    logger: node.logger,
    libp2p: node,
    dht: node.services.dht,
    pubsub: node.services.pubsub,
    blockstore: createMemoryBlockstore(),
    ...extra
  }
}

export async function startPeer (init: DataServiceInit = {}, bootstrap: string[] = [], components: Partial<DataServiceComponents> = {}): Promise<TestPeer> {
  const started = await startNode(bootstrap)
  const data = new DataService(componentsOf(started, components), init)
  await data.start()
  return { node: started.node, data }
}

export function addrOf (peer: TestPeer): string {
  const addr = peer.node.getMultiaddrs().find(a => a.toString().startsWith('/ip4/127.0.0.1/'))
  if (addr == null) throw new Error('peer has no loopback address')
  return addr.toString()
}

/** Starts `n` peers, all bootstrapped from the first, and waits until every DHT routing table is full. */
export async function startSwarm (
  n: number,
  init: (i: number) => DataServiceInit = () => ({}),
  into: TestPeer[] = [],
  components: (i: number) => Partial<DataServiceComponents> = () => ({})
): Promise<TestPeer[]> {
  const first = await startPeer(init(0), [], components(0))
  into.push(first)
  for (let i = 1; i < n; i++) into.push(await startPeer(init(i), [addrOf(first)], components(i)))
  await connectAll(into)
  return into
}

/** Dials every pair and waits until each routing table lists every other peer. */
export async function connectAll (peers: TestPeer[], timeoutMs = 15_000): Promise<void> {
  await Promise.all(peers.flatMap((a, i) => peers.slice(i + 1).map(async b => {
    await a.node.dial(b.node.getMultiaddrs()[0])
  })))
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const sizes = peers.map(p => routingTableSize(p))
    if (sizes.every(s => s >= peers.length - 1)) return
    if (Date.now() > deadline) throw new Error(`routing tables did not fill: ${sizes.join(',')}`)
    await sleep(50)
  }
}

export function routingTableSize (peer: TestPeer): number {
  return (peer.node.services.dht as unknown as { routingTable: { size: number } }).routingTable.size
}

export async function stopAll (peers: TestPeer[]): Promise<void> {
  await Promise.allSettled(peers.map(async p => {
    await p.data.stop()
    await p.node.stop()
  }))
  peers.length = 0
}

export async function sleep (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}

export function random (size: number): Uint8Array {
  return new Uint8Array(randomBytes(size))
}

export async function collect (source: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  let total = 0
  for await (const p of source) { parts.push(p); total += p.byteLength }
  const out = new Uint8Array(total)
  let o = 0
  for (const p of parts) { out.set(p, o); o += p.byteLength }
  return out
}

export function ids (peers: Array<{ toString: () => string }>): string[] {
  return peers.map(p => p.toString()).sort()
}

export function peerIdOf (p: TestPeer): PeerId {
  return p.node.peerId
}
