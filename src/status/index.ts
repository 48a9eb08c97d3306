/**
 * @packageDocumentation
 *
 * status/: the swarm-wide view with no central server. `StatusService`
 * publishes this peer's signed status (`PeerStatus`: version, uptime,
 * connections, routing table, blocks and storage, under-replication, task
 * slots and load, event-loop delay, labels and capabilities) about every 10 s
 * on gossipsub, and keeps the latest status of every peer it hears from,
 * stale after a few missed intervals and dropped after more, so any peer
 * can show the whole swarm. Sits just above node/: it uses the pubsub, the
 * peer's key and a `collect()` callback the node composes.
 *
 * @example
 * ```ts
 * import { StatusService } from './status/index.ts'
 *
 * const status = new StatusService({ peerId, privateKey, pubsub, logger, collect: () => myStatus() })
 * status.start()
 * console.log(status.table().map(p => [p.id, p.connections, p.stale]))
 * status.stop()
 * ```
 *
 * Never knows about data, jobs or the API.
 */
export { StatusService, type StatusServiceComponents, type StatusServiceInit, type StatusPubSub, type SwarmPeer, type StatusStats } from './status-service.ts'
export { PeerStatusSchema, signStatus, openStatus, type PeerStatus, type SignedStatus } from './status-message.ts'
export { InvalidStatusError } from './errors.ts'
export {
  STATUS_TOPIC, DEFAULT_STATUS_INTERVAL_MS, MAX_STATUS_RATE_PER_S, MAX_STATUS_INTERVAL_MS, STATUS_STALE_INTERVALS, STATUS_EXPIRY_INTERVALS, MAX_STATUS_BYTES, MAX_STATUS_PEERS,
  MAX_STATUS_LABELS, MAX_STATUS_FUNCTIONS, STATUS_NAME_MAX_CHARS
} from './constants.ts'
