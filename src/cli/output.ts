/**
 * cli/output: how the CLI speaks. Results on stdout, progress and errors on
 * stderr, one line per error, never a stack trace for a user mistake; output
 * files are written atomically. Never decides what a command prints.
 */
import { createWriteStream } from 'node:fs'
import { rename, rm } from 'node:fs/promises'
import { pipeline } from 'node:stream/promises'
import type { Readable, Transform } from 'node:stream'

/** Thrown for a user mistake found by the CLI itself (bad flag value, unreadable file). */
export class UsageError extends Error {
  override name = 'UsageError'
}

export function printJson (value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n')
}

/** One line on stderr, prefixed with the program name. */
export function printError (err: unknown): void {
  const e = err instanceof Error ? err : new Error(String(err))
  const message = e.message.split('\n')[0]
  process.stderr.write(`edgeswarm: ${message}\n`)
  if (process.env.EDGESWARM_DEBUG != null && e.stack != null) process.stderr.write(e.stack + '\n')
}

/**
 * Writes `source` to `file` through a temporary file renamed into place, so a
 * failed or partial download never replaces (or leaves) a file. A file-system
 * error is reported as a user mistake naming the file.
 */
export async function writeAtomically (file: string, source: Readable, through?: Transform): Promise<void> {
  const tmp = `${file}.partial-${process.pid}`
  try {
    if (through != null) await pipeline(source, through, createWriteStream(tmp))
    else await pipeline(source, createWriteStream(tmp))
    await rename(tmp, file)
  } catch (err) {
    await rm(tmp, { force: true })
    const code = (err as NodeJS.ErrnoException).code
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) throw new UsageError(`cannot write ${file}: ${code}`)
    throw err
  }
}
