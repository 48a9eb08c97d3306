/**
 * Helpers for job tests: a small connected swarm, and the local
 * (single-machine) computation a swarm result must equal.
 */
import { FunctionRegistry, builtinFunctions } from '../../src/functions/index.ts'
import type { EdgeNode, EdgeNodeOptions } from '../../src/index.ts'
import { JOBS_TOPIC } from '../../src/jobs/index.ts'
import { addrOf, waitFor } from '../helpers.ts'

type MakeNode = (options?: EdgeNodeOptions) => Promise<EdgeNode>

/** `n` in-memory peers bootstrapped to the first; waits until each sees at least `min(n-1, 2)` peers. */
export async function swarm (make: MakeNode, n: number, options: EdgeNodeOptions = {}, perNode: (i: number) => EdgeNodeOptions = () => ({})): Promise<EdgeNode[]> {
  const first = await make({ ...options, ...perNode(0) })
  const rest = await Promise.all(Array.from({ length: n - 1 }, async (_, i) => await make({ ...options, bootstrap: [addrOf(first)], ...perNode(i + 1) })))
  const nodes = [first, ...rest]
  await waitFor(() => nodes.every(x => x.peers().length >= Math.min(n - 1, 2)), 15_000)
  // let gossipsub meshes form
  await waitFor(() => nodes.every(x => x.libp2p.services.pubsub.getSubscribers(JOBS_TOPIC).length >= Math.min(n - 1, 2)), 10_000)
  return nodes
}

const local = new FunctionRegistry(builtinFunctions)

/** The single-machine computation: the function over the whole file as one task, then its reducer. */
export async function computeLocally (fn: string, text: string, params: Record<string, string> = {}): Promise<string> {
  const f = local.get(fn)
  const bytes = new TextEncoder().encode(text)
  const header = f.needsHeader ? (text.split('\n')[0] ?? null) : null
  const out = await f.run(bytes, params, { taskIndex: 0, taskCount: 1, header })
  return new TextDecoder().decode(await f.reduce([out], params))
}

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b)
