/**
 * Sandbox workers run at background priority, so the peer's own thread
 * (gossip, leases, transfers) is served first on a busy device.
 */
import { describe, it, expect } from 'vitest'
import { Worker } from 'node:worker_threads'
import { getPriority } from 'node:os'
import { SANDBOX_THREAD_NICENESS } from '../../src/sandbox/thread-priority.ts'

describe.runIf(process.platform === 'linux')('sandbox thread priority', () => {
  it('lowers the calling worker thread only, not the process or its main thread', async () => {
    const before = getPriority(process.pid)
    // the worker calls lowerThisThreadPriority, as the sandbox worker does at start
    const reply = await new Promise<{ ok: boolean, nice: number, tid: number }>((resolve, reject) => {
      const w = new Worker(new URL('./thread-priority-worker.ts', import.meta.url))
      w.once('message', (m: { ok: boolean, nice: number, tid: number }) => { resolve(m); void w.terminate() })
      w.once('error', reject)
    })
    expect(reply.ok).toBe(true)
    expect(reply.tid).not.toBe(process.pid)
    expect(reply.nice).toBe(SANDBOX_THREAD_NICENESS)
    expect(getPriority(process.pid)).toBe(before)
  })
})
