/**
 * scheduler/capabilities: what this peer can do (cpus, free memory, gpu,
 * labels, slots), and whether a job's requirements fit it. A peer checks
 * every job against its own capabilities: it never claims a task it cannot
 * run. Pure except for reading the OS; never announces anything.
 */
import { availableParallelism, freemem } from 'node:os'
import type { JobDocument } from '../jobs/index.ts'

export interface LocalCapabilities {
  cpus: number
  /** Free memory now, in MB. */
  freeMemoryMB: number
  gpu: boolean
  labels: string[]
  /** Tasks this peer runs at once. */
  slots: number
}

/** This peer's capabilities as the OS reports them (slots: one per CPU), with `overrides` applied. */
export function detectCapabilities (overrides: Partial<LocalCapabilities> = {}): LocalCapabilities {
  const cpus = availableParallelism()
  return {
    cpus,
    freeMemoryMB: Math.floor(freemem() / (1024 * 1024)),
    gpu: false,
    labels: [],
    slots: cpus,
    ...overrides
  }
}

/** Whether a job's requirements fit these capabilities. */
export function fits (req: JobDocument['requirements'], caps: LocalCapabilities): boolean {
  if (req.gpu && !caps.gpu) return false
  if (req.minMemoryMB > caps.freeMemoryMB) return false
  return req.labels.every(l => caps.labels.includes(l))
}
