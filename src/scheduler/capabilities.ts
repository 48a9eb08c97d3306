/**
 * What this peer can do (cpus, free memory, gpu, labels, functions, slots),
 * and whether a job's requirements fit it. Pure except for reading the OS.
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

/** Does a job's requirements fit these capabilities? */
export function fits (req: JobDocument['requirements'], caps: LocalCapabilities): boolean {
  if (req.gpu && !caps.gpu) return false
  if (req.minMemoryMB > caps.freeMemoryMB) return false
  return req.labels.every(l => caps.labels.includes(l))
}
