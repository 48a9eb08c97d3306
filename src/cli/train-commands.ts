/**
 * cli/train-commands: `train` (a training over the swarm's data, round by
 * round) and `model show` (a trained model), through the daemon's API. Owns
 * their flags and output; never opens the repo itself, and never judges a
 * hyper-parameter (the daemon's `train` function does, in one line).
 */
import { InvalidArgumentError, type Command } from 'commander'
import type { ApiClient } from '../api/client.ts'
import type { JobView, ModelView } from '../jobs/index.ts'
import { collect, parseDuration, parsePositiveInt } from './args.ts'
import { UsageError, printJson } from './output.ts'
import { roundsBar, warningPrinter } from './progress.ts'
import { endedLine } from './job-commands.ts'
import { MAX_SHARDS_PER_TASK } from '../jobs/constants.ts'
import { daemonClient, repoOption } from './repo-option.ts'

interface Opts { repo?: string, json?: boolean }

/** A training's result, as `train` gives it. */
interface TrainResult { model: string, rounds: number, loss: number[], classes: string[] }

/** A number argument (any finite decimal): the range is the daemon's to judge. */
function parseNumber (value: string): number {
  const n = Number(value)
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`"${value}" is not a finite number`)
  return n
}

/** A whole number argument, 0 included: the range is the daemon's to judge. */
function parseWholeNumber (value: string): number {
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) throw new InvalidArgumentError(`"${value}" is not a whole number`)
  return Number(value)
}

/** Follows a training until it ends: a bar of rounds with the current loss on a terminal; the last view. */
async function followRounds (api: ApiClient, id: string, rounds: number | undefined, quiet: boolean): Promise<JobView> {
  let last: JobView | undefined
  const bar = quiet ? undefined : roundsBar(rounds ?? 1)
  const warn = warningPrinter(id)
  try {
    for await (const view of api.events<JobView & { type: string }>('job/watch', { arg: id })) {
      last = view
      warn(view)
      // a training's passes are a scan, then one per round
      bar?.update(view.rounds?.length ?? 0, rounds ?? (view.passes != null ? view.passes.count - 1 : undefined), view.rounds?.at(-1)?.loss)
    }
  } finally {
    bar?.stop()
  }
  if (last == null) throw new Error(`no progress received for job ${id}`)
  return last
}

function formatModel (m: ModelView): string {
  const lines = [
    `model:     ${m.cid}`,
    `kind:      ${m.kind}`,
    `label:     ${m.label}`,
    `features:  ${m.features.join(', ')}`
  ]
  if (m.classes.length > 0) lines.push(`classes:   ${m.classes.join(', ')}`)
  lines.push(`trained:   round ${m.round}${m.job !== '' ? ` of job ${m.job}` : ''}, ${m.records} records (${m.skipped} skipped)`)
  if (m.standardization != null) {
    lines.push('standardization (mean, std):')
    m.features.forEach((f, i) => lines.push(`  ${f}: ${m.standardization?.mean[i]}, ${m.standardization?.std[i]}`))
  }
  lines.push('weights (intercept, then one per feature):')
  m.weights.forEach((w, k) => lines.push(`  ${m.classes.length > 1 && m.kind === 'softmax' ? m.classes[k] : 'output'}: ${w.join(' ')}`))
  return lines.join('\n') + '\n'
}

export function addTrainCommands (program: Command): void {
  program.command('train')
    .description('train a model (linear, logistic or softmax) over the swarm\'s data, round by round; prints the job id (with --wait: rounds and the current loss, then the result)')
    .argument('<model>', 'linear, logistic or softmax')
    .addOption(repoOption())
    .option('--input <cid>', 'CSV input root CID, with a header line (repeatable)', collect)
    .option('--label <column>', 'the column to predict')
    .option('--features <list>', 'feature columns, comma-separated (default: every other column numeric in the first record)')
    .option('--rounds <n>', 'rounds of gradient descent, 1 to 100,000 (default 10)', parseWholeNumber)
    .option('--lr <a>', 'learning rate, above 0 (default 0.1)', parseNumber)
    .option('--l2 <l>', 'L2 penalty, not on intercepts (default 0)', parseNumber)
    .option('--standardize', 'center and scale the features (a scan before the first round)')
    .option('--local-steps <h>', 'mini-batch steps per task and round (FedAvg)', parseWholeNumber)
    .option('--batch-size <b>', 'records per mini-batch step (with --local-steps)', parseWholeNumber)
    .option('--aggregate <kind>', 'how a round combines its tasks: mean, median or trimmed-mean (default mean)')
    .option('--trim <f>', 'the fraction trimmed-mean drops at each end, in [0, 0.5)', parseNumber)
    .option('--redundancy <k>', 'distinct peers per task; majority wins (default 1)', parsePositiveInt)
    .option('--deadline <duration>', 'fail the training unless done within this long of its submit (10m, 2h, 1d)', parseDuration)
    .option('--shards-per-task <n>', `consecutive input shards one task reads, 1 to ${MAX_SHARDS_PER_TASK} (default: about 1 MiB of input a task with the mean and no --local-steps, else 1)`, parsePositiveInt)
    .option('--wait', 'follow the rounds and print the result')
    .option('--json', 'print {"id","state"} (with --wait also "result": {"model","rounds","loss","classes"})')
    .action(async (kind: string, opts: Opts & {
      input?: string[], label?: string, features?: string, rounds?: number, lr?: number, l2?: number, standardize?: boolean,
      localSteps?: number, batchSize?: number, aggregate?: string, trim?: number, redundancy?: number, deadline?: number, shardsPerTask?: number, wait?: boolean
    }) => {
      if ((opts.input ?? []).length === 0) throw new UsageError('a training needs at least one --input CID')
      if (opts.label == null || opts.label.trim() === '') throw new UsageError('a training needs --label COLUMN (the column to predict)')
      const api = await daemonClient(opts)
      const spec = {
        kind,
        inputs: opts.input,
        label: opts.label,
        features: opts.features?.split(',').map(f => f.trim()),
        rounds: opts.rounds,
        lr: opts.lr,
        l2: opts.l2,
        standardize: opts.standardize,
        localSteps: opts.localSteps,
        batchSize: opts.batchSize,
        aggregate: opts.aggregate,
        trim: opts.trim,
        redundancy: opts.redundancy,
        deadlineMs: opts.deadline,
        shardsPerTask: opts.shardsPerTask
      }
      const submitted = await api.call<{ id: string, state: string }>('train', {}, JSON.stringify(spec))
      if (opts.wait !== true) {
        if (opts.json === true) printJson(submitted)
        else process.stdout.write(`${submitted.id}\n`)
        return
      }
      process.stderr.write(`job ${submitted.id}\n`)
      const last = await followRounds(api, submitted.id, opts.rounds, opts.json === true)
      if (last.status === 'failed' || last.status === 'canceled') throw new Error(endedLine('training', submitted.id, last))
      const res = await api.request('job/result', { arg: submitted.id })
      const result = await res.json() as TrainResult
      if (opts.json === true) { printJson({ id: submitted.id, state: last.status, result }); return }
      process.stdout.write([
        `model:    ${result.model}`,
        `rounds:   ${result.rounds}`,
        `loss:     ${result.loss.at(-1) ?? '-'} (round ${result.loss.length - 1}; first ${result.loss[0] ?? '-'})`,
        ...(result.classes.length > 0 ? [`classes:  ${result.classes.join(', ')}`] : [])
      ].join('\n') + '\n')
    })

  const model = program.command('model').description('trained models')
  model.command('show')
    .description('a trained model: kind, features, classes, standardization, weights, round, job')
    .argument('<cid>', 'the model\'s CID (a training\'s result names it)')
    .addOption(repoOption())
    .option('--json', 'print the model as JSON')
    .action(async (cid: string, opts: Opts) => {
      const m = await (await daemonClient(opts)).call<ModelView>('model/show', { arg: cid })
      if (opts.json === true) printJson(m)
      else process.stdout.write(formatModel(m))
    })
}
