/**
 * jobs/runnability: whether any live peer can run a job, judged from what
 * peers say they can do (the swarm view's statuses, and this peer's own
 * capabilities): labels, free memory, a GPU and the named function (a
 * WebAssembly job runs on every peer). A job none can run gets a warning
 * naming the unmet requirement, with what the live peers have, instead of a
 * silent wait; it is not a failure, since a capable device may join.
 * Pure: never reads the network or the clock.
 */
import { MAX_WARNING_NAMES } from './constants.ts'
import type { JobDocument } from './spec.ts'

/** What a live peer says it can do, as the scheduler matches jobs against it. */
export interface RunnerStatus {
  id: string
  labels: readonly string[]
  /** Free memory, MB. */
  memoryMB: number
  gpu: boolean
  /** The named functions it runs. */
  functions: readonly string[]
}

function quoted (names: Iterable<string>): string {
  const sorted = [...new Set(names)].sort()
  const shown = sorted.slice(0, MAX_WARNING_NAMES).join(', ')
  return sorted.length > MAX_WARNING_NAMES ? `${shown} and ${sorted.length - MAX_WARNING_NAMES} more` : shown
}

function peersOf (n: number): string {
  return n === 1 ? '1 peer' : `${n} peers`
}

/**
 * Why none of `runners` can run `doc`, naming the first requirement none meets (a label,
 * the memory, a GPU, the function) or, when each is met by some peer, that none meets them
 * all; undefined when one can.
 */
export function unmetRequirement (doc: Pick<JobDocument, 'fn' | 'wasm' | 'requirements'>, runners: readonly RunnerStatus[]): string | undefined {
  const req = doc.requirements
  const runsFn = (r: RunnerStatus): boolean => doc.wasm != null || r.functions.includes(doc.fn)
  const hasLabels = (r: RunnerStatus): boolean => req.labels.every(l => r.labels.includes(l))
  const fits = (r: RunnerStatus): boolean => runsFn(r) && hasLabels(r) && (!req.gpu || r.gpu) && r.memoryMB >= req.minMemoryMB
  if (runners.some(fits)) return undefined
  const n = runners.length
  for (const label of req.labels) {
    if (!runners.some(r => r.labels.includes(label))) {
      const have = quoted(runners.flatMap(r => r.labels))
      return `no live peer has label '${label}' (${peersOf(n)}${have !== '' ? `: labels ${have}` : ', none with labels'})`
    }
  }
  if (req.gpu && !runners.some(r => r.gpu)) return `no live peer has a GPU (${peersOf(n)})`
  if (req.minMemoryMB > 0 && !runners.some(r => r.memoryMB >= req.minMemoryMB)) {
    return `no live peer has ${req.minMemoryMB} MB of free memory (${peersOf(n)}: at most ${Math.max(0, ...runners.map(r => r.memoryMB))} MB)`
  }
  if (!runners.some(runsFn)) return `no live peer runs function '${doc.fn}' (${peersOf(n)}: functions ${quoted(runners.flatMap(r => r.functions))})`
  const wants = [
    ...req.labels.map(l => `label '${l}'`),
    ...(req.gpu ? ['a GPU'] : []),
    ...(req.minMemoryMB > 0 ? [`${req.minMemoryMB} MB of free memory`] : []),
    `function '${doc.fn}'`
  ]
  return `no live peer has all of ${wants.join(', ')} (${peersOf(n)})`
}
