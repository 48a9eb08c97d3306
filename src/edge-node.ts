/**
 * The edge node: one edgeswarm peer with everything it runs, composed from the
 * layers below (node → data → functions/sandbox → jobs → scheduler).
 *
 * Owns start-up order and shutdown order, and the choice between a repo on
 * disk and an in-memory node. Never speaks a wire protocol itself.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { PeerId } from '@libp2p/interface'
import {
  createPeer, PeerWalker, Repo, parseSwarmKey,
  DEFAULT_INBOUND_CONNECTION_THRESHOLD, DEFAULT_MAX_CONNECTIONS, DEFAULT_TARGET_PEERS,
  type EdgePeer
} from './node/index.ts'

/** Where an in-memory node listens unless told otherwise: loopback, any port. */
export const IN_MEMORY_DEFAULT_LISTEN = ['/ip4/127.0.0.1/tcp/0']

export interface EdgeNodeOptions {
  /** Repo directory (created with `initRepo`); in memory when omitted. */
  repo?: string
  /** Listen multiaddrs; overrides the repo config. In memory default: 127.0.0.1, any port. */
  listen?: string[]
  /** Bootstrap multiaddrs (with /p2p/); overrides the repo config. */
  bootstrap?: string[]
  /** Swarm key (bytes, or `swarm.key` text); overrides the repo's swarm.key. */
  swarmKey?: Uint8Array | string
  /** mDNS discovery. Default: the repo config (on), or off for an in-memory node. */
  mdns?: boolean
  /** Connections to keep before random walks stop. */
  targetPeers?: number
  maxConnections?: number
  inboundConnectionThreshold?: number
}

export interface PeerSummary {
  id: string
  addresses: string[]
}

export interface NodeStatus {
  id: string
  addresses: string[]
  peers: number
  uptimeMs: number
  repo: string | null
  privateSwarm: boolean
}

export class EdgeNode {
  readonly libp2p: EdgePeer
  readonly repo: Repo | undefined
  private readonly walker: PeerWalker
  private readonly startedAt = Date.now()
  private stopping?: Promise<void>

  constructor (libp2p: EdgePeer, repo: Repo | undefined, walker: PeerWalker) {
    this.libp2p = libp2p
    this.repo = repo
    this.walker = walker
  }

  get peerId (): PeerId {
    return this.libp2p.peerId
  }

  get multiaddrs (): Multiaddr[] {
    return this.libp2p.getMultiaddrs()
  }

  /** Peers with an open connection, and the addresses we know for each. */
  peers (): PeerSummary[] {
    return this.libp2p.getPeers().map(id => ({
      id: id.toString(),
      addresses: this.libp2p.getConnections(id).map(c => c.remoteAddr.toString())
    }))
  }

  async status (): Promise<NodeStatus> {
    return {
      id: this.peerId.toString(),
      addresses: this.multiaddrs.map(ma => ma.toString()),
      peers: this.libp2p.getPeers().length,
      uptimeMs: Date.now() - this.startedAt,
      repo: this.repo?.paths.root ?? null,
      privateSwarm: this.repo?.swarmKey != null
    }
  }

  /** Stops everything in reverse start order; safe to call twice. */
  async stop (): Promise<void> {
    this.stopping ??= (async () => {
      this.walker.stop()
      try {
        await this.libp2p.stop()
      } finally {
        await this.repo?.close()
      }
    })()
    return this.stopping
  }
}

function toSwarmKey (key: Uint8Array | string | undefined): Uint8Array | undefined {
  if (key == null) return undefined
  return typeof key === 'string' ? parseSwarmKey(key) : key
}

/** Creates and starts an edge node. */
export async function createEdgeNode (options: EdgeNodeOptions = {}): Promise<EdgeNode> {
  const repo = options.repo != null ? await Repo.open(options.repo) : undefined
  try {
    const config = repo?.config
    const libp2p = await createPeer({
      privateKey: repo?.privateKey,
      datastore: repo?.datastore,
      listen: options.listen ?? config?.addresses.listen ?? IN_MEMORY_DEFAULT_LISTEN,
      bootstrap: options.bootstrap ?? config?.bootstrap ?? [],
      mdns: options.mdns ?? config?.discovery.mdns ?? false,
      swarmKey: toSwarmKey(options.swarmKey) ?? repo?.swarmKey,
      maxConnections: options.maxConnections ?? config?.limits.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
      inboundConnectionThreshold: options.inboundConnectionThreshold ?? config?.limits.inboundConnectionThreshold ?? DEFAULT_INBOUND_CONNECTION_THRESHOLD
    })
    const walker = new PeerWalker(libp2p, options.targetPeers ?? config?.discovery.targetPeers ?? DEFAULT_TARGET_PEERS)
    walker.start()
    return new EdgeNode(libp2p, repo, walker)
  } catch (err) {
    await repo?.close()
    throw err
  }
}
