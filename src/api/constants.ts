/**
 * api/constants: the fixed parts of the RPC API's HTTP surface, shared by its
 * server and its client. Constants only.
 */

/** The path prefix of every command: `POST /api/v0/<command>`, as Kubo's RPC API. */
export const API_PREFIX = '/api/v0/'

/** Largest JSON request body accepted, so a caller cannot make the daemon buffer without bound (uploads stream and are not bounded by this). */
export const MAX_JSON_BODY_BYTES = 1024 * 1024

/** Blocks below their replica count for longer than this (ms) make a peer unhealthy: repair passes run every minute, so the swarm could not restore them. */
export const HEALTH_UNDER_REPLICATED_MS = 10 * 60_000

/** Storage for others used past this fraction of `storageMax` makes a peer unhealthy: it will soon refuse copies. */
export const HEALTH_STORAGE_FULL_FRACTION = 0.95

/** An event-loop delay past this (ms) in the last window makes a peer unhealthy: leases and gossip fall behind. */
export const HEALTH_EVENT_LOOP_STALL_MS = 2_000

/** How often (ms) a dashboard's event stream sends this peer's figures and the jobs. */
export const DASHBOARD_TICK_MS = 1_000

/** How often (ms) a dashboard's event stream sends the swarm table: it changes with the status gossip, every few seconds. */
export const DASHBOARD_SWARM_MS = 2_000

/** Event streams (open dashboard pages) served at once: each costs a view of every job per tick. */
export const MAX_EVENT_STREAMS = 16

/** Spans a job's task timeline holds at most: the page draws them all. */
export const MAX_TIMELINE_SPANS = 20_000
