/**
 * hosted-swarm: the benchmarks' swarm: `n` in-memory peers spread over the
 * sim's peer hosts (this process, or child processes; peer i on host i mod
 * P), every peer bootstrapping to all the earlier ones, ready once each is
 * connected to every other and sees every other on the jobs topic. Stops
 * every host when it cannot start, and after the work given to
 * `withHostedSwarm`. Never listens on anything but 127.0.0.1.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { DEFAULT_REPLICAS } from '../src/data/constants.ts'
import { JOBS_TOPIC } from '../src/jobs/index.ts'
import { deviceConfigFor, startPeerHosts } from '../src/sim/index.ts'
import type { PeerHost } from '../src/sim/host-protocol.ts'

/** Gaps between readiness polls while the swarm connects, ms. */
const READY_POLL_MS = 50

export interface HostedSwarm {
  hosts: PeerHost[]
  /** The host of peer i; peer 0 submits and observes. */
  hostOf: (index: number) => PeerHost
  close: () => Promise<void>
}

export interface HostedSwarmOptions {
  /** Processes the peers are spread over. */
  processes: number
  /** How long the swarm may take to connect before the benchmark gives up, ms. */
  readyTimeoutMs: number
  /** Task slots of every peer; the device default when absent. */
  slots?: number
  /** Metrics and the status gossip on every peer; the host's default when absent. */
  observe?: boolean
}

export async function startHostedSwarm (n: number, opts: HostedSwarmOptions): Promise<HostedSwarm> {
  const hosts: PeerHost[] = []
  const close = async (): Promise<void> => { await Promise.allSettled(hosts.map(async h => { await h.close() })) }
  try {
    await startPeerHosts(opts.processes, hosts)
    const base = deviceConfigFor(n, DEFAULT_REPLICAS)
    const config = opts.slots == null ? base : { ...base, scheduler: { ...base.scheduler, slots: opts.slots } }
    await Promise.all(hosts.map(async h => await h.call('configure', opts.observe == null ? { config } : { config, observe: opts.observe })))
    const hostOf = (index: number): PeerHost => hosts[index % hosts.length]
    const addrs: string[] = []
    for (let i = 0; i < n; i++) {
      const { peers } = await hostOf(i).call('startPeers', { peers: [{ index: i, init: true, bootstrap: [...addrs] }] })
      addrs.push(peers[0].addrs[0])
    }
    const deadline = Date.now() + opts.readyTimeoutMs
    while (true) {
      const reports = await Promise.all(hosts.map(async h => await h.call('readiness', { topics: [JOBS_TOPIC] })))
      if (reports.flatMap(r => r.peers).every(p => p.connections >= n - 1 && p.subscribers >= n - 1)) break
      if (Date.now() > deadline) throw new Error(`swarm of ${n} in ${opts.processes} process(es) did not connect within ${opts.readyTimeoutMs} ms`)
      await sleep(READY_POLL_MS)
    }
    return { hosts, hostOf, close }
  } catch (err) {
    await close()
    throw err
  }
}

/** Runs `fn` on a fresh hosted swarm and stops it after, whatever happens. */
export async function withHostedSwarm<T> (n: number, opts: HostedSwarmOptions, fn: (swarm: HostedSwarm) => Promise<T>): Promise<T> {
  const swarm = await startHostedSwarm(n, opts)
  try {
    return await fn(swarm)
  } finally {
    await swarm.close()
  }
}
