/**
 * scripts/sim: `npm run sim -- [options]`, the command line over src/sim.
 * Parses and checks the options, builds the WebAssembly module for the
 * `wasm` workload, runs the simulation, and prints the report: human text on
 * stdout, or with `--json` one JSON object on stdout and the text on stderr.
 * A progress line goes to stderr only when stderr is a terminal.
 *
 * With `--dashboard`, a live device's dashboard is served read-only on
 * 127.0.0.1 (its address goes to stderr once the swarm is up), and after the
 * report the swarm stays up until Ctrl-C.
 *
 * Exit codes: 0 correct, 1 the swarm's result was wrong, 2 bad options,
 * 3 the run could not be carried out (also: a job could not be submitted;
 * the report is still printed), 130 interrupted. Ctrl-C stops every
 * peer and child process and removes the temp dirs; a second Ctrl-C exits at once.
 */
import { readFile } from 'node:fs/promises'
import { Command, InvalidArgumentError, Option } from 'commander'
import { DEFAULT_REPLICAS } from '../src/data/index.ts'
import {
  runSimulation, formatReport, resolveSimOptions, NOT_SUBMITTED, InvalidSimOptionsError, WORKLOADS,
  DEFAULT_PEERS, DEFAULT_KILL, DEFAULT_RESTART, DEFAULT_CHURN_PER_MIN, DEFAULT_REDUNDANCY,
  DEFAULT_SEED, DEFAULT_ROWS_PER_DEVICE, SIM_CHUNK_SIZE, SIM_LEASE_MS, DEFAULT_DHT_SAMPLES,
  DEFAULT_GOSSIP_SAMPLES, DEFAULT_JOB_TIMEOUT_MS, CROWDED_SWARM_JOB_TIMEOUT_MS, CROWDED_SWARM_LEASE_MS, CROWDED_SWARM_PEERS,
  LARGE_SWARM_LEASE_MS, LARGE_SWARM_PEERS, type SimOptions, type SimProgress, type SimReport, type Workload
} from '../src/sim/index.ts'
import { buildWasm } from '../wasm/build.mts'

const EXIT_WRONG = 1
const EXIT_USAGE = 2
const EXIT_FAILED = 3
const EXIT_INTERRUPTED = 130
const MS_PER_S = 1000

function integer (flag: string) {
  return (text: string): number => {
    if (!/^\d+$/.test(text.trim())) throw new InvalidArgumentError(`${flag} takes a whole number, got "${text}"`)
    return Number(text)
  }
}

function decimal (flag: string) {
  return (text: string): number => {
    const n = Number(text)
    if (text.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${flag} takes a number >= 0, got "${text}"`)
    return n
  }
}

interface Flags {
  peers: number
  workload: Workload
  kill: number
  restart: number
  churn: number
  replicas: number
  redundancy: number
  processes?: number
  seed: string
  json: boolean
  rows: number
  chunkSize: number
  leaseMs?: number
  dhtSamples: number
  gossipSamples: number
  timeout?: number
  dashboard: boolean
}

const program = new Command()
  .name('sim')
  .description('Run a whole edgeswarm swarm on 127.0.0.1: every device stores its sensor readings, a job runs while peers are killed and restarted, and the result is checked against a single-machine computation.')
  .option('--peers <n>', 'real peers in the swarm', integer('--peers'), DEFAULT_PEERS)
  .addOption(new Option('--workload <name>', 'what the job computes').choices(WORKLOADS).default('csv-stats'))
  .option('--kill <k>', 'peers killed during the job', integer('--kill'), DEFAULT_KILL)
  .option('--restart <k>', 'killed peers restarted from their repo', integer('--restart'), DEFAULT_RESTART)
  .option('--churn <per-min>', 'peers leaving and joining per minute during the job', decimal('--churn'), DEFAULT_CHURN_PER_MIN)
  .option('--replicas <r>', 'copies of every shard', integer('--replicas'), DEFAULT_REPLICAS)
  .option('--redundancy <k>', 'peers that run each task (majority vote)', integer('--redundancy'), DEFAULT_REDUNDANCY)
  .option('--processes <p>', 'child processes hosting the peers (default: 1 up to 16 peers, else 2)', integer('--processes'))
  .option('--seed <s>', 'same seed, same data and same fault schedule', DEFAULT_SEED)
  .option('--json', 'one JSON object on stdout (the human report goes to stderr)', false)
  .option('--rows <n>', 'readings each device generates', integer('--rows'), DEFAULT_ROWS_PER_DEVICE)
  .option('--chunk-size <bytes>', 'shard size of the devices\' files (tasks = shards)', integer('--chunk-size'), SIM_CHUNK_SIZE)
  .option('--lease-ms <ms>', `claim lease of the jobs (default: ${SIM_LEASE_MS}, ${LARGE_SWARM_LEASE_MS} above ${LARGE_SWARM_PEERS} peers, ${CROWDED_SWARM_LEASE_MS} above ${CROWDED_SWARM_PEERS})`, integer('--lease-ms'))
  .option('--dht-samples <n>', 'DHT provide/find pairs timed', integer('--dht-samples'), DEFAULT_DHT_SAMPLES)
  .option('--gossip-samples <n>', 'gossip probes timed', integer('--gossip-samples'), DEFAULT_GOSSIP_SAMPLES)
  .option('--timeout <s>', `limit of the job phase, in seconds (default: ${DEFAULT_JOB_TIMEOUT_MS / MS_PER_S}, ${CROWDED_SWARM_JOB_TIMEOUT_MS / MS_PER_S} above ${CROWDED_SWARM_PEERS} peers)`, decimal('--timeout'))
  .option('--dashboard', 'serve a live peer\'s dashboard (address on stderr) and keep the swarm up after the report until Ctrl-C', false)
  .showHelpAfterError(false)
  .configureOutput({ outputError: (text, write) => { write(`sim: ${text.replace(/^error: /, '').trim()}\n`) } })
  .exitOverride()

function fail (message: string, code: number): never {
  process.stderr.write(`sim: ${message}\n`)
  process.exit(code)
}

let flags: Flags
try {
  flags = program.parse(process.argv).opts<Flags>()
} catch (err) {
  const e = err as { exitCode?: number, code?: string }
  // --help and --version print and exit 0; every parse error was already printed on one line
  process.exit(e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? 0 : EXIT_USAGE)
}

const options: SimOptions = {
  peers: flags.peers,
  workload: flags.workload,
  kill: flags.kill,
  restart: flags.restart,
  churnPerMin: flags.churn,
  replicas: flags.replicas,
  redundancy: flags.redundancy,
  seed: flags.seed,
  rowsPerDevice: flags.rows,
  chunkSize: flags.chunkSize,
  ...(flags.leaseMs != null ? { leaseMs: flags.leaseMs } : {}),
  dhtSamples: flags.dhtSamples,
  gossipSamples: flags.gossipSamples,
  ...(flags.timeout != null ? { jobTimeoutMs: Math.round(flags.timeout * MS_PER_S) } : {}),
  ...(flags.processes != null ? { processes: flags.processes } : {})
}

try {
  // options are checked before anything is built or started
  resolveSimOptions({ ...options, ...(options.workload === 'wasm' ? { wasmModule: new Uint8Array(0) } : {}) })
} catch (err) {
  if (err instanceof InvalidSimOptionsError) fail(err.message, EXIT_USAGE)
  throw err
}

if (options.workload === 'wasm') {
  try {
    const [file] = await buildWasm(['square'])
    options.wasmModule = new Uint8Array(await readFile(file))
  } catch (err) {
    fail(`cannot build wasm/square.ts: ${(err as Error).message.split('\n')[0]}`, EXIT_FAILED)
  }
}

const controller = new AbortController()
let interrupts = 0
process.on('SIGINT', () => {
  interrupts++
  if (interrupts > 1) process.exit(EXIT_INTERRUPTED)
  process.stderr.write('\nsim: interrupted, stopping every peer (Ctrl-C again to exit at once)\n')
  controller.abort(new Error('interrupted'))
})

const tty = process.stderr.isTTY
let progressShown = false
const onProgress = tty
  ? (p: SimProgress): void => {
      const counts = p.total != null ? ` [${p.done ?? 0}/${p.total}]` : ''
      const line = `${p.phase}: ${p.message}${p.phase === 'job' ? '' : counts}`
      process.stderr.write(`\r\x1b[K${line.slice(0, (process.stderr.columns ?? 100) - 1)}`)
      progressShown = true
    }
  : undefined
const clearProgress = (): void => { if (progressShown) process.stderr.write('\r\x1b[K') }

function printReport (report: SimReport): void {
  clearProgress()
  const text = formatReport(report)
  if (flags.json) {
    process.stderr.write(text)
    process.stdout.write(JSON.stringify(report) + '\n')
  } else {
    process.stdout.write(text)
  }
}

/** With --dashboard: the address once the swarm is up, then the report, then the swarm stays up until Ctrl-C. */
const dashboard = flags.dashboard
  ? {
      onReady: (url: string): void => {
        clearProgress()
        process.stderr.write(`sim: dashboard of a live peer: ${url}\n`)
      },
      keepUp: async (report: SimReport): Promise<void> => {
        printReport(report)
        reported = true
        process.stderr.write('sim: the swarm stays up for the dashboard; Ctrl-C stops it\n')
        await new Promise<void>(resolve => {
          if (controller.signal.aborted) resolve()
          else controller.signal.addEventListener('abort', () => { resolve() }, { once: true })
        })
      }
    }
  : undefined
let reported = false

try {
  const report = await runSimulation(options, { signal: controller.signal, ...(onProgress != null ? { onProgress } : {}), ...(dashboard != null ? { dashboard } : {}) })
  if (!reported) printReport(report)
  // a submitted job with a wrong result is a wrong result, whatever else could not be carried out
  const wrong = report.jobs.some(j => j.status !== NOT_SUBMITTED && !j.correct) || (report.jobs.length > 0 && report.refetch.ok < report.refetch.peers)
  process.exitCode = report.correct ? 0 : !wrong && report.jobs.some(j => j.status === NOT_SUBMITTED) ? EXIT_FAILED : EXIT_WRONG
} catch (err) {
  clearProgress()
  if (controller.signal.aborted && !reported) fail('interrupted; every peer was stopped', EXIT_INTERRUPTED)
  if (err instanceof InvalidSimOptionsError) fail(err.message, EXIT_USAGE)
  const e = err as Error
  fail(`the simulation could not finish: ${e.name}: ${e.message}`, EXIT_FAILED)
}
