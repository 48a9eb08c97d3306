/**
 * metrics/gossipsub-register: gossipsub's own metrics interface
 * (`MetricsRegister`: gauges with collect hooks, histograms, avg/min/max)
 * over a prom-client registry. gossipsub does not take libp2p's Metrics; this
 * is how its figures (per-topic deliveries, mesh sizes, scores) reach a
 * node's registry. Never labels a figure with a peer id (gossipsub's labels
 * are topics, reasons and protocols).
 */
import { Gauge, Histogram, type Registry } from 'prom-client'
import type { MetricsRegister } from '@libp2p/gossipsub/metrics'

type Labels = Record<string, string | number>

export function gossipsubRegister (registry: Registry): MetricsRegister {
  const register = {
    gauge (config: { name: string, help: string, labelNames?: string[] }) {
      const collects: Array<(g: unknown) => void> = []
      const gauge = new Gauge({
        name: config.name,
        help: config.help,
        labelNames: config.labelNames ?? [],
        registers: [registry],
        collect () { for (const fn of collects) fn(gauge) }
      })
      return Object.assign(gauge, { addCollect: (fn: (g: unknown) => void) => { collects.push(fn) } })
    },
    histogram (config: { name: string, help: string, labelNames?: string[], buckets?: number[] }) {
      return new Histogram({ name: config.name, help: config.help, labelNames: config.labelNames ?? [], ...(config.buckets != null ? { buckets: config.buckets } : {}), registers: [registry] })
    },
    avgMinMax (config: { name: string, help: string, labelNames?: string[] }) {
      const gauge = new Gauge({ name: config.name, help: config.help, labelNames: [...(config.labelNames ?? []), 'stat'], registers: [registry] })
      return {
        set (a: Labels | number[], b?: number[]) {
          const [labels, values] = Array.isArray(a) ? [{}, a] : [a, b ?? []]
          if (values.length === 0) return
          let sum = 0
          let min = Infinity
          let max = -Infinity
          for (const v of values) { sum += v; if (v < min) min = v; if (v > max) max = v }
          gauge.set({ ...labels, stat: 'avg' }, sum / values.length)
          gauge.set({ ...labels, stat: 'min' }, min)
          gauge.set({ ...labels, stat: 'max' }, max)
        }
      }
    }
  }
  return register as unknown as MetricsRegister
}
