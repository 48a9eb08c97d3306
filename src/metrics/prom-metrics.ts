/**
 * metrics/prom-metrics: libp2p's metric interfaces (Metric, MetricGroup,
 * Counter, CounterGroup, Histogram, HistogramGroup, Summary, SummaryGroup)
 * over prom-client's gauges, counters, histograms and summaries, each
 * created in one given registry. A group is one metric with one label whose
 * values are the group's keys. Never registers anything beyond the registry
 * it is given.
 */
import { Counter as PromCounter, Gauge, Histogram as PromHistogram, Summary as PromSummary, type Registry } from 'prom-client'
import type {
  CalculateMetric, Counter, CounterGroup, Histogram, HistogramGroup, Metric, MetricGroup, StopTimer, Summary, SummaryGroup
} from '@libp2p/interface'
import { LATENCY_BUCKETS_SECONDS } from './constants.ts'

/** A Prometheus name or label from any string: what is not [a-zA-Z0-9_] becomes `_`, runs of `_` one. */
export function promName (name: string): string {
  return name.replace(/[^a-zA-Z0-9_]/g, '_').replace(/_+/g, '_')
}

/** What every kind is created with. */
export interface PromOptions {
  registry: Registry
  help?: string
  label?: string
  buckets?: number[]
  percentiles?: number[]
  maxAgeSeconds?: number
  ageBuckets?: number
  calculate?: CalculateMetric<number> | CalculateMetric<Record<string, number>>
}

const amount = (v: number | true | undefined): number => typeof v === 'number' ? v : 1

function base (name: string, opts: PromOptions, group: boolean): { name: string, help: string, labelNames: string[], registers: Registry[] } {
  const n = promName(name)
  const labelNames = group ? [promName(opts.label ?? 'key')] : opts.label != null ? [promName(opts.label)] : []
  return { name: n, help: opts.help ?? n, labelNames, registers: [opts.registry] }
}

export class GaugeMetric implements Metric {
  private readonly gauge: Gauge
  constructor (name: string, opts: PromOptions) {
    const calculate = opts.calculate as CalculateMetric<number> | undefined
    this.gauge = new Gauge({ ...base(name, opts, false), ...(calculate != null ? { async collect () { this.set(await calculate()) } } : {}) })
  }

  update (value: number): void { this.gauge.set(value) }
  increment (value = 1): void { this.gauge.inc(value) }
  decrement (value = 1): void { this.gauge.dec(value) }
  reset (): void { this.gauge.reset() }
  timer (): StopTimer { return this.gauge.startTimer() }
}

export class GaugeGroupMetric implements MetricGroup {
  private readonly gauge: Gauge
  private readonly label: string
  constructor (name: string, opts: PromOptions) {
    const b = base(name, opts, true)
    const label = this.label = b.labelNames[0]
    const calculate = opts.calculate as CalculateMetric<Record<string, number>> | undefined
    this.gauge = new Gauge({
      ...b,
      ...(calculate != null
        ? { async collect () { this.reset(); for (const [k, v] of Object.entries(await calculate())) this.set({ [label]: k }, v) } }
        : {})
    })
  }

  update (values: Partial<Record<string, number>>): void {
    for (const [k, v] of Object.entries(values)) if (v != null) this.gauge.set({ [this.label]: k }, v)
  }

  increment (values: Partial<Record<string, number | true>>): void {
    for (const [k, v] of Object.entries(values)) this.gauge.inc({ [this.label]: k }, amount(v))
  }

  decrement (values: Partial<Record<string, number | true>>): void {
    for (const [k, v] of Object.entries(values)) this.gauge.dec({ [this.label]: k }, amount(v))
  }

  reset (): void { this.gauge.reset() }
  timer (key: string): StopTimer { return this.gauge.startTimer({ [this.label]: key }) }
}

/**
 * A counter. A calculated one's `calculate` returns the running total (a
 * value that only grows), read at each scrape: the counters edgeswarm keeps
 * are plain numbers its layers increment, and a total is read twice safely.
 */
export class CounterMetric implements Counter {
  private readonly counter: PromCounter
  constructor (name: string, opts: PromOptions) {
    const calculate = opts.calculate as CalculateMetric<number> | undefined
    this.counter = new PromCounter({ ...base(name, opts, false), ...(calculate != null ? { async collect () { const v = await calculate(); this.reset(); this.inc(v) } } : {}) })
  }

  increment (value = 1): void { this.counter.inc(value) }
  reset (): void { this.counter.reset() }
}

/** A counter group; a calculated one's `calculate` returns each key's running total (see CounterMetric). */
export class CounterGroupMetric implements CounterGroup {
  private readonly counter: PromCounter
  private readonly label: string
  constructor (name: string, opts: PromOptions) {
    const b = base(name, opts, true)
    const label = this.label = b.labelNames[0]
    const calculate = opts.calculate as CalculateMetric<Record<string, number>> | undefined
    this.counter = new PromCounter({
      ...b,
      ...(calculate != null
        ? { async collect () { const values = await calculate(); this.reset(); for (const [k, v] of Object.entries(values)) this.inc({ [label]: k }, v) } }
        : {})
    })
  }

  increment (values: Partial<Record<string, number | true>>): void {
    for (const [k, v] of Object.entries(values)) this.counter.inc({ [this.label]: k }, amount(v))
  }

  reset (): void { this.counter.reset() }
}

export class HistogramMetric implements Histogram {
  private readonly histogram: PromHistogram
  constructor (name: string, opts: PromOptions) {
    const calculate = opts.calculate as CalculateMetric<number> | undefined
    this.histogram = new PromHistogram({
      ...base(name, opts, false),
      buckets: opts.buckets ?? LATENCY_BUCKETS_SECONDS,
      ...(calculate != null ? { async collect () { this.observe(await calculate()) } } : {})
    })
  }

  observe (value: number): void { this.histogram.observe(value) }
  reset (): void { this.histogram.reset() }
  timer (): StopTimer { return this.histogram.startTimer() }
}

export class HistogramGroupMetric implements HistogramGroup {
  private readonly histogram: PromHistogram
  private readonly label: string
  constructor (name: string, opts: PromOptions) {
    const b = base(name, opts, true)
    const label = this.label = b.labelNames[0]
    const calculate = opts.calculate as CalculateMetric<Record<string, number>> | undefined
    this.histogram = new PromHistogram({
      ...b,
      buckets: opts.buckets ?? LATENCY_BUCKETS_SECONDS,
      ...(calculate != null ? { async collect () { for (const [k, v] of Object.entries(await calculate())) this.observe({ [label]: k }, v) } } : {})
    })
  }

  observe (values: Partial<Record<string, number>>): void {
    for (const [k, v] of Object.entries(values)) if (v != null) this.histogram.observe({ [this.label]: k }, v)
  }

  reset (): void { this.histogram.reset() }
  timer (key: string): StopTimer { return this.histogram.startTimer({ [this.label]: key }) }
}

function summaryOptions (opts: PromOptions): { percentiles?: number[], maxAgeSeconds?: number, ageBuckets?: number } {
  return {
    ...(opts.percentiles != null ? { percentiles: opts.percentiles } : {}),
    ...(opts.maxAgeSeconds != null ? { maxAgeSeconds: opts.maxAgeSeconds } : {}),
    ...(opts.ageBuckets != null ? { ageBuckets: opts.ageBuckets } : {})
  }
}

export class SummaryMetric implements Summary {
  private readonly summary: PromSummary
  constructor (name: string, opts: PromOptions) {
    const calculate = opts.calculate as CalculateMetric<number> | undefined
    this.summary = new PromSummary({ ...base(name, opts, false), ...summaryOptions(opts), ...(calculate != null ? { async collect () { this.observe(await calculate()) } } : {}) })
  }

  observe (value: number): void { this.summary.observe(value) }
  reset (): void { this.summary.reset() }
  timer (): StopTimer { return this.summary.startTimer() }
}

export class SummaryGroupMetric implements SummaryGroup {
  private readonly summary: PromSummary
  private readonly label: string
  constructor (name: string, opts: PromOptions) {
    const b = base(name, opts, true)
    const label = this.label = b.labelNames[0]
    const calculate = opts.calculate as CalculateMetric<Record<string, number>> | undefined
    this.summary = new PromSummary({
      ...b,
      ...summaryOptions(opts),
      ...(calculate != null ? { async collect () { for (const [k, v] of Object.entries(await calculate())) this.observe({ [label]: k }, v) } } : {})
    })
  }

  observe (values: Partial<Record<string, number>>): void {
    for (const [k, v] of Object.entries(values)) if (v != null) this.summary.observe({ [this.label]: k }, v)
  }

  reset (): void { this.summary.reset() }
  timer (key: string): StopTimer { return this.summary.startTimer({ [this.label]: key }) }
}
