/**
 * How the CLI speaks: results on stdout, progress and errors on stderr, one
 * line per error, never a stack trace for a user mistake.
 */

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
