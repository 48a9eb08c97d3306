/**
 * `edgeswarm train` and `model show` end to end, in child processes, as an
 * operator runs them: a training waited for as JSON, its model shown, its
 * rounds in `job status`, an inference over it with `submit`, and one clear
 * line for each mistake.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it, expect } from 'vitest'
import { useCleanup } from '../helpers.ts'
import { useCli, type CliResult } from './cli-process.ts'

const cli = useCli()

type Result = CliResult

/** A CLI command, run to its end (a training's `--wait` has no time limit of its own here). */
async function run (args: string[]): Promise<Result> {
  return await cli.run(args, { timeoutMs: 10 * 60_000 })
}

async function startDaemon (repo: string): Promise<void> {
  await cli.daemon(repo, ['--listen', '/ip4/127.0.0.1/tcp/0'])
}

function oneLineError (r: Result, pattern?: RegExp): void {
  expect(r.code).not.toBe(0)
  const lines = r.stderr.trim().split('\n')
  expect(lines).toHaveLength(1)
  expect(lines[0]).toMatch(/^edgeswarm: /)
  if (pattern != null) expect(lines[0]).toMatch(pattern)
  expect(r.stderr).not.toMatch(/\n\s+at /)
}

describe('edgeswarm train and model show', () => {
  const t = useCleanup()

  it('trains over a file, shows the model, its rounds and an inference over it; one line per mistake', async () => {
    const dir = await t.tempDir()
    const repo = join(dir, 'a')
    expect((await run(['init', '--repo', repo])).code).toBe(0)
    await startDaemon(repo)
    const rows = Array.from({ length: 200 }, (_, i) => `${(i % 17) / 4},${(i % 5) - 2},${((i % 17) / 4 * 2 + ((i % 5) - 2) * 0.5 + 1).toFixed(3)}`)
    const file = join(dir, 'readings.csv')
    await writeFile(file, ['temp,wind,hum', ...rows].join('\n') + '\n')
    const put = await run(['put', file, '--repo', repo, '--chunk-size', '1024'])
    expect(put.code, put.stderr).toBe(0)
    const cid = put.stdout.trim().split('\n').at(-1) as string

    const trained = await run(['train', 'linear', '--input', cid, '--label', 'hum', '--rounds', '4', '--lr', '0.05', '--standardize', '--wait', '--json', '--repo', repo])
    expect(trained.code, trained.stderr).toBe(0)
    const out = JSON.parse(trained.stdout) as { id: string, state: string, result: { model: string, rounds: number, loss: number[], classes: string[] } }
    expect(out.state).toBe('done')
    expect(out.result.rounds).toBe(4)
    expect(out.result.loss).toHaveLength(4)
    expect(out.result.loss[3]).toBeLessThan(out.result.loss[0])
    expect(out.result.classes).toEqual([])

    const shown = JSON.parse((await run(['model', 'show', out.result.model, '--json', '--repo', repo])).stdout) as { kind: string, features: string[], round: number, job: string, weights: number[][] }
    expect(shown).toMatchObject({ kind: 'linear', features: ['temp', 'wind'], round: 4, job: out.id })
    expect(shown.weights[0]).toHaveLength(3)
    const text = await run(['model', 'show', out.result.model, '--repo', repo])
    expect(text.stdout).toMatch(/^model: +bafy/m)
    expect(text.stdout).toMatch(/^features: +temp, wind$/m)

    const status = await run(['job', 'status', out.id, '--repo', repo])
    expect(status.stdout).toMatch(/pass 5\/5/)
    expect(status.stdout).toMatch(/round 3: loss /)

    const predicted = await run(['submit', 'predict', '--input', cid, '--param', `model=${out.result.model}`, '--wait', '--repo', repo])
    expect(predicted.code, predicted.stderr).toBe(0)
    expect(predicted.stdout.trim().split('\n')).toHaveLength(200)

    oneLineError(await run(['train', 'forest', '--input', cid, '--label', 'hum', '--repo', repo]), /unknown model kind "forest"/)
    oneLineError(await run(['train', 'linear', '--input', cid, '--label', 'pressure', '--repo', repo]), /label "pressure" is not a column/)
    oneLineError(await run(['train', 'linear', '--input', cid, '--label', 'hum', '--rounds', '0', '--repo', repo]), /rounds/)
    oneLineError(await run(['train', 'linear', '--input', cid, '--label', 'hum', '--lr', 'fast', '--repo', repo]), /--lr/)
    oneLineError(await run(['train', 'linear', '--input', cid, '--label', 'hum', '--lr', '-1', '--repo', repo]), /lr must be a finite number above 0/)
    oneLineError(await run(['train', 'linear', '--label', 'hum', '--repo', repo]), /--input/)
    oneLineError(await run(['train', 'linear', '--input', cid, '--label', 'hum', '--shards-per-task', '0', '--repo', repo]), /--shards-per-task/)
    oneLineError(await run(['train', 'linear', '--input', cid, '--label', 'hum', '--shards-per-task', '17', '--repo', repo]), /shardsPerTask: a task reads at most 16 shards/)
    oneLineError(await run(['model', 'show', cid, '--repo', repo]), /not a model/)
  }, 120_000)
})
