/**
 * cli/progress: progress bars on stderr, only when stderr is a terminal (never
 * in pipes, logs or `--json` output).
 */
import cliProgress from 'cli-progress'

export interface Progress {
  update: (value: number, total?: number) => void
  stop: () => void
}

const NOOP: Progress = { update: () => {}, stop: () => {} }

/** A bar of rounds with the current loss, or a no-op off a TTY (see Progress; `update` also takes the loss). */
export function roundsBar (total: number): { update: (value: number, total?: number, loss?: number) => void, stop: () => void } {
  if (process.stderr.isTTY !== true) return NOOP
  const bar = new cliProgress.SingleBar({
    stream: process.stderr,
    format: 'train [{bar}] round {value}/{total} | loss {loss}',
    hideCursor: true,
    clearOnComplete: true
  }, cliProgress.Presets.shades_classic)
  bar.start(Math.max(total, 1), 0, { loss: '-' })
  return {
    update: (value, newTotal, loss) => {
      if (newTotal != null) bar.setTotal(Math.max(newTotal, 1))
      bar.update(value, { loss: loss != null ? loss.toPrecision(6) : '-' })
    },
    stop: () => { bar.stop() }
  }
}

/** A bar of `total` units (bytes when `bytes`, else `unit`), or a no-op off a TTY. */
export function progressBar (label: string, total: number, bytes = false, unit = 'tasks'): Progress {
  if (process.stderr.isTTY !== true) return NOOP
  const bar = new cliProgress.SingleBar({
    stream: process.stderr,
    format: bytes
      ? `${label} [{bar}] {percentage}% | {valueMiB}/{totalMiB} MiB`
      : `${label} [{bar}] {percentage}% | {value}/{total} {unit}`,
    hideCursor: true,
    clearOnComplete: true
  }, cliProgress.Presets.shades_classic)
  const mib = (n: number): string => (n / (1024 * 1024)).toFixed(1)
  bar.start(Math.max(total, 1), 0, { valueMiB: mib(0), totalMiB: mib(total), unit })
  return {
    update: (value, newTotal) => {
      if (newTotal != null) bar.setTotal(Math.max(newTotal, 1))
      bar.update(value, { valueMiB: mib(value), totalMiB: mib(newTotal ?? total) })
    },
    stop: () => { bar.stop() }
  }
}

/**
 * A follower of a job's views that writes its warning (why no live peer can run it) to
 * stderr when it appears or changes, and one line when it clears, whether or not stderr
 * is a terminal: a job waiting on nobody must never look like a silent hang.
 */
export function warningPrinter (id: string): (view: { warning?: string, status: string }) => void {
  let shown: string | undefined
  return (view) => {
    const warning = view.status === 'queued' || view.status === 'running' ? view.warning : undefined
    if (warning === shown) return
    if (warning != null) process.stderr.write(`edgeswarm: job ${id} waits: ${warning}\n`)
    else if (view.status === 'queued' || view.status === 'running') process.stderr.write(`edgeswarm: job ${id}: a peer that can run it is live\n`)
    shown = warning
  }
}
