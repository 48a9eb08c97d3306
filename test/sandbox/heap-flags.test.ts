/**
 * A process started with heap-size flags (the simulation's and the benchmark's
 * peer hosts are) still runs sandboxed WebAssembly: the sandbox's workers do
 * not inherit flags Node refuses for a worker.
 */
import { describe, it, expect } from 'vitest'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'

describe('sandbox workers under a host with heap flags', () => {
  it('runs a module in a process started with heap and stack flags (either spelling)', async () => {
    const child = fileURLToPath(new URL('./heap-flags-child.ts', import.meta.url))
    const args = ['--experimental-strip-types', '--disable-warning=ExperimentalWarning', '--max-old-space-size=256', '--max_semi_space_size=16', '--stack-size=2000', child]
    const out = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, args, { timeout: 30_000 }, (err, stdout, stderr) => {
        if (err != null) reject(new Error(`${err.message}\n${stderr}`)); else resolve(stdout)
      })
    })
    expect(out).toBe('heap flags ok')
  }, 40_000)
})
