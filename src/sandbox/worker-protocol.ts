/**
 * sandbox/worker-protocol: the messages between runWasm and the worker that hosts a module.
 * Types only; shared by both sides so they cannot drift.
 */

import type { WasmModule } from './webassembly.ts'

export interface WorkerJob {
  /** the module, compiled from the vetted bytes with its memory capped */
  module: WasmModule
  input: Uint8Array
  args: string[]
  maxOutputBytes: number
  maxStderrTailBytes: number
}

export type WorkerOutcome =
  | { kind: 'ok', stdout: Uint8Array }
  | { kind: 'exit', code: number, stderr: string, memoryPages: number }
  | { kind: 'trap', message: string, stderr: string, memoryPages: number }
  | { kind: 'output-limit', stderr: string }
  | { kind: 'invalid', message: string }
