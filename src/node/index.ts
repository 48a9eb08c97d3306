/**
 * @packageDocumentation
 *
 * node/: the peer layer of edgeswarm. The libp2p assembly (`createPeer`), the
 * repo on disk (`Repo`, `initRepo`) and its config, swarm keys for private
 * swarms, discovery beyond bootstrap (`PeerWalker`), room for newcomers
 * (`ConnectionTrimmer`), the gossipsub stream watchdog, and why connections
 * fail (`ConnectionDiagnostics`). Everything above
 * (data, jobs, the API) builds on an `EdgePeer`. Never knows about data, jobs
 * or the API.
 *
 * @example
 *
 * ```ts
 * import { createPeer } from './node/index.ts'
 *
 * const peer = await createPeer({ listen: ['/ip4/127.0.0.1/tcp/0'] })
 * console.log(peer.peerId.toString(), peer.getMultiaddrs().map(String))
 * await peer.stop()
 * ```
 */
export { createPeer, ListenError } from './peer.ts'
export type { BaseServices, EdgePeer, PeerInit } from './peer.ts'
export {
  Repo, initRepo, reinitRepo, repoPaths, resolveRepoPath, RepoExistsError, RepoFileError, RepoLockedError, RepoNotFoundError
} from './repo.ts'
export type { InitOptions, ReinitResult, RepoOpenOptions, RepoPaths } from './repo.ts'
export { ConfigSchema, checkFieldBounds, defaultConfig, parseConfig, InvalidConfigError } from './config.ts'
export type { ConfigFieldBounds, FieldBounds } from './config.ts'
export { InvalidAddressError, apiAddressProblem, bootstrapAddressProblem, listenAddressProblem } from './addresses.ts'
export { ConnectionDiagnostics } from './connection-diagnostics.ts'
export type { ConnectionProblem, ConnectionProblemKind, DiagnosticsComponents, DiagnosticsInit } from './connection-diagnostics.ts'
export { TUNING, TUNING_PROFILES, DEFAULT_TUNING_PROFILE, type TuningProfile, type TuningProfileName } from './tuning.ts'
export type { EdgeConfig } from './config.ts'
export { generateSwarmKey, parseSwarmKey, InvalidSwarmKeyError } from './swarm-key.ts'
export { PeerWalker } from './discovery.ts'
export type { WalkerComponents, WalkerInit } from './discovery.ts'
export { ConnectionTrimmer } from './connection-trimmer.ts'
export type { TrimmerComponents, TrimmerInit } from './connection-trimmer.ts'
export { GossipStreamWatchdog } from './gossip-streams.ts'
export type { WatchdogComponents } from './gossip-streams.ts'
export { connectedPeers, connectedPeerCount, isConnected } from './connected-peers.ts'
export {
  DEFAULT_API, DEFAULT_INBOUND_CONNECTION_THRESHOLD, DEFAULT_LISTEN, DEFAULT_MAX_CONNECTIONS, DEFAULT_TARGET_PEERS,
  DHT_PROTOCOL, EDGESWARM_VERSION, MAX_GOSSIP_MESH_DEGREE
} from './constants.ts'
