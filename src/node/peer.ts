/**
 * node/peer: assembles the libp2p peer every edgeswarm device runs: TCP, Noise
 * (with the private-swarm gate when a swarm key is given), yamux, identify,
 * ping, a server-mode Kademlia DHT on edgeswarm's own protocol, unsigned
 * gossipsub keyed by content, bootstrap and optional mDNS.
 *
 * Owns the libp2p configuration; each choice is a rule below, and its
 * measurement a decision record (docs/decisions/node-*.md). Never knows about
 * data, jobs or the API: higher layers add their protocols through `services`.
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
  BOOTSTRAP_DELAY_MS, DEFAULT_INBOUND_CONNECTION_THRESHOLD, DEFAULT_MAX_CONNECTIONS, DHT_ALPHA, DHT_DISCOVERY_TTL_MS,
  DHT_DISJOINT_PATHS, DHT_PROTOCOL, DHT_REQUEST_TIMEOUT_MAX_MS, DHT_REQUEST_TIMEOUT_MIN_MS, GOSSIP_IDONTWANT_MIN_BYTES,
  MAX_GOSSIP_MESH_DEGREE, MDNS_INTERVAL_MS, MDNS_SERVICE_TAG
} from './constants.ts'
import { swarmPrologue } from './swarm-key.ts'
import { createHash } from 'node:crypto'
import { PeerRecordCache } from './peer-record-cache.ts'
import { withDiscoveryFilter } from './discovery-filter.ts'
import { withFastClosest } from './routing-table-closest.ts'
import { edgeswarmLogger } from './quiet-logger.ts'
import { checkPeerAddresses } from './addresses.ts'
import { ConnectionDiagnostics, diagnosedEncrypter, type DiagnosticsComponents } from './connection-diagnostics.ts'
import type { NodeMetrics } from '../metrics/index.ts'

/** The services every edgeswarm peer runs. */
export type BaseServices = {
  identify: Identify
  ping: Ping
  dht: KadDHT
  pubsub: GossipSub
  /** Why connections fail: swarm keys, bootstrap addresses (see connection-diagnostics.ts). */
  diagnostics: ConnectionDiagnostics
}

/** A listen address could not be bound; `reason` says why (port in use, no such address). */
export class ListenError extends Error {
  override name = 'ListenError'
  readonly address: string
  readonly reason: string
  constructor (address: string, reason: string) {
    super(`cannot listen on ${address}: ${reason}`)
    this.address = address
    this.reason = reason
  }
}

/** libp2p's refusal to listen (several lines, advice about its own options) as one ListenError for the first address. */
function asListenError (err: unknown): unknown {
  if ((err as Error)?.name !== 'UnsupportedListenAddressesError') return err
  const m = /^\s+(\/\S+): (.*)$/m.exec((err as Error).message)
  if (m == null) return err
  const [, address, text] = m
  let reason = text.replace(/^\w*Error: /, '')
  if (/EADDRINUSE/.test(text)) reason = 'the port is in use by another process'
  else if (/EADDRNOTAVAIL/.test(text)) reason = 'this device has no such address'
  else if (/EACCES/.test(text)) reason = 'permission denied (ports below 1024 need privileges)'
  else if (/No transport/.test(text)) reason = 'only TCP addresses can be listened on'
  return new ListenError(address, reason)
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
   * Peers outside its mesh a peer sends gossip (IHAVE lists of the message ids
   * it saw lately) at each gossipsub heartbeat (gossipsub's D_lazy); 0 sends
   * none, and the mesh alone carries messages. Default: gossipsub's (6, or a
   * quarter of the topic's peers outside the mesh when more).
   */
  gossipLazyPeers?: number
  /**
   * Mesh peers a peer keeps per topic and forwards each message to
   * (gossipsub's D; the water marks and quotas follow from it, see
   * gossipMeshParams). A message is also published to every connected peer
   * of its topic at once (flood publish), so in a swarm where every peer is
   * connected to every other, mesh forwarding only sends duplicates: lower it
   * there, keep the default where peers reach only part of the swarm
   * (docs/decisions/node-crowded-host-options.md). Default: gossipsub's (6).
   */
  gossipMeshDegree?: number
  /**
   * How long (ms) a new connection may take to be set up (TCP, Noise, yamux),
   * dialling and answering alike. Raise it where a peer's event loop turns
   * only once in seconds (crowded hosts): a handshake needs several turns.
   * Default: libp2p's (6 s per address, 10 s per dial, 10 s to answer).
   */
  handshakeTimeoutMs?: number
  /**
   * Where libp2p, its services and gossipsub register their metrics (one
   * registry per node); none: no metrics, at no cost.
   */
  metrics?: NodeMetrics
  /** gossipsub's metrics label each topic with its name here (others: "unknown"), never the topic string itself. */
  gossipTopicLabels?: Map<string, string>
  /** Extra services (edgeswarm's own protocols) merged into libp2p's `services`. */
  services?: ServiceFactoryMap<S>
}

export type EdgePeer<S extends ServiceMap = ServiceMap> = Libp2p<BaseServices & S>

const EMPTY = new Uint8Array(0)

/**
 * A gossip message's id: the sha256 of its bytes. Gossip is unsigned
 * (StrictNoSign) because every job fact carries its author's signature, which
 * every peer checks from gossip and sync alike; with content ids the copies
 * other mesh peers forward are dropped by the duplicate cache before any
 * decoding (docs/decisions/node-gossip-unsigned-content-ids.md).
 */
function gossipMsgId (msg: { data?: Uint8Array }): Uint8Array {
  return createHash('sha256').update(msg.data ?? EMPTY).digest()
}

/** gossipMsgId as a string, for gossipsub's duplicate check before a message is decoded. */
function gossipFastMsgId (msg: { data?: Uint8Array }): string {
  return createHash('sha256').update(msg.data ?? EMPTY).digest('base64')
}

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

/**
 * Creates and starts an edgeswarm libp2p peer. A bad address is an
 * InvalidAddressError before anything starts; a peer that fails to start
 * (a port in use: ListenError) is stopped again, so it holds no port.
 */
export async function createPeer<S extends ServiceMap = ServiceMap> (init: PeerInit<S>): Promise<EdgePeer<S>> {
  checkPeerAddresses(init.listen, init.bootstrap ?? [])
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
    peerDiscovery.push(bootstrap({ list: init.bootstrap ?? [], timeout: BOOTSTRAP_DELAY_MS }))
  }
  if (init.mdns === true) {
    peerDiscovery.push(mdns({ serviceTag: MDNS_SERVICE_TAG, interval: MDNS_INTERVAL_MS }))
  }
  const prologueBytes = init.swarmKey != null ? await swarmPrologue(init.swarmKey) : undefined
  let diagnostics: ConnectionDiagnostics | undefined
  const services = {
    identify: identify(),
    ping: ping(),
    // the peers its answers name are announced once per DHT_DISCOVERY_TTL_MS (discovery-filter.ts),
    // and its routing table finds its closest peers in one pass and a sort (routing-table-closest.ts)
    dht: withDiscoveryFilter(withFastClosest(kadDHT({
      protocol: DHT_PROTOCOL,
      // every edgeswarm peer serves the DHT: devices on one LAN or one
      // machine never see a "public" address, so auto mode would stay client
      clientMode: false,
      // keep loopback and LAN addresses: a swarm on one LAN must work
      peerInfoMapper: passthroughMapper,
      // one path of alpha 3: a lookup asks O(k + log n) peers, not most of the swarm
      alpha: DHT_ALPHA,
      disjointPaths: DHT_DISJOINT_PATHS,
      // a silent peer costs a lookup at most this long (see DHT_REQUEST_TIMEOUT_MAX_MS)
      networkDialTimeout: { minTimeout: DHT_REQUEST_TIMEOUT_MIN_MS, maxTimeout: DHT_REQUEST_TIMEOUT_MAX_MS }
    })), DHT_DISCOVERY_TTL_MS),
    pubsub: gossipsub({
      // a peer without topic peers still publishes: its facts reach the others by sync
      allowPublishToZeroTopicPeers: true,
      // many devices behind one IP (a NAT, one machine) must not be scored down
      scoreParams: { IPColocationFactorWeight: 0 },
      // job facts carry their own signatures: no second one per message (see gossipMsgId)
      globalSignaturePolicy: 'StrictNoSign',
      msgIdFn: gossipMsgId,
      fastMsgIdFn: gossipFastMsgId,
      // IDONTWANT only where the duplicate it saves costs more than the control frame
      idontwantMinDataSize: GOSSIP_IDONTWANT_MIN_BYTES,
      ...(init.gossipLazyPeers != null ? { Dlazy: init.gossipLazyPeers, gossipFactor: 0 } : {}),
      ...(init.gossipMeshDegree != null ? gossipMeshParams(init.gossipMeshDegree) : {}),
      ...(init.metrics != null ? { metricsRegister: init.metrics.gossipsub, metricsTopicStrToLabel: init.gossipTopicLabels ?? new Map() } : {})
    }),
    diagnostics: (components: DiagnosticsComponents) => {
      diagnostics = new ConnectionDiagnostics(components, { bootstrap: init.bootstrap, privateSwarm: init.swarmKey != null })
      return diagnostics
    },
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
    // with a swarm key, a peer with another key or none fails the Noise handshake (swarm-key.ts)
    // every failed handshake is told to the diagnostics (connection-diagnostics.ts)
    connectionEncrypters: [diagnosedEncrypter(noise(prologueBytes != null ? { prologueBytes } : {}), () => diagnostics)],
    // window updates at half a window, not after every frame (yamux-window.ts)
    streamMuxers: [yamuxHalfWindow()],
    peerDiscovery,
    ...(init.metrics != null ? { metrics: () => init.metrics as NodeMetrics } : {}),
    // no connection monitor: on a loaded device its pings fail for reasons unrelated to the
    // connection and it aborts healthy ones; yamux's keep-alive pings still probe every
    // connection (docs/decisions/node-connection-monitor-off.md)
    connectionMonitor: { enabled: false },
    connectionManager: {
      maxConnections: init.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
      inboundConnectionThreshold: init.inboundConnectionThreshold ?? DEFAULT_INBOUND_CONNECTION_THRESHOLD,
      ...(init.handshakeTimeoutMs != null
        ? { dialTimeout: init.handshakeTimeoutMs, addressDialTimeout: init.handshakeTimeoutMs, inboundUpgradeTimeout: init.handshakeTimeoutMs }
        : {})
    },
    services: services as ServiceFactoryMap<BaseServices & S>,
    start: false
  })
  if (peerRecords != null) {
    // pending peer records reach the datastore before its owner closes it
    const stop = node.stop.bind(node)
    node.stop = async () => { await stop(); await peerRecords.flush() }
  }
  try {
    await node.start()
  } catch (err) {
    try { await node.stop() } catch { /* the start's error is the one to report */ }
    throw asListenError(err)
  }
  return node
}
