/**
 * metrics/node-metrics: one node's metrics. `NodeMetrics` is libp2p's
 * `Metrics` component over a prom-client Registry of the node's own: libp2p
 * and its services, gossipsub (through `gossipsub`) and edgeswarm's layers
 * register into it, and it counts the bytes of every connection and of
 * every protocol's streams. Many nodes in one process (a simulation host)
 * keep separate figures, since names are looked up in this node's registry
 * only; process-wide figures (CPU, memory, GC) come from one registry per
 * process (process-registry.ts) and are added to the exposition.
 *
 * Never touches prom-client's global registry, and never labels a figure
 * with a peer, task or job id.
 */
import { Registry, Counter as PromCounter } from 'prom-client'
import type {
  CalculatedHistogramOptions, CalculatedMetricOptions, CalculatedSummaryOptions, Counter, CounterGroup, Histogram, HistogramGroup,
  HistogramOptions, Metric, MetricGroup, MetricOptions, Metrics, MessageStream, MultiaddrConnection, Stream, Summary, SummaryGroup, SummaryOptions
} from '@libp2p/interface'
import type { MetricsRegister } from '@libp2p/gossipsub/metrics'
import { PROMETHEUS_CONTENT_TYPE } from './constants.ts'
import { gossipsubRegister } from './gossipsub-register.ts'
import { processRegistry } from './process-registry.ts'
import {
  CounterGroupMetric, CounterMetric, GaugeGroupMetric, GaugeMetric, HistogramGroupMetric, HistogramMetric, SummaryGroupMetric, SummaryMetric, type PromOptions
} from './prom-metrics.ts'

export interface NodeMetricsInit {
  /** Where the node's figures go. @default a new Registry */
  registry?: Registry
  /** Add the process's figures (CPU, memory, GC, event loop) to the exposition. @default true */
  processMetrics?: boolean
}

/** Bytes one connection kind or protocol moved, each way. */
export interface Transfer {
  sent: number
  received: number
}

type Factory = new (name: string, opts: PromOptions) => unknown

export class NodeMetrics implements Metrics {
  readonly registry: Registry
  /** Bytes moved by all connections (`global`) and by each protocol's streams, since the node started. */
  readonly transfer = new Map<string, Transfer>()
  private readonly byName = new Map<string, unknown>()
  private readonly processMetrics: boolean
  private gossipsubMetrics?: MetricsRegister

  constructor (init: NodeMetricsInit = {}) {
    this.registry = init.registry ?? new Registry()
    this.processMetrics = init.processMetrics ?? true
    const transfer = this.transfer
    // eslint-disable-next-line no-new -- registered in the node's registry, read at each scrape
    new PromCounter({
      name: 'libp2p_data_transfer_bytes_total',
      help: 'Bytes moved by all connections (protocol "global") and by each protocol\'s streams',
      labelNames: ['protocol', 'direction'],
      registers: [this.registry],
      collect () {
        this.reset()
        for (const [protocol, t] of transfer) {
          this.inc({ protocol, direction: 'sent' }, t.sent)
          this.inc({ protocol, direction: 'received' }, t.received)
        }
      }
    })
  }

  readonly [Symbol.toStringTag] = 'edgeswarm:node-metrics'

  /** gossipsub's metrics register over this node's registry (gossipsub's own interface, not libp2p's). */
  get gossipsub (): MetricsRegister {
    this.gossipsubMetrics ??= gossipsubRegister(this.registry)
    return this.gossipsubMetrics
  }

  /** Bytes all connections moved (`global`), or one protocol's streams. */
  bytes (name = 'global'): Transfer {
    return this.transfer.get(name) ?? { sent: 0, received: 0 }
  }

  /** The Prometheus text exposition: this node's figures, then the process's. */
  async exposition (): Promise<{ contentType: string, text: string }> {
    const own = await this.registry.metrics()
    const proc = this.processMetrics ? await processRegistry().metrics() : ''
    return { contentType: PROMETHEUS_CONTENT_TYPE, text: proc === '' ? own : `${own}\n${proc}` }
  }

  trackMultiaddrConnection (maConn: MultiaddrConnection): void {
    this.track(maConn, 'global')
  }

  trackProtocolStream (stream: Stream): void {
    if (stream.protocol != null) this.track(stream, stream.protocol)
  }

  /**
   * Counts the bytes a stream sends and the message events it dispatches,
   * without adding a `message` listener: a stream dispatches buffered data
   * only once it has one, and a listener added here would consume data before
   * the protocol's handler reads it.
   */
  private track (stream: MessageStream, name: string): void {
    let t = this.transfer.get(name)
    if (t == null) { t = { sent: 0, received: 0 }; this.transfer.set(name, t) }
    const totals = t
    const dispatch = stream.dispatchEvent.bind(stream)
    stream.dispatchEvent = (evt: Event): boolean => {
      if (evt.type === 'message') totals.received += (evt as Event & { data: { byteLength: number } }).data.byteLength
      return dispatch(evt)
    }
    const send = stream.send.bind(stream)
    stream.send = (buf) => {
      totals.sent += buf.byteLength
      return send(buf)
    }
  }

  /** One object per name in this node: a second registration of a name gets the first's (a calculated one, nothing). */
  private register (kind: Factory, name: string, opts: MetricOptions & { calculate?: unknown } = {}): unknown {
    if (name.trim() === '') throw new Error('a metric needs a name')
    const existing = this.byName.get(name)
    if (existing != null) return opts.calculate != null ? undefined : existing
    const metric = new kind(name, { ...(opts as Omit<PromOptions, 'registry'>), registry: this.registry })
    this.byName.set(name, metric)
    return opts.calculate != null ? undefined : metric
  }

  registerMetric (name: string, opts: CalculatedMetricOptions): void
  registerMetric (name: string, opts?: MetricOptions): Metric
  registerMetric (name: string, opts?: MetricOptions): Metric | undefined {
    return this.register(GaugeMetric, name, opts) as Metric | undefined
  }

  registerMetricGroup (name: string, opts: CalculatedMetricOptions<Record<string, number>>): void
  registerMetricGroup (name: string, opts?: MetricOptions): MetricGroup
  registerMetricGroup (name: string, opts?: MetricOptions): MetricGroup | undefined {
    return this.register(GaugeGroupMetric, name, opts) as MetricGroup | undefined
  }

  registerCounter (name: string, opts: CalculatedMetricOptions): void
  registerCounter (name: string, opts?: MetricOptions): Counter
  registerCounter (name: string, opts?: MetricOptions): Counter | undefined {
    return this.register(CounterMetric, name, opts) as Counter | undefined
  }

  registerCounterGroup (name: string, opts: CalculatedMetricOptions<Record<string, number>>): void
  registerCounterGroup (name: string, opts?: MetricOptions): CounterGroup
  registerCounterGroup (name: string, opts?: MetricOptions): CounterGroup | undefined {
    return this.register(CounterGroupMetric, name, opts) as CounterGroup | undefined
  }

  registerHistogram (name: string, opts: CalculatedHistogramOptions): void
  registerHistogram (name: string, opts?: HistogramOptions): Histogram
  registerHistogram (name: string, opts?: HistogramOptions): Histogram | undefined {
    return this.register(HistogramMetric, name, opts) as Histogram | undefined
  }

  registerHistogramGroup (name: string, opts: CalculatedHistogramOptions<Record<string, number>>): void
  registerHistogramGroup (name: string, opts?: HistogramOptions): HistogramGroup
  registerHistogramGroup (name: string, opts?: HistogramOptions): HistogramGroup | undefined {
    return this.register(HistogramGroupMetric, name, opts) as HistogramGroup | undefined
  }

  registerSummary (name: string, opts: CalculatedSummaryOptions): void
  registerSummary (name: string, opts?: SummaryOptions): Summary
  registerSummary (name: string, opts?: SummaryOptions): Summary | undefined {
    return this.register(SummaryMetric, name, opts) as Summary | undefined
  }

  registerSummaryGroup (name: string, opts: CalculatedSummaryOptions<Record<string, number>>): void
  registerSummaryGroup (name: string, opts?: SummaryOptions): SummaryGroup
  registerSummaryGroup (name: string, opts?: SummaryOptions): SummaryGroup | undefined {
    return this.register(SummaryGroupMetric, name, opts) as SummaryGroup | undefined
  }

  createTrace (): undefined {
    return undefined
  }

  traceFunction<F extends (...args: any[]) => any> (_name: string, fn: F): F { // eslint-disable-line @typescript-eslint/no-explicit-any
    return fn
  }
}
