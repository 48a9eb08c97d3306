/**
 * sandbox/thread-priority: lowers the scheduling priority of the calling
 * thread, so sandboxed computation runs in the background of its device, as
 * volunteer-computing clients do. The peer's own thread (gossip, leases,
 * shard transfers) and the device's user come first; a busy sandbox still
 * gets every idle cycle (docs/decisions/sandbox-thread-priority.md). Linux
 * only (a thread has its own nice value there); elsewhere, or when not
 * permitted, it does nothing. Never changes the priority of another thread.
 */
import { readlinkSync } from 'node:fs'
import { setPriority } from 'node:os'

/** The nice value of a sandbox worker thread (0 normal, 19 lowest). */
export const SANDBOX_THREAD_NICENESS = 10

/** Sets this thread's nice value; returns whether it took effect. */
export function lowerThisThreadPriority (niceness = SANDBOX_THREAD_NICENESS): boolean {
  if (process.platform !== 'linux') return false
  try {
    // "<pid>/task/<tid>": setpriority on a thread id changes that thread only
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop())
    if (!Number.isSafeInteger(tid) || tid <= 0) return false
    setPriority(tid, niceness)
    return true
  } catch {
    return false
  }
}
