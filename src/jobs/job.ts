/**
 * jobs/job: `Job`, the handle a user holds on one job, on any peer: its
 * status, its progress (as `progress` events and as an async iterable of
 * views) and its verified final result. Never changes the job; it reads
 * through the service it came from.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { PROGRESS_INTERVAL_MS } from './constants.ts'
import type { JobView, RoundView } from './views.ts'

/** How long `events` waits for a change before it looks at the job again. */
const EVENTS_RECHECK_MS = 1_000

/** What a `Job` reads through: the job service. It dispatches a `change` event (detail: the job id) on every change of a job. */
export interface JobSource extends EventTarget {
  view: (id: string) => JobView
  nextChange: (id: string, timeoutMs: number, signal?: AbortSignal) => Promise<void>
  result: (id: string, options?: { signal?: AbortSignal }) => Promise<Uint8Array>
  cancel: (id: string, options?: { signal?: AbortSignal }) => Promise<JobView>
}

/**
 * A handle on one job. It dispatches a `progress` event (detail: the job's
 * view) at most once per PROGRESS_INTERVAL_MS while the job changes, the last
 * one when it is done, failed or canceled; and, for a training, a `round` event (detail:
 * the round's `RoundView`: its number, loss and model CID) for each round
 * accepted, in order, the rounds done before the first change included.
 */
export class Job extends EventTarget {
  readonly id: string
  private readonly source: JobSource

  constructor (id: string, source: JobSource) {
    super()
    this.id = id
    this.source = source
    // progress is coalesced: a burst of facts makes one event, not one each
    let timer: ReturnType<typeof setTimeout> | undefined
    let rounds = 0
    const emit = (): void => {
      timer = undefined
      const view = this.status()
      for (const round of view.rounds?.slice(rounds) ?? []) this.dispatchEvent(new CustomEvent<RoundView>('round', { detail: round }))
      rounds = Math.max(rounds, view.rounds?.length ?? 0)
      this.dispatchEvent(new CustomEvent<JobView>('progress', { detail: view }))
      if (view.status === 'done' || view.status === 'failed' || view.status === 'canceled') source.removeEventListener('change', onChange)
    }
    const onChange = (evt: Event): void => {
      if ((evt as CustomEvent<string>).detail !== id || timer != null) return
      timer = setTimeout(emit, PROGRESS_INTERVAL_MS)
    }
    source.addEventListener('change', onChange)
  }

  /** The job's view now. */
  status (): JobView {
    return this.source.view(this.id)
  }

  /** Progress views until the job is done, failed or canceled (the last one is terminal); each differs from the one before. */
  async * events (options: { signal?: AbortSignal } = {}): AsyncGenerator<JobView> {
    let last = ''
    while (true) {
      const view = this.status()
      const key = JSON.stringify(view)
      if (key !== last) { last = key; yield view }
      if (view.status === 'done' || view.status === 'failed' || view.status === 'canceled') return
      await this.source.nextChange(this.id, EVENTS_RECHECK_MS, options.signal)
      // coalesce bursts of facts into one view
      await sleep(PROGRESS_INTERVAL_MS)
    }
  }

  /** The job's final result bytes, verified; JobFailedError if it failed (JobCanceledError, a JobFailedError, if it was canceled). */
  async result (options: { signal?: AbortSignal } = {}): Promise<Uint8Array> {
    return await this.source.result(this.id, options)
  }

  /**
   * Cancels the job on every peer (a signed `cancel` fact): queued tasks are dropped, running
   * ones aborted, and it ends `canceled`. Only its submitter may (CancelRefusedError).
   */
  async cancel (options: { signal?: AbortSignal } = {}): Promise<JobView> {
    return await this.source.cancel(this.id, options)
  }
}
