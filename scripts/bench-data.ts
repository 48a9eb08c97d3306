/**
 * bench-data: put and get throughput of the data layer. N real peers in one
 * process on 127.0.0.1 (TCP + Noise + yamux), replicas 3; one peer puts
 * SIZE MiB of random bytes, another (holding as little as possible) gets it.
 * MB/s per run and the median; `--json` prints {"putMBps","getMBps","runs"}
 * as the last line of stdout (human lines go to stderr).
 *
 * `--observe` sets the peers' metrics (a registry per peer, libp2p's, gossipsub's
 * and the data layer's) and status gossip as a node composes them: `on`, `off`
 * (the default: the data layer alone), or `both`: each run then measures a swarm
 * with them off and one with them on, side by side (the order alternating between
 * runs), and the report adds "getMBpsOff", "putMBpsOff" and their cost
 * "observeCost": {"put","get"} = 1 - (MB/s on / MB/s off), and the CPU time of the get
 * ("getCpuMs", "getCpuMsOff"; every peer runs in this process; cost "getCpuTime" =
 * on / off - 1), which other work on the machine does not change as it changes wall times.
 *
 * Usage: npx node scripts/bench-data.ts [--json] [--runs 3] [--size-mb 64] [--peers 8] [--profile-get FILE] [--observe on|off|both]
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
import { EDGESWARM_VERSION } from '../src/node/index.ts'
import { NodeMetrics, eventLoopDelay, watchEventLoop } from '../src/metrics/index.ts'
import { STATUS_TOPIC, StatusService } from '../src/status/index.ts'
import { availableParallelism, freemem, loadavg } from 'node:os'

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    runs: { type: 'string', default: '3' },
    'size-mb': { type: 'string', default: '64' },
    peers: { type: 'string', default: '8' },
    replicas: { type: 'string', default: '3' },
    'profile-get': { type: 'string' },
    observe: { type: 'string', default: 'off' }
  }
})
if (!['on', 'off', 'both'].includes(values.observe)) throw new Error(`--observe takes on, off or both; got ${values.observe}`)
const observeModes: boolean[] = values.observe === 'both' ? [false, true] : [values.observe === 'on']
const runs = Number(values.runs)
const sizeMb = Number(values['size-mb'])
const peerCount = Number(values.peers)
const replicas = Number(values.replicas)
const log = (msg: string): void => { process.stderr.write(msg + '\n') }

interface Peer { node: EdgePeer, data: DataService, status?: StatusService }

/** A peer's status, composed from what this benchmark's peers run (the data layer), as a node composes it. */
function statusOf (node: EdgePeer, data: DataService, startedAt: number): () => ReturnType<ConstructorParameters<typeof StatusService>[0]['collect']> {
  return () => {
    const stored = data.stored()
    return {
      version: EDGESWARM_VERSION,
      uptimeMs: Date.now() - startedAt,
      connections: node.getPeers().length,
      routingTable: (node.services.dht as unknown as { routingTable: { size: number } }).routingTable.size,
      blocks: stored.shards,
      bytes: stored.bytes,
      storageUsed: stored.bytesForOthers,
      storageMax: data.storageMax,
      underReplicated: data.metrics.underReplicated,
      slots: 0,
      running: 0,
      queued: 0,
      executed: 0,
      failed: 0,
      load: loadavg()[0] / availableParallelism(),
      loopDelayMs: Math.round(eventLoopDelay().p99Ms),
      labels: [],
      cpus: availableParallelism(),
      memoryMB: Math.floor(freemem() / (1024 * 1024)),
      gpu: false,
      functions: []
    }
  }
}

async function startPeers (n: number, observe: boolean): Promise<Peer[]> {
  const peers: Peer[] = []
  for (let i = 0; i < n; i++) {
    const bootstrap = peers.length > 0 ? [peers[0].node.getMultiaddrs()[0].toString()] : []
    const metrics = observe ? new NodeMetrics() : undefined
    const privateKey = await generateKeyPair('Ed25519')
    const node = await createPeer({ privateKey, listen: ['/ip4/127.0.0.1/tcp/0'], bootstrap, ...(metrics != null ? { metrics, gossipTopicLabels: new Map([[STATUS_TOPIC, 'status']]) } : {}) })
    const data = new DataService({ peerId: node.peerId, privateKey, logger: node.logger, libp2p: node, dht: node.services.dht, pubsub: node.services.pubsub, blockstore: createMemoryBlockstore(), metrics }, { repairIntervalMs: 0, replicas })
    await data.start()
    const status = observe
      ? new StatusService({ peerId: node.peerId, privateKey, pubsub: node.services.pubsub, logger: node.logger, collect: statusOf(node, data, Date.now()), metrics })
      : undefined
    status?.start()
    peers.push({ node, data, status })
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
  log(`bench-data: ${peerCount} peers, ${sizeMb} MiB, replicas ${replicas}, ${runs} runs, metrics and status ${values.observe}`)
  type Run = { putMBps: number, getMBps: number, putMs: number, provideMs: number, getMs: number, getCpuMs: number }
  const cpuMs = (): number => { const u = process.cpuUsage(); return (u.user + u.system) / 1000 }
  const results: Array<{ on?: Run, off?: Run }> = []
  const releaseLoop = observeModes.includes(true) ? watchEventLoop() : undefined
  for (let run = 0; run < runs; run++) {
    const r: { on?: Run, off?: Run } = {}
    // with both settings, the order alternates between runs so the machine's drift favours neither
    for (const observe of run % 2 === 0 ? observeModes : [...observeModes].reverse()) {
      // a fresh swarm per run: runs are independent and memory from earlier runs does not skew later ones
      const peers = await startPeers(peerCount, observe)
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
        const cpu2 = cpuMs()
        let got = 0
        for await (const piece of reader.data.get(cid)) got += piece.byteLength
        const getMs = performance.now() - t2
        // every peer runs in this process: its CPU time is what the get cost the swarm, whatever else the machine runs
        const getCpuMs = cpuMs() - cpu2
        if (profile != null) {
          const { profile: cpu } = await profile.post('Profiler.stop')
          await writeFile(values['profile-get'] as string, JSON.stringify(cpu))
          profile.disconnect()
        }
        if (got !== size) throw new Error(`got ${got} bytes, expected ${size}`)
        const res = { putMBps: mb / (putMs / 1000), getMBps: mb / (getMs / 1000), putMs, provideMs, getMs, getCpuMs }
        if (observe || observeModes.length === 1) r.on = res; else r.off = res
        log(`run ${run + 1}${observeModes.length > 1 ? ` [metrics and status ${observe ? 'on' : 'off'}]` : ''}: put ${res.putMBps.toFixed(1)} MB/s (${putMs.toFixed(0)} ms), announcements settled in ${provideMs.toFixed(0)} ms, ` +
          `get ${res.getMBps.toFixed(1)} MB/s (${getMs.toFixed(0)} ms, ${getCpuMs.toFixed(0)} ms of CPU; reader held ${Math.min(...held)}/${m.shards.length} shards)`)
      } finally {
        await Promise.allSettled(peers.map(async p => { p.status?.stop(); await p.data.stop(); await p.node.stop() }))
      }
    }
    results.push(r)
  }
  releaseLoop?.()
  const med = (f: (r: { on?: Run, off?: Run }) => number | undefined): number => Number(median(results.map(f).filter((x): x is number => x != null)).toFixed(1))
  const both = observeModes.length > 1
  const out = {
    putMBps: med(r => r.on?.putMBps),
    getMBps: med(r => r.on?.getMBps),
    ...(both
      ? {
          putMBpsOff: med(r => r.off?.putMBps),
          getMBpsOff: med(r => r.off?.getMBps),
          getCpuMs: med(r => r.on?.getCpuMs),
          getCpuMsOff: med(r => r.off?.getCpuMs),
          observeCost: {
            put: Number((1 - med(r => r.on?.putMBps) / med(r => r.off?.putMBps)).toFixed(4)),
            get: Number((1 - med(r => r.on?.getMBps) / med(r => r.off?.getMBps)).toFixed(4)),
            getCpuTime: Number((med(r => r.on?.getCpuMs) / med(r => r.off?.getCpuMs) - 1).toFixed(4))
          }
        }
      : {}),
    runs: results.map(r => {
      const shown = (x: Run | undefined): { putMBps: number, getMBps: number, provideMs: number, getCpuMs: number } | undefined =>
        x == null ? undefined : { putMBps: Number(x.putMBps.toFixed(1)), getMBps: Number(x.getMBps.toFixed(1)), provideMs: Math.round(x.provideMs), getCpuMs: Math.round(x.getCpuMs) }
      return both ? { on: shown(r.on), off: shown(r.off) } : shown(r.on)
    })
  }
  log(`median: put ${out.putMBps} MB/s, get ${out.getMBps} MB/s${both ? ` with metrics and status on; off: put ${out.putMBpsOff} MB/s, get ${out.getMBpsOff} MB/s (cost: put ${out.observeCost?.put}, get ${out.observeCost?.get}; get CPU time ${out.getCpuMsOff} → ${out.getCpuMs} ms, cost ${out.observeCost?.getCpuTime})` : ''}`)
  if (values.json === true) process.stdout.write(JSON.stringify(out) + '\n')
}

main().then(() => process.exit(0), err => {
  log(`bench-data failed: ${(err as Error).stack ?? String(err)}`)
  process.exit(1)
})
