/**
 * sim/progress: the phases of a run and how a run tells its caller what it
 * is doing (`onProgress`) and is told to stop (`signal`). Types and one
 * adapter; never prints anything itself.
 */

import type { SimReport } from './report.ts'

export type SimPhase = 'start' | 'connect' | 'load' | 'dht' | 'gossip' | 'job' | 'verify' | 'teardown'

/** What the run is doing now, for a progress line. */
export interface SimProgress {
  phase: SimPhase
  message: string
  done?: number
  total?: number
}

export interface SimHooks {
  onProgress?: (progress: SimProgress) => void
  /** Aborting stops the run; every peer and process is still cleaned up. */
  signal?: AbortSignal
  /**
   * Serve the dashboard of a live device (one the fault plan never kills),
   * read-only on 127.0.0.1: `onReady` gets its URL once the swarm is up, and
   * after the report the run waits for `keepUp` (given the report) before it
   * tears the swarm down, so the swarm can be looked at.
   */
  dashboard?: {
    onReady: (url: string) => void
    keepUp: (report: SimReport) => Promise<void>
  }
}

/** How the parts of a run report progress: a phase, a message, and a count when there is one. */
export type Progress = (phase: SimPhase, message: string, done?: number, total?: number) => void

/** The `Progress` function that forwards to `hooks.onProgress`, if any. */
export function progressTo (hooks: SimHooks): Progress {
  return (phase, message, done, total) => {
    hooks.onProgress?.({ phase, message, ...(done != null ? { done } : {}), ...(total != null ? { total } : {}) })
  }
}
