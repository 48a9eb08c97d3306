/**
 * @packageDocumentation
 *
 * metrics/: a node's Prometheus metrics. `NodeMetrics` is libp2p's
 * `Metrics` component over a prom-client Registry of the node's own, so
 * libp2p, gossipsub (`metrics.gossipsub`) and edgeswarm's layers register
 * their figures the libp2p way (`components.metrics?.registerCounter(...)`)
 * and several nodes in one process keep separate figures. The event loop's
 * delay is measured once per process (`watchEventLoop`, `eventLoopDelay`).
 *
 * @example
 * ```ts
 * import { NodeMetrics } from './metrics/index.ts'
 *
 * const metrics = new NodeMetrics()
 * const runs = metrics.registerCounter('edgeswarm_example_runs_total', { help: 'runs' })
 * runs.increment()
 * console.log((await metrics.exposition()).text)
 * ```
 *
 * Never imports anything of edgeswarm; never touches prom-client's global registry.
 */
export { NodeMetrics, type NodeMetricsInit, type Transfer } from './node-metrics.ts'
export { gossipsubRegister } from './gossipsub-register.ts'
export { processRegistry } from './process-registry.ts'
export { watchEventLoop, eventLoopDelay, type EventLoopDelay } from './event-loop.ts'
export { promName } from './prom-metrics.ts'
export { LATENCY_BUCKETS_SECONDS, PROMETHEUS_CONTENT_TYPE, EVENT_LOOP_WINDOW_MS } from './constants.ts'
