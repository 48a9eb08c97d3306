/**
 * status/constants: the status gossip's topic, timing and limits, each with
 * its rule and reason. Plain values only; never imports anything.
 */

/** The gossipsub topic every peer publishes its status on. */
export const STATUS_TOPIC = 'edgeswarm/status/1'

/** What a status signature covers besides the body, so a status and a job fact can never stand for each other. */
export const STATUS_SIGNING_PREFIX = 'edgeswarm/status/1\n'

/** How often (ms) a peer publishes its status at least: each costs every peer a message, a check and a few hundred bytes. */
export const DEFAULT_STATUS_INTERVAL_MS = 10_000

/**
 * Statuses a peer receives per second at most, from the whole swarm: a peer
 * publishes no more often than every (peers in its table / this) seconds, so
 * the status traffic of a device stays bounded whatever the swarm's size.
 */
export const MAX_STATUS_RATE_PER_S = 10

/** Longest publishing interval a status may announce (ms): a peer that claimed more would stay in every table for hours. */
export const MAX_STATUS_INTERVAL_MS = 10 * 60_000

/** Spread of the publishing period (each wait is the interval times 1 ± STATUS_JITTER / 2), so peers started together do not publish together. */
export const STATUS_JITTER = 0.2

/** A peer's first status goes out this long (ms) after it starts: time to connect and subscribe, so the first is not published to nobody. */
export const STATUS_FIRST_DELAY_MS = 1_000

/** A peer not heard from for this many intervals is shown as stale: one or two lost messages, or a host busy for a while. */
export const STATUS_STALE_INTERVALS = 2.5

/** A peer not heard from for this many intervals leaves the table: it is gone, or cut off from this peer. */
export const STATUS_EXPIRY_INTERVALS = 6

/** Largest status message accepted: the schema's bounds fit in it, and a larger one is refused before it is decoded. */
export const MAX_STATUS_BYTES = 4 * 1024

/** Peers the table holds at most: the memory it takes is bounded whatever the swarm's size; past it, new authors wait for a place. */
export const MAX_STATUS_PEERS = 10_000

/** Labels and function names a status carries at most, each at most STATUS_NAME_MAX_CHARS: what the scheduler needs fits well below. */
export const MAX_STATUS_LABELS = 32
export const MAX_STATUS_FUNCTIONS = 32
export const STATUS_NAME_MAX_CHARS = 64

/** A status stamped further ahead than this (ms) is ignored: its author's clock is wrong, and it would stay newest for that long. */
export const MAX_STATUS_CLOCK_SKEW_MS = 60_000

/** Statuses this process has decoded and verified, by the hash of their bytes: peers sharing a process check each once. */
export const MAX_VERIFIED_STATUSES = 4_096
