/**
 * api/health: whether this peer is healthy, as `GET /healthz` answers: a
 * pure judgement of a few figures against the limits in api/constants.ts.
 * Never reads the node itself (the caller gathers the figures).
 */
import { HEALTH_EVENT_LOOP_STALL_MS, HEALTH_STORAGE_FULL_FRACTION, HEALTH_UNDER_REPLICATED_MS } from './constants.ts'

export interface HealthFigures {
  connections: number
  routingTable: number
  underReplicated: number
  /** Since when repair passes have found under-replicated blocks (undefined: the last found none). */
  underReplicatedSince?: number
  storageUsed: number
  storageMax: number
  /** The event loop's longest delay in the last window, ms. */
  eventLoopMaxMs: number
}

export interface Health {
  status: 'ok' | 'unhealthy'
  /** Why it is unhealthy, one line each; empty when ok. */
  reasons: string[]
}

export function assessHealth (f: HealthFigures, now = Date.now()): Health {
  const reasons: string[] = []
  if (f.connections === 0) reasons.push('no peers: not connected to any peer')
  if (f.routingTable === 0) reasons.push('empty routing table: DHT lookups cannot run')
  if (f.underReplicated > 0 && f.underReplicatedSince != null && now - f.underReplicatedSince > HEALTH_UNDER_REPLICATED_MS) {
    reasons.push(`${f.underReplicated} blocks under-replicated for ${Math.round((now - f.underReplicatedSince) / 60_000)} min`)
  }
  if (f.storageMax > 0 && f.storageUsed / f.storageMax >= HEALTH_STORAGE_FULL_FRACTION) {
    reasons.push(`storage for other peers nearly full: ${Math.round(f.storageUsed / f.storageMax * 100)}% of ${f.storageMax} bytes`)
  }
  if (f.eventLoopMaxMs > HEALTH_EVENT_LOOP_STALL_MS) reasons.push(`event loop stalled: ${Math.round(f.eventLoopMaxMs)} ms in the last window`)
  return { status: reasons.length === 0 ? 'ok' : 'unhealthy', reasons }
}
