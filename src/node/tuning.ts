/**
 * node/tuning: the named tuning profiles of a node (`tuning` in config.json and
 * in `EdgeNodeOptions`), every value of every profile in the one table below.
 *
 * A profile holds plain numbers for settings of several layers (peer, data,
 * jobs, scheduler), so that the config can name it and `createEdgeNode` can
 * apply it without this layer importing the layers above. A setting a profile
 * leaves out is its layer's own default; a field set in config.json or an
 * option wins over the profile. Never holds a setting that depends on the size
 * of the swarm (connection limits are fields of their own), and the `default`
 * profile sets nothing: it is what a daemon and an in-memory node run with.
 */

/** The profiles a config or an option may name. */
export const TUNING_PROFILES = ['default', 'crowded'] as const
export type TuningProfileName = typeof TUNING_PROFILES[number]

/** The profile of a config or a node that names none. */
export const DEFAULT_TUNING_PROFILE: TuningProfileName = 'default'

/** What a profile may set; each setting it leaves out is its layer's default. */
export interface TuningProfile {
  /** How long (ms) a connection may take to be set up, dialling and answering (peer layer). */
  handshakeTimeoutMs?: number
  /** Peers outside the mesh sent gossip (IHAVE lists) each heartbeat (gossipsub's D_lazy; peer layer). */
  gossipLazyPeers?: number
  /** Provider announcements a peer starts per second (data layer). */
  provideRatePerSecond?: number
  /** How often (ms) a peer checks the other holders of its blocks (data layer). */
  repairIntervalMs?: number
  /** How often (ms) a peer runs job anti-entropy with one connected peer (jobs layer). */
  jobSyncIntervalMs?: number
  /** Stagger (ms) of stealing and of reopened tasks per rendezvous rank (scheduler). */
  stealRankStepMs?: number
}

/*
 * The `crowded` profile: for hosts whose event loop takes seconds a turn, as
 * when a hundred peers share a core or a device is slow. Everything on a timer
 * then runs late, and every message a peer sends costs a turn of a saturated
 * loop somewhere; so each value below gives slow peers the time they need, or
 * spends less of their CPU on work the swarm can do without.
 */

/**
 * crowded: 60 s to set up a connection. A Noise handshake needs several turns
 * of both event loops; with libp2p's 6-10 s a device that starts among
 * saturated hosts reaches no peer at all.
 */
export const CROWDED_HANDSHAKE_TIMEOUT_MS = 60_000

/**
 * crowded: no lazy gossip. A late heartbeat's IHAVE window spans everything
 * since the last one, and a peer whose loop is behind asks (IWANT) for nearly
 * every message again, which makes every loop later still. The mesh carries
 * every message and the job sync repairs what it misses.
 */
export const CROWDED_GOSSIP_LAZY_PEERS = 0

/**
 * crowded: one provider announcement in 50 s per peer. Each is a lookup and
 * 20 ADD_PROVIDER messages that a saturated swarm does not finish in time;
 * blocks are placed on their closest peers, which a lookup for the key reaches
 * without any announcement.
 */
export const CROWDED_PROVIDE_RATE_PER_S = 0.02

/**
 * crowded: a repair pass every 5 min. A pass asks the other holders of every
 * block whether they still hold it; a loss of fewer than `replicas` holders
 * leaves copies to repair from, and announcements are retried on their own.
 */
export const CROWDED_REPAIR_INTERVAL_MS = 300_000

/** crowded: job anti-entropy every 6 s: every sync costs both peers a walk of their job state. */
export const CROWDED_JOB_SYNC_INTERVAL_MS = 6_000

/**
 * crowded: 1 s per rendezvous rank before an idle peer steals a task. The
 * next-ranked peer must see the claim before its turn comes, and gossip takes
 * seconds there; a shorter step draws many claims per task.
 */
export const CROWDED_STEAL_RANK_STEP_MS = 1_000

/** Every profile, by name: the one table of tuning values. */
export const TUNING: Readonly<Record<TuningProfileName, Readonly<TuningProfile>>> = {
  default: {},
  crowded: {
    handshakeTimeoutMs: CROWDED_HANDSHAKE_TIMEOUT_MS,
    gossipLazyPeers: CROWDED_GOSSIP_LAZY_PEERS,
    provideRatePerSecond: CROWDED_PROVIDE_RATE_PER_S,
    repairIntervalMs: CROWDED_REPAIR_INTERVAL_MS,
    jobSyncIntervalMs: CROWDED_JOB_SYNC_INTERVAL_MS,
    stealRankStepMs: CROWDED_STEAL_RANK_STEP_MS
  }
}
