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
