/**
 * The installed command: after `npm ci` (which builds in `prepare`) the
 * package's bin is an executable file that runs on its shebang, as
 * `npx edgeswarm` runs it.
 */
import { execFile } from 'node:child_process'
import { access, constants } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { describe, it, expect } from 'vitest'

const ROOT = new URL('../../', import.meta.url).pathname
const BIN = join(ROOT, 'dist/cli/main.js')

describe('the edgeswarm bin', () => {
  it('is built, executable, and prints its help', async () => {
    await expect(access(BIN, constants.X_OK), 'dist/cli/main.js must exist and be executable (npm ci builds it)').resolves.toBeUndefined()
    // the same PATH npm scripts get: the project's Node 22 first
    const env = { ...process.env, PATH: `${dirname(process.execPath)}:${join(ROOT, 'node_modules/.bin')}:${process.env.PATH ?? ''}` }
    const out = await new Promise<string>((resolve, reject) => {
      execFile(BIN, ['--help'], { env }, (err, stdout) => { if (err != null) reject(err); else resolve(stdout) })
    })
    expect(out).toMatch(/Usage: edgeswarm/)
    expect(out).toMatch(/daemon/)
  })
})
