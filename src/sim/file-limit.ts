/**
 * sim/file-limit: checks, before any peer starts, that each host process may
 * open enough files. Every connection end is a file descriptor, and a peer
 * holds its LevelDB files too, so a host of a hundred peers needs thousands.
 * A soft limit too low would surface mid-run as EMFILE on some dial; this
 * says which `ulimit -n` to set instead. Linux only (reads
 * /proc/self/limits); elsewhere it checks nothing.
 */
import { readFileSync } from 'node:fs'
import { SimLimitError } from './errors.ts'

/** Descriptors a peer holds besides its connections (two LevelDBs, listener, pipes), with a margin. */
export const FILES_PER_PEER = 12

/** Connections run above `maxConnections` until the trimmer catches up: this factor, with a margin. */
const CONNECTION_OVERSHOOT = 1.25

/** Descriptors one host process of `peersPerHost` peers needs, with connections bounded by `maxConnections`. */
export function filesNeeded (peersPerHost: number, maxConnections: number, totalPeers: number): number {
  const connections = Math.min(maxConnections * CONNECTION_OVERSHOOT, totalPeers - 1)
  return Math.ceil(peersPerHost * (connections + FILES_PER_PEER))
}

/** The soft RLIMIT_NOFILE of this process (children inherit it), or undefined when unknown. */
export function openFileLimit (limitsText?: string): number | undefined {
  let text = limitsText
  if (text == null) {
    try { text = readFileSync('/proc/self/limits', 'utf8') } catch { return undefined }
  }
  const line = text.split('\n').find(l => l.startsWith('Max open files'))
  const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0]
  if (soft == null) return undefined
  if (soft === 'unlimited') return Infinity
  const n = Number.parseInt(soft, 10)
  return Number.isFinite(n) ? n : undefined
}

/** Throws SimLimitError when a host process of the run could not open the files it needs. */
export function checkFileLimit (peers: number, processes: number, maxConnections: number, limit = openFileLimit()): void {
  if (limit == null) return
  const perHost = Math.ceil(peers / processes)
  const needed = filesNeeded(perHost, maxConnections, peers)
  if (needed <= limit) return
  throw new SimLimitError(
    `${peers} peers in ${processes} process${processes === 1 ? '' : 'es'} need about ${needed} open files per process, ` +
    `and this shell allows ${limit}: run \`ulimit -n ${Math.ceil(needed * 1.2)}\` first (or use more --processes)`
  )
}
