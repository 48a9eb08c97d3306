/**
 * The README's API example runs as written: its code block, with the package
 * name pointing at this source tree, run by Node in an empty directory, twice
 * (the first run creates the repo, the second opens it).
 */
import { execFile } from 'node:child_process'
import { readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it, expect } from 'vitest'
import { useCleanup } from './helpers.ts'

const README = new URL('../README.md', import.meta.url).pathname
const ENTRY = new URL('../src/index.ts', import.meta.url).pathname

/** The first ```ts block of the README's "## API" section. */
async function apiExample (): Promise<string> {
  const text = await readFile(README, 'utf8')
  const section = text.slice(text.indexOf('\n## API\n'))
  const block = /```ts\n([\s\S]*?)```/.exec(section)
  if (block == null) throw new Error('README.md has no ```ts block under ## API')
  return block[1]
}

function runNode (file: string, cwd: string): Promise<{ code: number, stdout: string, stderr: string }> {
  return new Promise(resolve => {
    execFile(process.execPath, [file], { cwd, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err == null ? 0 : (typeof err.code === 'number' ? err.code : 1), stdout, stderr })
    })
  })
}

describe('README', () => {
  const t = useCleanup()

  it('runs its API example as written', async () => {
    const code = await apiExample()
    expect(code).toContain("from 'edgeswarm'")
    const dir = await t.tempDir()
    const file = join(dir, 'example.ts')
    await writeFile(file, code.replace("from 'edgeswarm'", `from '${ENTRY}'`))
    for (let run = 0; run < 2; run++) {
      const r = await runNode(file, dir)
      expect(r.code, r.stderr).toBe(0)
      expect(r.stdout).toContain('"1\\n2\\n3\\n" 1 shard(s)')
      expect(r.stdout).toContain('1\n4\n9\n')
      expect(r.stdout.trim().split('\n').at(-1)).toBe('3')
    }
    // the repo the first run made, with the identity the second run kept
    const config = JSON.parse(await readFile(join(dir, 'data', 'config.json'), 'utf8')) as { identity: { peerId: string } }
    expect(config.identity.peerId).toMatch(/^12D3KooW/)
    expect((await stat(join(dir, 'data', 'identity.key'))).mode & 0o777).toBe(0o600)
  }, 120_000)
})
