/**
 * metrics/constants: the limits and defaults of edgeswarm's metrics, each
 * with its rule and reason. Plain values only; never imports anything.
 */

/** Resolution (ms) of the process's event-loop delay monitor: finer costs a timer wake-up per period, coarser hides short stalls. */
export const EVENT_LOOP_RESOLUTION_MS = 20

/** The event-loop delay figures describe this window (ms), so a stall shows for a while and an old one ages out. */
export const EVENT_LOOP_WINDOW_MS = 10_000

/** Buckets (seconds) of latency histograms: a fetch or a task spans milliseconds on a quiet LAN to tens of seconds on a crowded host. */
export const LATENCY_BUCKETS_SECONDS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

/** The Prometheus text format's content type, as prom-client writes it. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'
