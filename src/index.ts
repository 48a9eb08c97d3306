/**
 * @packageDocumentation
 *
 * edgeswarm: a fully decentralized edge-computing network on libp2p.
 *
 * @example
 * ```ts
 * import { createEdgeNode } from 'edgeswarm'
 *
 * const node = await createEdgeNode({ repo: './data' })   // or {} for an in-memory node
 * console.log(node.peerId.toString(), node.multiaddrs.map(String))
 * await node.stop()
 * ```
 */
export { createEdgeNode, EdgeNode, IN_MEMORY_DEFAULT_LISTEN } from './edge-node.ts'
export type { EdgeNodeOptions, NodeStatus, PeerSummary } from './edge-node.ts'
export { initRepo, resolveRepoPath, generateSwarmKey, parseSwarmKey } from './node/index.ts'
export type { ConnectionProblem, EdgeConfig, InitOptions, TuningProfileName } from './node/index.ts'
export { NotFoundError, NotPutHereError, RemovedError, StorageFullError } from './data/index.ts'
export type { FileStat, FullListing, GcReport, HeldGroup, Pins, RemoveResult, RootListing, StorageStatus } from './data/index.ts'
export type { NodeMetrics, NodeMetricsInit } from './metrics/index.ts'
export type { PeerStatus, SwarmPeer, StatusServiceInit } from './status/index.ts'
