/**
 * @packageDocumentation
 *
 * The peer layer of edgeswarm: the libp2p assembly (`createPeer`), the repo
 * on disk (`Repo`, `initRepo`), config, swarm keys and discovery. Everything
 * above (data, jobs, API) builds on an `EdgePeer`.
 */
export * from './constants.ts'
export * from './config.ts'
export { TUNING, TUNING_PROFILES, DEFAULT_TUNING_PROFILE, type TuningProfile, type TuningProfileName } from './tuning.ts'
export * from './repo.ts'
export * from './swarm-key.ts'
export * from './peer.ts'
export * from './discovery.ts'
export * from './connection-trimmer.ts'
export * from './gossip-streams.ts'
export * from './connected-peers.ts'
