/**
 * Test fixtures: real edge nodes on 127.0.0.1 that are always stopped, and
 * temporary directories that are always removed, even when a test fails.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach } from 'vitest'
import { createEdgeNode, type EdgeNode, type EdgeNodeOptions } from '../src/index.ts'

const LOOPBACK = ['/ip4/127.0.0.1/tcp/0']

/** Registers cleanup for every node and temp dir a test makes. */
export function useCleanup (): {
  node: (options?: EdgeNodeOptions) => Promise<EdgeNode>
  tempDir: () => Promise<string>
  defer: (fn: () => Promise<void> | void) => void
} {
  const cleanups: Array<() => Promise<void> | void> = []
  afterEach(async () => {
    const fns = cleanups.splice(0).reverse()
    for (const fn of fns) {
      try { await fn() } catch { /* keep cleaning */ }
    }
  })
  return {
    node: async (options = {}) => {
      const n = await createEdgeNode({ listen: LOOPBACK, mdns: false, ...options })
      cleanups.push(async () => { await n.stop() })
      return n
    },
    tempDir: async () => {
      const dir = await mkdtemp(join(tmpdir(), 'edgeswarm-test-'))
      cleanups.push(async () => { await rm(dir, { recursive: true, force: true }) })
      return dir
    },
    defer: (fn) => { cleanups.push(fn) }
  }
}

/** The first TCP address of a node, with its /p2p/ suffix, for bootstrapping. */
export function addrOf (node: EdgeNode): string {
  const ma = node.multiaddrs.find(a => a.toString().includes('/tcp/'))
  if (ma == null) throw new Error('node has no TCP address')
  return ma.toString()
}

/** Polls `check` until it returns true or `timeoutMs` passes; returns the last value. */
export async function waitFor (check: () => boolean | Promise<boolean>, timeoutMs = 10_000, intervalMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return true
    await new Promise(resolve => setTimeout(resolve, intervalMs))
  }
  return check()
}
