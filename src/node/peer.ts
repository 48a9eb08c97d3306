/**
 * Assembles the libp2p peer every edgeswarm device runs: TCP + Noise + yamux,
 * identify, ping, a server-mode Kademlia DHT on edgeswarm's own protocol,
 * gossipsub with strict signing, bootstrap, optional mDNS, and the
 * private-swarm gate.
 *
 * Owns the libp2p configuration and the traps it must avoid (see
 * docs/ARCHITECTURE.md): DHT server mode, loopback/LAN addresses kept,
 * gossipsub's per-IP penalty off, per-host dial rate raised. Never knows about
 * data, jobs or the API; higher layers add their protocols through `services`.
 */
import { createLibp2p, type Libp2p, type ServiceFactoryMap } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@chainsafe/libp2p-noise'
import { yamuxHalfWindow } from './yamux-window.ts'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { kadDHT, passthroughMapper, type KadDHT } from '@libp2p/kad-dht'
import { gossipsub, type GossipSub } from '@libp2p/gossipsub'
import { bootstrap } from '@libp2p/bootstrap'
import { mdns } from '@libp2p/mdns'
import type { Identify } from '@libp2p/identify'
import type { Ping } from '@libp2p/ping'
import type { PeerDiscovery, PrivateKey, ServiceMap } from '@libp2p/interface'
import type { Datastore } from 'interface-datastore'
import {
  DEFAULT_INBOUND_CONNECTION_THRESHOLD, DEFAULT_MAX_CONNECTIONS, DHT_ALPHA, MAX_GOSSIP_MESH_DEGREE, DHT_DISCOVERY_TTL_MS, DHT_DISJOINT_PATHS, DHT_PROTOCOL, DHT_REQUEST_TIMEOUT_MAX_MS, DHT_REQUEST_TIMEOUT_MIN_MS
} from './constants.ts'
import { swarmPrologue } from './swarm-key.ts'
import { createHash } from 'node:crypto'
import { PeerRecordCache } from './peer-record-cache.ts'
import { withDiscoveryFilter } from './discovery-filter.ts'
import { withFastClosest } from './routing-table-closest.ts'
import { edgeswarmLogger } from './quiet-logger.ts'

/** The services every edgeswarm peer runs. */
export type BaseServices = {
  identify: Identify
  ping: Ping
  dht: KadDHT
  pubsub: GossipSub
}

export interface PeerInit<S extends ServiceMap = ServiceMap> {
  /** Ed25519 identity; a new one when omitted. */
  privateKey?: PrivateKey
  /** Datastore for peer store and DHT records; in memory when omitted. */
  datastore?: Datastore
  /** Multiaddrs to listen on. */
  listen: string[]
  /** Multiaddrs (with /p2p/) to dial at start. */
  bootstrap?: string[]
  /** mDNS discovery on the LAN. @default false */
  mdns?: boolean
  /** Pre-shared swarm key: peers without it cannot connect. */
  swarmKey?: Uint8Array
  /** @default DEFAULT_MAX_CONNECTIONS */
  maxConnections?: number
  /** Inbound connections accepted per second per host. @default DEFAULT_INBOUND_CONNECTION_THRESHOLD */
  inboundConnectionThreshold?: number
  /**
   * Peers outside its mesh a peer sends gossip (IHAVE lists of the message
   * ids it saw lately) to at each gossipsub heartbeat; 0 sends none, and the
   * mesh alone carries messages. Default: gossipsub's (6, or a quarter of the
   * topic's peers outside the mesh when more).
   */
  gossipLazyPeers?: number
  /**
   * Mesh peers a peer keeps per topic and forwards each message to
   * (gossipsub's D; the low and high water marks and the score and outbound
   * quotas follow from it, see gossipMeshParams). A message is also published
   * to every connected peer of its topic at once (flood publish), so in a swarm
   * where every peer is connected to every other, forwarding only duplicates:
   * at gossipsub's D of 6, an 8-peer swarm sent each fact ~40 times for 7
   * receivers, and forwarding was most of a peer's work in a job. Lower it for
   * small, fully connected swarms; keep the default where peers reach only part
   * of the swarm. Default: gossipsub's (6).
   */
  gossipMeshDegree?: number
  /**
   * How long (ms) a new connection may take to be set up (TCP, Noise, yamux),
   * dialling and answering alike. libp2p's defaults (6 s per address, 10 s per
   * dial, 10 s to answer) suit a responsive peer; a peer whose event loop turns
   * once in seconds (100 sim peers sharing a core) never finishes a handshake
   * within them, and a device restarted into such a swarm stayed alone.
   */
  handshakeTimeoutMs?: number
  /** Extra services (edgeswarm's own protocols) merged into libp2p's `services`. */
  services?: ServiceFactoryMap<S>
}

export type EdgePeer<S extends ServiceMap = ServiceMap> = Libp2p<BaseServices & S>

/**
 * Gossip messages are unsigned (gossipsub's StrictNoSign): what edgeswarm
 * gossips is signed already (a job fact carries its author's signature, and
 * every peer checks it, from gossip and from sync alike), so a second
 * signature per message only doubled the cost of every receipt, and of every
 * publish. A message's id is the sha256 of its bytes: copies forwarded by
 * other mesh peers are dropped by the duplicate cache before validation, and
 * the same fact reaching a peer twice is one message.
 */
export function gossipMsgId (msg: { data?: Uint8Array }): Uint8Array {
  return createHash('sha256').update(msg.data ?? EMPTY).digest()
}

/** gossipMsgId as a string, for gossipsub's duplicate check before decoding a message. */
export function gossipFastMsgId (msg: { data?: Uint8Array }): string {
  return createHash('sha256').update(msg.data ?? EMPTY).digest('base64')
}

const EMPTY = new Uint8Array(0)

/**
 * Smallest message (bytes) for which a receiver tells its other mesh peers
 * IDONTWANT (gossipsub 1.2). That pays off only when the duplicate it saves
 * costs more than the control message itself; gossipsub's default of 512 B
 * caught every job fact (~1 KB), so each receipt sent one more frame to each
 * mesh peer: in the 8-peer 50 ms-task benchmark 529 IDONTWANT sends beside
 * 1,110 message sends in a job, and without them messages sent did not rise.
 * Large facts (result batches near their 512 KiB limit) still get them.
 */
export const GOSSIP_IDONTWANT_MIN_BYTES = 16 * 1024

/**
 * gossipsub's mesh parameters for a mesh degree D: the low water mark 2/3 of
 * it (at least 1), the high 2D, as many best-scored peers kept on pruning as
 * the low mark, and fewer outbound-dialled mesh peers than the low mark (at
 * most D/2). For 6 that is gossipsub's own 4, 12, 4 (and 3 outbound, not 2).
 */
function gossipMeshParams (degree: number): { D: number, Dlo: number, Dhi: number, Dscore: number, Dout: number } {
  const Dlo = Math.max(1, Math.round(degree * 2 / 3))
  return { D: degree, Dlo, Dhi: 2 * degree, Dscore: Dlo, Dout: Math.min(Math.floor(degree / 2), Dlo - 1) }
}

/** Creates and starts an edgeswarm libp2p peer. */
export async function createPeer<S extends ServiceMap = ServiceMap> (init: PeerInit<S>): Promise<EdgePeer<S>> {
  if (init.gossipLazyPeers != null && !(Number.isSafeInteger(init.gossipLazyPeers) && init.gossipLazyPeers >= 0)) {
    throw new RangeError(`gossipLazyPeers must be a whole number >= 0, got ${String(init.gossipLazyPeers)}`)
  }
  if (init.gossipMeshDegree != null && !(Number.isSafeInteger(init.gossipMeshDegree) && init.gossipMeshDegree >= 1 && init.gossipMeshDegree <= MAX_GOSSIP_MESH_DEGREE)) {
    throw new RangeError(`gossipMeshDegree must be a whole number from 1 to ${MAX_GOSSIP_MESH_DEGREE}, got ${String(init.gossipMeshDegree)}`)
  }
  if (init.handshakeTimeoutMs != null && !(Number.isSafeInteger(init.handshakeTimeoutMs) && init.handshakeTimeoutMs > 0)) {
    throw new RangeError(`handshakeTimeoutMs must be a whole number of ms > 0, got ${String(init.handshakeTimeoutMs)}`)
  }
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- libp2p's discovery factories take its internal Components
  const peerDiscovery: Array<(components: any) => PeerDiscovery> = []
  if ((init.bootstrap?.length ?? 0) > 0) {
    peerDiscovery.push(bootstrap({ list: init.bootstrap ?? [], timeout: 1000 }))
  }
  if (init.mdns === true) {
    peerDiscovery.push(mdns({ serviceTag: 'edgeswarm.local', interval: 10_000 }))
  }
  const prologueBytes = init.swarmKey != null ? await swarmPrologue(init.swarmKey) : undefined
  const services = {
    identify: identify(),
    ping: ping(),
    // the DHT reports every peer of every answer as discovered: passed on once a minute per peer
    // and finds its closest peers in one pass (routing-table-closest.ts)
    dht: withDiscoveryFilter(withFastClosest(kadDHT({
      protocol: DHT_PROTOCOL,
      // every edgeswarm peer serves the DHT: devices on one LAN or one
      // machine never see a "public" address, so auto mode would stay client
      clientMode: false,
      // keep loopback and LAN addresses: a swarm on one LAN must work
      peerInfoMapper: passthroughMapper,
      // one path of alpha 3: lookups ask O(k + log n) peers, not most of the swarm
      alpha: DHT_ALPHA,
      disjointPaths: DHT_DISJOINT_PATHS,
      // a silent peer costs a lookup at most this long (see DHT_REQUEST_TIMEOUT_MAX_MS)
      networkDialTimeout: { minTimeout: DHT_REQUEST_TIMEOUT_MIN_MS, maxTimeout: DHT_REQUEST_TIMEOUT_MAX_MS }
    })), DHT_DISCOVERY_TTL_MS),
    pubsub: gossipsub({
      allowPublishToZeroTopicPeers: true,
      // many devices behind one IP (a NAT, one machine) must not be scored down
      scoreParams: { IPColocationFactorWeight: 0 },
      // the facts sign themselves: no second signature per message (see gossipMsgId)
      globalSignaturePolicy: 'StrictNoSign',
      msgIdFn: gossipMsgId,
      fastMsgIdFn: gossipFastMsgId,
      // IDONTWANT only where the duplicate it saves costs more than it does
      idontwantMinDataSize: GOSSIP_IDONTWANT_MIN_BYTES,
      ...(init.gossipLazyPeers != null ? { Dlazy: init.gossipLazyPeers, gossipFactor: 0 } : {}),
      ...(init.gossipMeshDegree != null ? gossipMeshParams(init.gossipMeshDegree) : {})
    }),
    ...(init.services ?? {})
  }
  // peer records cached in memory, written in batches (peer-record-cache.ts)
  const peerRecords = init.datastore != null ? new PeerRecordCache(init.datastore) : undefined
  const node = await createLibp2p<BaseServices & S>({
    privateKey: init.privateKey,
    datastore: peerRecords,
    logger: edgeswarmLogger(),
    addresses: { listen: init.listen },
    transports: [tcp()],
    connectionEncrypters: [noise(prologueBytes != null ? { prologueBytes } : {})],
    // window updates at half a window, not after every frame (yamux-window.ts)
    streamMuxers: [yamuxHalfWindow()],
    peerDiscovery,
    // No connection monitor. It pings every connection on a stream of its own (by default
    // every 10 s, aborting the connection when a ping fails). On loaded devices pings fail for
    // reasons that say nothing about the connection (the ping protocol's stream limit, a slow
    // event loop): on 50 peers sharing two cores it closed hundreds of healthy connections a
    // minute. Without aborting it only measured round-trip times nobody reads, and its pings
    // were ~5% of a host of 100 peers. yamux's keep-alive pings still probe every connection.
    connectionMonitor: { enabled: false },
    connectionManager: {
      maxConnections: init.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
      inboundConnectionThreshold: init.inboundConnectionThreshold ?? DEFAULT_INBOUND_CONNECTION_THRESHOLD,
      ...(init.handshakeTimeoutMs != null
        ? { dialTimeout: init.handshakeTimeoutMs, addressDialTimeout: init.handshakeTimeoutMs, inboundUpgradeTimeout: init.handshakeTimeoutMs }
        : {})
    },
    services: services as ServiceFactoryMap<BaseServices & S>
  })
  if (peerRecords != null) {
    // pending peer records reach the datastore before its owner closes it
    const stop = node.stop.bind(node)
    node.stop = async () => { await stop(); await peerRecords.flush() }
  }
  return node
}
