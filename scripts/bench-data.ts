/**
 * bench-data: put and get throughput of the data layer. N real peers in one
 * process on 127.0.0.1 (TCP + Noise + yamux), replicas 3; one peer puts
 * SIZE MiB of random bytes, another (holding as little as possible) gets it.
 * MB/s per run and the median; `--json` prints {"putMBps","getMBps","runs"}
 * as the last line of stdout (human lines go to stderr).
 *
 * Usage: npx node scripts/bench-data.ts [--json] [--runs 3] [--size-mb 64] [--peers 8] [--profile-get FILE]
 * (`--profile-get` writes a V8 CPU profile of the last run's get phase only.)
 * Never listens on anything but 127.0.0.1.
 */
import { randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { Session } from 'node:inspector/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createPeer, type EdgePeer } from '../src/node/index.ts'
import { DataService, createMemoryBlockstore } from '../src/data/index.ts'

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    runs: { type: 'string', default: '3' },
    'size-mb': { type: 'string', default: '64' },
    peers: { type: 'string', default: '8' },
    replicas: { type: 'string', default: '3' },
    'profile-get': { type: 'string' }
  }
})
const runs = Number(values.runs)
const sizeMb = Number(values['size-mb'])
const peerCount = Number(values.peers)
const replicas = Number(values.replicas)
const log = (msg: string): void => { process.stderr.write(msg + '\n') }

interface Peer { node: EdgePeer, data: DataService }

async function startPeers (n: number): Promise<Peer[]> {
  const peers: Peer[] = []
  for (let i = 0; i < n; i++) {
    const bootstrap = peers.length > 0 ? [peers[0].node.getMultiaddrs()[0].toString()] : []
    const privateKey = await generateKeyPair('Ed25519')
    const node = await createPeer({ privateKey, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap })
    const data = new DataService({
      peerId: node.peerId, privateKey, logger: node.logger, libp2p: node, dht: node.services.dht, pubsub: node.services.pubsub, blockstore: createMemoryBlockstore()
    }, { repairIntervalMs: 0, replicas })
    await data.start()
    peers.push({ node, data })
  }
  await Promise.all(peers.flatMap((a, i) => peers.slice(i + 1).map(async b => a.node.dial(b.node.getMultiaddrs()[0]))))
  const deadline = Date.now() + 20_000
  const rt = (p: Peer): number => (p.node.services.dht as unknown as { routingTable: { size: number } }).routingTable.size
  while (!peers.every(p => rt(p) >= n - 1) && Date.now() < deadline) await sleep(50)
  return peers
}

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

async function * source (total: number): AsyncGenerator<Uint8Array> {
  // random bytes generated as the put consumes them: a big input never sits in memory
  const piece = 1024 * 1024
  for (let done = 0; done < total; done += piece) yield new Uint8Array(randomBytes(Math.min(piece, total - done)))
}

async function main (): Promise<void> {
  const size = sizeMb * 1024 * 1024
  const mb = size / 1e6
  log(`bench-data: ${peerCount} peers, ${sizeMb} MiB, replicas ${replicas}, ${runs} runs`)
  const results: Array<{ putMBps: number, getMBps: number, putMs: number, provideMs: number, getMs: number }> = []
  for (let run = 0; run < runs; run++) {
    // a fresh swarm per run: runs are independent and memory from earlier runs does not skew later ones
    const peers = await startPeers(peerCount)
    try {
      const putter = peers[0]
      const t0 = performance.now()
      const cid = await putter.data.put(source(size), { replicas })
      const putMs = performance.now() - t0
      // background provider announcements settle before timing the get
      const t1 = performance.now()
      await Promise.all(peers.map(async p => p.data.whenProvided()))
      const provideMs = performance.now() - t1
      // the reader: the peer (not the putter) holding the fewest shards
      const m = await putter.data.manifest(cid)
      const others = peers.filter(p => p !== putter)
      const held = await Promise.all(others.map(async p => {
        let n = 0
        for (const s of m.shards) if (await p.data.hasLocal(s.cid)) n++
        return n
      }))
      const reader = others[held.indexOf(Math.min(...held))]
      const profile = values['profile-get'] != null && run === runs - 1 ? new Session() : undefined
      if (profile != null) {
        profile.connect()
        await profile.post('Profiler.enable')
        await profile.post('Profiler.start')
      }
      const t2 = performance.now()
      let got = 0
      for await (const piece of reader.data.get(cid)) got += piece.byteLength
      const getMs = performance.now() - t2
      if (profile != null) {
        const { profile: cpu } = await profile.post('Profiler.stop')
        await writeFile(values['profile-get'] as string, JSON.stringify(cpu))
        profile.disconnect()
      }
      if (got !== size) throw new Error(`got ${got} bytes, expected ${size}`)
      const r = { putMBps: mb / (putMs / 1000), getMBps: mb / (getMs / 1000), putMs, provideMs, getMs }
      results.push(r)
      log(`run ${run + 1}: put ${r.putMBps.toFixed(1)} MB/s (${putMs.toFixed(0)} ms), announcements settled in ${provideMs.toFixed(0)} ms, ` +
        `get ${r.getMBps.toFixed(1)} MB/s (${getMs.toFixed(0)} ms; reader held ${Math.min(...held)}/${m.shards.length} shards)`)
    } finally {
      await Promise.allSettled(peers.map(async p => { await p.data.stop(); await p.node.stop() }))
    }
  }
  const out = {
    putMBps: Number(median(results.map(r => r.putMBps)).toFixed(1)),
    getMBps: Number(median(results.map(r => r.getMBps)).toFixed(1)),
    runs: results.map(r => ({ putMBps: Number(r.putMBps.toFixed(1)), getMBps: Number(r.getMBps.toFixed(1)), provideMs: Math.round(r.provideMs) }))
  }
  log(`median: put ${out.putMBps} MB/s, get ${out.getMBps} MB/s`)
  if (values.json === true) process.stdout.write(JSON.stringify(out) + '\n')
}

main().then(() => process.exit(0), err => {
  log(`bench-data failed: ${(err as Error).stack ?? String(err)}`)
  process.exit(1)
})
