/** Test helper: lowers its own thread's priority and reports the result. */
import { parentPort } from 'node:worker_threads'
import { getPriority } from 'node:os'
import { readlinkSync } from 'node:fs'
import { lowerThisThreadPriority } from '../../src/sandbox/thread-priority.ts'

const ok = lowerThisThreadPriority()
const tid = Number(readlinkSync('/proc/thread-self').split('/').pop())
parentPort?.postMessage({ ok, nice: getPriority(tid), tid })
