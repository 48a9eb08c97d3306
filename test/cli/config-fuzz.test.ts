/**
 * config.json fuzzed through the real `edgeswarm daemon`: every bad value
 * (fast-check over every field: out of bounds, wrong type, bad address, unknown
 * key) is one line naming the file and the field and a non-zero exit, soon,
 * never a hang or a half-started peer; valid values start a daemon that stops
 * cleanly.
 */
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import { forEachLimit } from '../../src/async/index.ts'
import { useCleanup } from '../helpers.ts'
import { badField, validSettings, withValue } from '../node/config-fields.ts'
import { expectOneLineError, useCli } from './cli-process.ts'

/** Bad configs tried per run, and daemons at once. */
const BAD_SAMPLES = 10
const VALID_SAMPLES = 2
const AT_ONCE = 3
/** A refused config must end the process well within this. */
const REFUSAL_TIMEOUT_MS = 30_000

describe('config.json fuzz through `edgeswarm daemon`', () => {
  const t = useCleanup()
  const cli = useCli()

  async function template (dir: string): Promise<{ repo: (name: string, config: Record<string, unknown>) => Promise<string>, config: Record<string, unknown> }> {
    const tpl = join(dir, 'template')
    expect((await cli.run(['init', '--repo', tpl, '--listen', '/ip4/127.0.0.1/tcp/0'])).code).toBe(0)
    const config = JSON.parse(await readFile(join(tpl, 'config.json'), 'utf8')) as Record<string, unknown>
    return {
      config,
      repo: async (name, c) => {
        const repo = join(dir, name)
        await mkdir(repo, { mode: 0o700 })
        await copyFile(join(tpl, 'identity.key'), join(repo, 'identity.key'))
        await writeFile(join(repo, 'config.json'), JSON.stringify(c, null, 2))
        return repo
      }
    }
  }

  it('refuses every bad value with one line naming the field, and exits', async () => {
    const dir = await t.tempDir()
    const { repo, config } = await template(dir)
    const seed = Date.now() | 0
    const samples = fc.sample(fc.tuple(validSettings, badField), { numRuns: BAD_SAMPLES, seed })
    await forEachLimit(samples.map((s, i) => ({ s, i })), AT_ONCE, async ({ s: [settings, bad], i }) => {
      const c = withValue({ ...config, ...settings }, bad.field, bad.value)
      const r = await cli.run(['daemon', '--repo', await repo(`bad-${i}`, c), '--no-mdns'], { timeoutMs: REFUSAL_TIMEOUT_MS })
      const context = `seed ${seed}, sample ${i}: ${bad.field} = ${JSON.stringify(bad.value)}: ${r.stderr}`
      expect(r.signal, `hung: ${context}`).toBeNull()
      expectOneLineError(r, `config.json: ${bad.field}`)
      expect(r.stdout, context).not.toContain('daemon is ready')
    })
  }, 120_000)

  it('starts on every valid value and stops cleanly', async () => {
    const dir = await t.tempDir()
    const { repo, config } = await template(dir)
    const samples = fc.sample(validSettings, { numRuns: VALID_SAMPLES })
    await forEachLimit(samples.map((s, i) => ({ s, i })), AT_ONCE, async ({ s, i }) => {
      const path = await repo(`good-${i}`, { ...config, ...s })
      const d = await cli.daemon(path)
      d.child.kill('SIGTERM')
      expect(await d.exited, `${JSON.stringify(s)}: ${d.output()}`).toBe(0)
    })
  }, 120_000)
})
