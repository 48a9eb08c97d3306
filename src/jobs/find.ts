/**
 * jobs/find: learning a job this peer does not know (a device that was off
 * when it was submitted). It syncs with up to FIND_SYNC_PEERS connected peers
 * at once; with no connection yet, or none that answers, it asks again on
 * each new connection and every FIND_RETRY_MS, until a peer has answered
 * (then a job none of them knows is unknown at once) or the signal ends the
 * wait, with the reason in the JobNotFoundError. Never waits without a limit.
 */
import { TimeoutError } from '@libp2p/interface'
import { FIND_RETRY_MS, FIND_SYNC_PEERS, JOB_FIND_TIMEOUT_MS } from './constants.ts'
import { JobNotFoundError } from './errors.ts'
import type { JobNetwork } from './components.ts'
import type { FactStore } from './fact-store.ts'
import type { JobSync } from './sync/job-sync.ts'

export interface FindComponents {
  network: Pick<JobNetwork, 'addEventListener' | 'removeEventListener'>
  store: Pick<FactStore, 'known'>
  sync: Pick<JobSync, 'syncWithConnected'>
}

/**
 * Resolves once job `id`'s document is held here, asking connected peers;
 * JobNotFoundError when a peer answered without it, or when the signal (by
 * default JOB_FIND_TIMEOUT_MS) times out. Any other abort rejects with the
 * signal's reason: that abort is the caller's own.
 */
export async function findJob (id: string, components: FindComponents, options: { signal?: AbortSignal } = {}): Promise<void> {
  const { network, store, sync } = components
  const known = (): boolean => store.known(id)?.doc != null
  if (known()) return
  const signal = options.signal ?? AbortSignal.timeout(JOB_FIND_TIMEOUT_MS)
  let asked = 0
  while (true) {
    const { asked: n, answered } = await sync.syncWithConnected(FIND_SYNC_PEERS, [id])
    asked += n
    if (known()) return
    if (answered > 0) throw new JobNotFoundError(`unknown job ${id}: none of the ${answered} peers asked knows it`)
    if (signal.aborted) {
      if (!isTimeout(signal.reason)) throw signal.reason
      throw new JobNotFoundError(`unknown job ${id}: ${asked === 0 ? 'this peer had no connection to ask' : `no peer answered (${asked} asked)`} before the time limit`)
    }
    await nextConnect(network, FIND_RETRY_MS, signal)
  }
}

/**
 * Whether an abort reason is a time limit: libp2p's TimeoutError, or the
 * DOMException that `AbortSignal.timeout` and `deadline` abort with (its name
 * is its kind, by the DOM standard: it has no class of its own to test).
 */
function isTimeout (reason: unknown): boolean {
  return reason instanceof TimeoutError || (reason instanceof DOMException && reason.name === 'TimeoutError')
}

/** Resolves when a peer connects, after `timeoutMs`, or when `signal` aborts. */
async function nextConnect (network: FindComponents['network'], timeoutMs: number, signal: AbortSignal): Promise<void> {
  await new Promise<void>(resolve => {
    const done = (): void => {
      clearTimeout(timer)
      network.removeEventListener('peer:connect', done)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, timeoutMs)
    network.addEventListener('peer:connect', done)
    signal.addEventListener('abort', done)
  })
}
