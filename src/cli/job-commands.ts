/**
 * cli/job-commands: `submit`, `job status|watch|result|ls|cancel` and `fn ls`, jobs
 * through the daemon's API. Owns their flags and output; never opens the repo
 * itself.
 */
import { createReadStream } from 'node:fs'
import { stat as fsStat } from 'node:fs/promises'
import { Readable } from 'node:stream'
import { InvalidArgumentError, type Command } from 'commander'
import type { ApiClient } from '../api/client.ts'
import type { JobView } from '../jobs/index.ts'
// the constants module alone: the CLI must not load the peer stack to print its help
import { DEFAULT_MAX_ATTEMPTS, MAX_SHARDS_PER_TASK } from '../jobs/constants.ts'
import type { FunctionInfo } from '../functions/index.ts'
import { collect, parseDuration, parsePositiveInt } from './args.ts'
import { UsageError, printJson, writeAtomically } from './output.ts'
import { progressBar, warningPrinter } from './progress.ts'
import { daemonClient, repoOption } from './repo-option.ts'

interface Opts { repo?: string, json?: boolean }

function parseParam (value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf('=')
  if (eq <= 0) throw new InvalidArgumentError(`bad param "${value}": expected key=value`)
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) }
}

/** The line a job ended without a result says (canceled, or failed with its reason). */
export function endedLine (kind: string, id: string, v: JobView): string {
  if (v.canceled != null) return `${kind} ${id} was canceled by ${v.canceled.by} at ${new Date(v.canceled.at).toISOString()}`
  return `${kind} ${id} failed: ${v.reason ?? 'unknown reason'}`
}

function describe (v: JobView): string {
  const parts = [`${v.status}`, `${v.done}/${v.total} tasks done`]
  if (v.canceled != null) parts.push(`canceled by ${v.canceled.by} at ${new Date(v.canceled.at).toISOString()}`)
  if (v.passes != null) parts.push(`pass ${Math.min(v.passes.done + 1, v.passes.count)}/${v.passes.count}`)
  const round = v.rounds?.at(-1)
  if (round != null) parts.push(`round ${round.round}: loss ${round.loss}`)
  if (v.running > 0) parts.push(`${v.running} running`)
  if (v.retried > 0) parts.push(`${v.retried} retried`)
  if (v.reason != null) parts.push(v.reason)
  if (v.deadline != null && (v.status === 'queued' || v.status === 'running')) parts.push(`deadline ${new Date(v.deadline).toISOString()}`)
  if (v.warning != null) parts.push(`warning: ${v.warning}`)
  return parts.join(', ')
}

/** Follows a job until it is done or failed, with a bar on a TTY; returns the last view. */
async function follow (api: ApiClient, id: string, quiet: boolean): Promise<JobView> {
  let last: JobView | undefined
  const bar = quiet ? undefined : progressBar('job', 1)
  const warn = warningPrinter(id)
  try {
    for await (const ev of api.events<JobView & { type: string }>('job/watch', { arg: id })) {
      last = ev
      warn(ev)
      bar?.update(ev.done, ev.total)
    }
  } finally {
    bar?.stop()
  }
  if (last == null) throw new Error(`no progress received for job ${id}`)
  return last
}

async function fetchResult (api: ApiClient, id: string): Promise<Uint8Array> {
  const res = await api.request('job/result', { arg: id })
  return new Uint8Array(await res.arrayBuffer())
}

export function addJobCommands (program: Command): void {
  program.command('submit')
    .description('submit a job; prints its id (with --wait: a progress bar, then the result)')
    .argument('<fn>', 'function name (see `edgeswarm fn ls`); with --wasm, the program name')
    .addOption(repoOption())
    .option('--input <cid>', 'input file root CID (repeatable)', collect)
    .option('--param <key=value>', 'parameter (repeatable)', parseParam)
    .option('--redundancy <k>', 'distinct peers per task; majority wins (default 1)', parsePositiveInt)
    .option('--wasm <file>', 'run this WebAssembly (WASI) module, sandboxed, instead of a named function')
    .option('--priority <p>', 'realtime or batch (default batch)')
    .option('--label <label>', 'only peers with this label (repeatable)', collect)
    .option('--min-memory <mb>', 'only peers with this much free memory (MB)', parsePositiveInt)
    .option('--gpu', 'only peers with a GPU')
    .option('--max-attempts <n>', `failures per task before the job fails (default ${DEFAULT_MAX_ATTEMPTS})`, parsePositiveInt)
    .option('--deadline <duration>', 'fail the job unless done within this long of its submit (10m, 2h, 1d)', parseDuration)
    .option('--shards-per-task <n>', `consecutive input shards one task reads, 1 to ${MAX_SHARDS_PER_TASK} (default 1)`, parsePositiveInt)
    .option('--wait', 'wait for the result and print it')
    .option('--json', 'print {"id","state"} (with --wait also "result")')
    .action(async (fn: string, opts: Opts & {
      input?: string[], param?: Record<string, string>, redundancy?: number, wasm?: string, priority?: string,
      label?: string[], minMemory?: number, gpu?: boolean, maxAttempts?: number, deadline?: number, shardsPerTask?: number, wait?: boolean
    }) => {
      if (opts.priority != null && opts.priority !== 'realtime' && opts.priority !== 'batch') {
        throw new UsageError(`bad --priority "${opts.priority}": realtime or batch`)
      }
      if ((opts.input ?? []).length === 0) throw new UsageError('a job needs at least one --input CID')
      const api = await daemonClient(opts)
      let wasm: string | undefined
      if (opts.wasm != null) {
        try {
          if (!(await fsStat(opts.wasm)).isFile()) throw new Error('not a file')
        } catch (err) {
          throw new UsageError(`cannot read ${opts.wasm}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
        }
        // the module is the job's, not a file of the user's: `ls` does not list it
        for await (const ev of api.events<{ type: string, cid?: string }>('put', { listed: false }, createReadStream(opts.wasm))) {
          if (ev.type === 'done') wasm = ev.cid
        }
      }
      const spec = {
        fn,
        inputs: opts.input ?? [],
        params: opts.param,
        redundancy: opts.redundancy,
        wasm,
        priority: opts.priority as 'realtime' | 'batch' | undefined,
        maxAttempts: opts.maxAttempts,
        deadlineMs: opts.deadline,
        shardsPerTask: opts.shardsPerTask,
        requirements: { labels: opts.label, minMemoryMB: opts.minMemory, gpu: opts.gpu }
      }
      const submitted = await api.call<{ id: string, state: string }>('submit', {}, JSON.stringify(spec))
      if (opts.wait !== true) {
        if (opts.json === true) printJson(submitted)
        else process.stdout.write(`${submitted.id}\n`)
        return
      }
      process.stderr.write(`job ${submitted.id}\n`)
      const last = await follow(api, submitted.id, opts.json === true)
      if (last.status === 'failed' || last.status === 'canceled') throw new Error(endedLine('job', submitted.id, last))
      const result = await fetchResult(api, submitted.id)
      if (opts.json === true) {
        const text = new TextDecoder().decode(result)
        let value: unknown = text
        try { value = JSON.parse(text) } catch {}
        printJson({ id: submitted.id, state: last.status, result: value })
      } else {
        process.stdout.write(result)
      }
    })

  const job = program.command('job').description('follow and fetch jobs')
  job.command('status')
    .description('a job\'s state and progress')
    .argument('<id>', 'job id')
    .addOption(repoOption())
    .option('--json', 'print the job view')
    .action(async (id: string, opts: Opts) => {
      const v = await (await daemonClient(opts)).call<JobView>('job/status', { arg: id })
      if (opts.json === true) printJson(v)
      else process.stdout.write(`${id}: ${describe(v)}\n`)
    })
  job.command('watch')
    .description('follow a job until it is done or failed')
    .argument('<id>', 'job id')
    .addOption(repoOption())
    .action(async (id: string, opts: Opts) => {
      const api = await daemonClient(opts)
      let lastLine = ''
      for await (const ev of api.events<JobView>('job/watch', { arg: id })) {
        const line = `${id}: ${describe(ev)}`
        if (line !== lastLine) process.stdout.write(line + '\n')
        lastLine = line
        if (ev.status === 'failed' || ev.status === 'canceled') process.exitCode = 1
      }
    })
  job.command('result')
    .description('the job\'s result (waits until it is done); to stdout unless -o')
    .argument('<id>', 'job id')
    .addOption(repoOption())
    .option('-o, --output <file>', 'write to FILE')
    .action(async (id: string, opts: Opts & { output?: string }) => {
      const result = await fetchResult(await daemonClient(opts), id)
      if (opts.output == null) { process.stdout.write(result); return }
      await writeAtomically(opts.output, Readable.from([result]))
    })
  job.command('cancel')
    .description('end a job on every peer: queued tasks dropped, running ones aborted (its submitter only)')
    .argument('<id>', 'job id')
    .addOption(repoOption())
    .option('--json', 'print the job view')
    .action(async (id: string, opts: Opts) => {
      const v = await (await daemonClient(opts)).call<JobView>('job/cancel', { arg: id })
      if (opts.json === true) printJson(v)
      else process.stdout.write(`${id}: ${describe(v)}\n`)
    })
  job.command('ls')
    .description('jobs this peer knows')
    .addOption(repoOption())
    .option('--json', 'print an array of job views')
    .action(async (opts: Opts) => {
      const list = await (await daemonClient(opts)).call<Array<JobView & { fn: string, createdAt: number }>>('job/ls')
      if (opts.json === true) { printJson(list); return }
      process.stdout.write(list.map(j => `${j.id}  ${j.fn.padEnd(12)} ${describe(j)}\n`).join('') || '(no jobs)\n')
    })

  const fnCmd = program.command('fn').description('task functions')
  fnCmd.command('ls')
    .description('the task functions this peer can run')
    .addOption(repoOption())
    .option('--json', 'print an array of {"name","description","builtin"}')
    .action(async (opts: Opts) => {
      const list = await (await daemonClient(opts)).call<FunctionInfo[]>('fn/ls')
      if (opts.json === true) { printJson(list); return }
      process.stdout.write(list.map(f => `${f.name.padEnd(12)} ${f.builtin ? 'built-in' : 'registered'}  ${f.description}\n`).join(''))
    })
}

