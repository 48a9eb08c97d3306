/**
 * metrics/process-registry: the figures of this process (CPU, memory, heap,
 * GC, handles, event-loop lag: prom-client's default metrics), collected once
 * per process in a registry of their own, since every node the process hosts
 * shares them. Never touches prom-client's global registry.
 */
import { Registry, collectDefaultMetrics } from 'prom-client'
import { EVENT_LOOP_RESOLUTION_MS } from './constants.ts'

let registry: Registry | undefined

/** The process's registry, started on first use. */
export function processRegistry (): Registry {
  if (registry == null) {
    registry = new Registry()
    collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_RESOLUTION_MS })
  }
  return registry
}
