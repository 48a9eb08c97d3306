/**
 * sim/swarm: the run's devices and the hosts they live on. Starts the host
 * processes (this process for 1, else that many children, and with children
 * one process of its own for each device the fault plan will kill), starts
 * devices in waves with their bootstrap lists, waits until the swarm is
 * connected and meshed, stops and crashes single devices, and collects the
 * hosts' snapshots.
 *
 * Owns the devices' state (starting, live, stopping, down), their repos under
 * one temp dir, and every host: `close()` ends each one and removes the temp
 * dir, also after a failed start. Never drives a peer itself: all through
 * host commands.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { deadline, raceAbort } from '../async/index.ts'
import { JOBS_TOPIC } from '../jobs/index.ts'
import {
  BOOTSTRAP_FANOUT, CRASH_SNAPSHOT_TIMEOUT_MS, MESH_SETTLE_MS, MIN_READY_CONNECTIONS, READY_POLL_MS,
  SIM_GOSSIP_TOPIC, START_WAVE_SIZE, SWARM_READY_BASE_MS, SWARM_READY_PER_PEER_MS
} from './constants.ts'
import { SimTimeoutError } from './errors.ts'
import { ChildPeerHost } from './child-host.ts'
import type { HostSnapshot, PeerHost, PeerStart } from './host-protocol.ts'
import { LocalPeerHost } from './peer-host.ts'
import type { Progress } from './progress.ts'
import { SeededRandom } from './random.ts'
import type { DeviceConfig } from './tuning.ts'

export type DeviceState = 'starting' | 'live' | 'stopping' | 'down'

export interface Device {
  index: number
  host: PeerHost
  repo: string
  peerId: string
  addrs: string[]
  state: DeviceState
  /** Joined during the run (holds no readings of its own). */
  joiner: boolean
  /** Was stopped and started again from its repo. */
  returned: boolean
}

export interface SwarmInit {
  /** Devices at the start (indexes 0..peers-1); joiners get the next indexes. */
  peers: number
  /** Hosts that share the devices: this process for 1, else that many children. */
  processes: number
  /** The config.json sections of every device. */
  config: DeviceConfig
  seed: string
  progress: Progress
  signal?: AbortSignal
}

/**
 * Starts `processes` peer hosts into `into`: this process for 1, else that
 * many children, all at once. On failure the ones that started are in `into`
 * for the caller to close.
 */
export async function startPeerHosts (processes: number, into: PeerHost[]): Promise<void> {
  if (processes === 1) {
    into.push(new LocalPeerHost(0))
    return
  }
  const started = await Promise.allSettled(Array.from({ length: processes }, async (_, i) => await ChildPeerHost.start(i)))
  for (const r of started) if (r.status === 'fulfilled') into.push(r.value)
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (failed != null) throw failed.reason
}

export class Swarm {
  private readonly init: SwarmInit
  /** The hosts that share the devices. */
  private readonly hosts: PeerHost[] = []
  /**
   * With child processes, each kill target runs alone in a process of its
   * own, so a kill is a SIGKILL: a real crash, which needs no turn of a
   * saturated host's event loop. By device index; a crashed one is removed,
   * a restarted one gets a new process.
   */
  private readonly soloHosts = new Map<number, ChildPeerHost>()
  /** One-device processes started (kill targets, and their restarts). */
  private soloStartedCount = 0
  /** The last snapshot of each crashed one-device process, taken just before its kill. */
  private readonly crashedSnapshots: HostSnapshot[] = []
  private readonly devices = new Map<number, Device>()
  private readonly bootstrapRnd: SeededRandom
  private nextIndex: number
  private root?: string

  constructor (init: SwarmInit) {
    this.init = init
    this.bootstrapRnd = new SeededRandom(init.seed, 'bootstrap')
    this.nextIndex = init.peers
  }

  /** One-device processes started so far. */
  get soloStarted (): number {
    return this.soloStartedCount
  }

  /** The temp dir and every host: the shared ones, and with children one per kill target in `soloTargets`. */
  async startHosts (soloTargets: number[]): Promise<void> {
    this.root = await mkdtemp(join(tmpdir(), 'edgeswarm-sim-'))
    await startPeerHosts(this.init.processes, this.hosts)
    await Promise.all(this.hosts.map(async h => await h.call('configure', { config: this.init.config })))
    if (this.init.processes > 1) {
      const solo = await Promise.allSettled(soloTargets.map(async index => { await this.startSoloHost(index) }))
      const failed = solo.find((r): r is PromiseRejectedResult => r.status === 'rejected')
      if (failed != null) throw failed.reason
    }
  }

  /** Starts the one-device process of kill target `index` (before its start or restart). */
  async startSoloHost (index: number): Promise<void> {
    const host = await ChildPeerHost.start(this.init.processes + this.soloStartedCount)
    this.soloStartedCount++
    this.soloHosts.set(index, host)
    await host.call('configure', { config: this.init.config })
  }

  /** The one-device process of device `index`, if it runs in one. */
  soloHostOf (index: number): ChildPeerHost | undefined {
    return this.soloHosts.get(index)
  }

  device (index: number): Device | undefined {
    return this.devices.get(index)
  }

  /** Every device started so far, whatever its state. */
  all (): Device[] {
    return [...this.devices.values()]
  }

  /** Live devices, by index. */
  live (): Device[] {
    return this.all().filter(d => d.state === 'live').sort((a, b) => a.index - b.index)
  }

  /** A live device to watch the jobs from: an original one if any (a joiner knows the jobs only from the swarm). */
  observer (): Device | undefined {
    const live = this.live()
    return live.find(d => !d.joiner) ?? live[0]
  }

  /** The index the next joining device gets. */
  joinerIndex (): number {
    return this.nextIndex++
  }

  /** Every host running now: the shared ones and the one-device processes. */
  allHosts (): PeerHost[] {
    return [...this.hosts, ...this.soloHosts.values()]
  }

  private hostFor (index: number): PeerHost {
    return this.soloHosts.get(index) ?? this.hosts[index % this.hosts.length]
  }

  /** Device 0 (if live, and not `index` itself) and random other live devices. */
  private bootstrapFor (index: number): string[] {
    const first = this.devices.get(0)
    const firstLive = first?.state === 'live'
    const candidates = this.live().filter(d => d.index !== index && d.index !== 0)
    const chosen = this.bootstrapRnd.shuffle(candidates).slice(0, BOOTSTRAP_FANOUT - (firstLive ? 1 : 0))
    const list = [...(firstLive && index !== 0 && first != null ? [first] : []), ...chosen]
    return list.map(d => d.addrs[0]).filter((a): a is string => a != null)
  }

  /** Starts devices (new ones with `init`, else from their repos), grouped by host, all hosts at once. */
  async startDevices (indexes: number[], init: boolean): Promise<void> {
    const root = this.root
    if (root == null) throw new Error('the hosts were not started')
    const byHost = new Map<PeerHost, PeerStart[]>()
    for (const index of indexes) {
      const host = this.hostFor(index)
      const repo = join(root, `peer-${index}`)
      const device: Device = this.devices.get(index) ?? { index, host, repo, peerId: '', addrs: [], state: 'starting', joiner: index >= this.init.peers, returned: false }
      device.host = host
      device.state = 'starting'
      this.devices.set(index, device)
      const list = byHost.get(host) ?? []
      list.push({ index, repo, init, bootstrap: this.bootstrapFor(index) })
      byHost.set(host, list)
    }
    await Promise.all([...byHost].map(async ([host, peers]) => {
      try {
        const { peers: infos } = await host.call('startPeers', { peers })
        for (const info of infos) {
          const d = this.devices.get(info.index) as Device
          d.peerId = info.peerId
          d.addrs = info.addrs
          d.state = 'live'
        }
      } catch (err) {
        for (const p of peers) {
          const d = this.devices.get(p.index)
          if (d != null && d.state === 'starting') d.state = 'down'
        }
        throw err
      }
    }))
  }

  /** Starts the original devices: device 0 first, then waves of START_WAVE_SIZE per host; then waits until all are ready. */
  async startOriginals (): Promise<void> {
    const n = this.init.peers
    this.init.progress('start', 'starting peers', 0, n)
    await this.startDevices([0], true)
    const queues = this.allHosts().map(h => Array.from({ length: n }, (_, i) => i).filter(i => i !== 0 && this.hostFor(i) === h))
    while (queues.some(q => q.length > 0)) {
      this.init.signal?.throwIfAborted()
      const wave = queues.flatMap(q => q.splice(0, START_WAVE_SIZE))
      await this.startDevices(wave, true)
      this.init.progress('start', 'starting peers', this.devices.size, n)
    }
    await this.waitReady()
  }

  /** Waits until every live device has connections and sees subscribers of the job and probe topics, then for the meshes. */
  private async waitReady (): Promise<void> {
    const n = this.live().length
    const need = Math.min(MIN_READY_CONNECTIONS, n - 1)
    const timeoutMs = SWARM_READY_BASE_MS + SWARM_READY_PER_PEER_MS * n
    const until = performance.now() + timeoutMs
    while (true) {
      const reports = await Promise.all(this.allHosts().map(async h => await h.call('readiness', { topics: [JOBS_TOPIC, SIM_GOSSIP_TOPIC] })))
      const lagging = reports.flatMap(r => r.peers).filter(p => p.connections < need || p.subscribers < 1).length
      this.init.progress('connect', `connecting: ${n - lagging}/${n} peers ready`, n - lagging, n)
      if (lagging === 0) break
      if (performance.now() > until) throw new SimTimeoutError(`${lagging} of ${n} peers were not connected and subscribed within ${timeoutMs} ms`)
      await sleep(READY_POLL_MS, undefined, { signal: this.init.signal })
    }
    await sleep(MESH_SETTLE_MS, undefined, { signal: this.init.signal })
  }

  /** Stops a device in its host (it drops its connections first). */
  async stopDevice (d: Device): Promise<void> {
    d.state = 'stopping'
    try {
      await d.host.call('stopPeer', { index: d.index })
    } finally {
      d.state = 'down'
    }
  }

  /**
   * Kills a device in its one-device process with SIGKILL, after a snapshot
   * of its counters (what it ran counts in the report), which gets at most
   * CRASH_SNAPSHOT_TIMEOUT_MS. Resolves false when the snapshot was not read.
   */
  async crash (d: Device, host: ChildPeerHost): Promise<boolean> {
    d.state = 'stopping'
    try {
      const limit = deadline(CRASH_SNAPSHOT_TIMEOUT_MS)
      const snap = await raceAbort(host.call('snapshot', {}), limit.signal).catch(() => null)
      limit.clear()
      if (snap != null) {
        // the device is gone: nothing it holds or is connected to counts as live any more
        this.crashedSnapshots.push({ ...snap, peers: snap.peers.map(p => ({ ...p, live: false, connections: 0, routingTable: 0, bytesStored: 0, shards: 0 })) })
      }
      await host.crash()
      // only a process that is gone leaves the list: close() ends any other
      if (this.soloHosts.get(d.index) === host) this.soloHosts.delete(d.index)
      return snap != null
    } finally {
      d.state = 'down'
    }
  }

  /** Original devices gone now: the data layer keeps every shard while this stays below `replicas`. */
  away (): number {
    return this.all().filter(d => d.state !== 'live' && !d.joiner).length
  }

  /** How many peers a device is connected to, for a failure's reason. */
  async connectionsOf (d: Device): Promise<string> {
    try {
      const { peers } = await d.host.call('readiness', { topics: [JOBS_TOPIC] })
      const p = peers.find(x => x.index === d.index)
      if (p == null) return 'not running'
      const lived = p.closed > 0 ? `, lived ${(p.closedLifetimeP50Ms / 1000).toFixed(1)} s at the median` : ''
      return `${p.connections} connections (${p.opened} opened since its start, ${p.closed} closed${lived}), ${p.subscribers} peers seen on the jobs topic`
    } catch (err) {
      return `its host did not answer: ${(err as Error).message}`
    }
  }

  /** The snapshots of the shared hosts, and of the one-device processes (the crashed ones' taken before their kill). */
  async snapshots (): Promise<{ shared: HostSnapshot[], solo: HostSnapshot[] }> {
    const shared = await Promise.all(this.hosts.map(async h => await h.call('snapshot', {})))
    const running = await Promise.all([...this.soloHosts.values()].map(async h => await h.call('snapshot', {})))
    return { shared, solo: [...this.crashedSnapshots, ...running] }
  }

  /** Ends every host (stopping its peers) and removes the temp dir. Safe after a failed start. */
  async close (): Promise<void> {
    await Promise.allSettled(this.allHosts().map(async h => { await h.close() }))
    if (this.root != null) await rm(this.root, { recursive: true, force: true, maxRetries: 3 }).catch(() => {})
  }
}
