/**
 * metrics/event-loop: the delay of this process's event loop, measured once
 * per process (perf_hooks' monitorEventLoopDelay) however many nodes it
 * hosts, since they all share the loop. Figures describe the last complete
 * window of EVENT_LOOP_WINDOW_MS, so a stall stays visible for a window and
 * then ages out. Started by the first node that asks, stopped when the last
 * one lets go; its timer never keeps the process alive.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks'
import { EVENT_LOOP_RESOLUTION_MS, EVENT_LOOP_WINDOW_MS } from './constants.ts'

/** Event-loop delay over the last window, in ms. */
export interface EventLoopDelay {
  p50Ms: number
  p99Ms: number
  maxMs: number
}

const NS_PER_MS = 1e6
const NONE: EventLoopDelay = { p50Ms: 0, p99Ms: 0, maxMs: 0 }

let histogram: IntervalHistogram | undefined
let timer: ReturnType<typeof setInterval> | undefined
let users = 0
let last: EventLoopDelay | undefined

function read (h: IntervalHistogram): EventLoopDelay {
  if (h.count === 0) return NONE
  // the monitor counts its own resolution as delay: what exceeds it is the loop's
  const over = (ns: number): number => Math.max(0, ns / NS_PER_MS - EVENT_LOOP_RESOLUTION_MS)
  return { p50Ms: over(h.percentile(50)), p99Ms: over(h.percentile(99)), maxMs: over(h.max) }
}

/** Starts the monitor (once per process); returns the function that lets go of it. */
export function watchEventLoop (): () => void {
  users++
  if (histogram == null) {
    const h = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS })
    h.enable()
    histogram = h
    timer = setInterval(() => { last = read(h); h.reset() }, EVENT_LOOP_WINDOW_MS)
    timer.unref()
  }
  let released = false
  return () => {
    if (released) return
    released = true
    if (--users > 0) return
    clearInterval(timer)
    histogram?.disable()
    histogram = undefined
    timer = undefined
    last = undefined
  }
}

/** The event-loop delay of the last complete window (the current one before the first ends); zeros while nobody watches. */
export function eventLoopDelay (): EventLoopDelay {
  if (histogram == null) return NONE
  return last ?? read(histogram)
}
