/**
 * cli/program: the `edgeswarm` command line, every command with its flags and
 * help. `init`, `key gen` and `daemon` work on the repo directly; every other
 * command is a thin client of the daemon's RPC API. Owns output formats (human
 * text and `--json`); never touches the repo of a running daemon.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { Command } from 'commander'
// module files, not node/index.ts: the short client commands never load the peer stack
import { initRepo, reinitRepo, repoPaths, resolveRepoPath } from '../node/repo.ts'
import { generateSwarmKey, parseSwarmKey, InvalidSwarmKeyError } from '../node/swarm-key.ts'
import type { IdResponse } from '../api/routes.ts'
import { ApiListenError } from '../api/errors.ts'
import type { NodeStatus, PeerSummary } from '../edge-node.ts'
import type { ConnectionProblem } from '../node/connection-diagnostics.ts'
import type { SwarmPeer } from '../status/index.ts'
import { collect, parseBootstrap, parseHostPort, parseKeep, parseListen } from './args.ts'
import { UsageError, printJson } from './output.ts'
import { addDataCommands } from './data-commands.ts'
import { addJobCommands } from './job-commands.ts'
import { addTrainCommands } from './train-commands.ts'
import { daemonClient, repoOption } from './repo-option.ts'

/** The oldest Node major the peer runs on: libp2p 3 uses Promise.withResolvers (the short commands run on older ones). */
const MIN_NODE_MAJOR_FOR_DAEMON = 22

interface RepoOpts { repo?: string }
interface JsonOpts extends RepoOpts { json?: boolean }

async function readSwarmKeyFile (file: string): Promise<string> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw new UsageError(`cannot read swarm key ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  try {
    parseSwarmKey(text)
  } catch (err) {
    if (err instanceof InvalidSwarmKeyError) throw new UsageError(`bad swarm key ${file}: ${err.message}`)
    throw err
  }
  return text
}

export function buildProgram (): Command {
  const program = new Command('edgeswarm')
    .description('a decentralized edge-computing peer: data in a Kademlia DHT, jobs without a coordinator')
    .version('0.1.0')
    .configureOutput({
      // one line per mistake: "edgeswarm: error: unknown option '--x' (see --help)"
      outputError: (str, write) => { write(`edgeswarm: ${str.split('\n').filter(l => l.trim() !== '')[0]} (see --help)\n`) }
    })
    .exitOverride()

  program.command('init')
    .description('create a repo: identity key, config.json, datastore')
    .addOption(repoOption())
    .option('--swarm-key <file>', 'make this a private swarm peer with the key in FILE')
    .option('--listen <multiaddr>', 'listen address to store in config (repeatable)', (v: string, p: string[]) => collect(parseListen(v), p))
    .option('--bootstrap <multiaddr>', 'bootstrap peer to store in config (repeatable)', (v: string, p: string[]) => collect(parseBootstrap(v), p))
    .option('--force', 'on an existing repo: write a fresh config.json for its identity key, keeping the data (the old one becomes config.json.bak)')
    .option('--json', 'print {"id","repo"} as JSON')
    .action(async (opts: JsonOpts & { swarmKey?: string, listen?: string[], bootstrap?: string[], force?: boolean }) => {
      const repo = resolveRepoPath(opts.repo)
      const swarmKey = opts.swarmKey != null ? await readSwarmKeyFile(opts.swarmKey) : undefined
      const options = { swarmKey, listen: opts.listen, bootstrap: opts.bootstrap }
      const done = opts.force === true
        ? await reinitRepo(repo, options)
        : { config: await initRepo(repo, options), newIdentity: true, previousConfig: undefined }
      const id = done.config.identity.peerId
      if (opts.json === true) {
        printJson({ id, repo })
        return
      }
      const lines = opts.force === true && !done.newIdentity
        ? [`rewrote ${repoPaths(repo).config} for peer ${id} (identity and data kept)`]
        : [`initialized edgeswarm repo at ${repo}`, `peer identity: ${id}`]
      if (done.previousConfig != null) lines.push(`the previous config is in ${done.previousConfig}`)
      if (swarmKey != null) lines.push('private swarm: yes (swarm.key copied)')
      process.stdout.write(lines.join('\n') + '\n')
    })

  program.command('daemon')
    .description('run this device\'s peer and its RPC API until SIGINT/SIGTERM')
    .addOption(repoOption())
    .option('--listen <multiaddr>', 'listen address (repeatable; overrides config)', (v: string, p: string[]) => collect(parseListen(v), p))
    .option('--bootstrap <multiaddr>', 'peer to bootstrap from (repeatable; overrides config)', (v: string, p: string[]) => collect(parseBootstrap(v), p))
    .option('--api <host:port>', 'RPC API address, loopback only (overrides config)', parseHostPort)
    .option('--metrics-listen <host:port>', 'also serve the dashboard, /metrics and /healthz read-only here, any address (never a command; overrides config)', parseHostPort)
    .option('--no-mdns', 'turn off mDNS discovery on the LAN')
    .option('--keep <duration>', 'keep finished jobs this long, then collect them (3d, 12h; 0: forever; overrides config jobs.keepMs; default 3 days)', parseKeep)
    .action(async (opts: RepoOpts & { listen?: string[], bootstrap?: string[], api?: string, metricsListen?: string, mdns: boolean, keep?: number }) => {
      const repo = resolveRepoPath(opts.repo)
      if (Number(process.versions.node.split('.')[0]) < MIN_NODE_MAJOR_FOR_DAEMON) {
        throw new UsageError(`the daemon needs Node ${MIN_NODE_MAJOR_FOR_DAEMON} or later, this is Node ${process.version} (README: "Installing the command on a device")`)
      }
      // loaded here: the short client commands never pay for the peer stack
      const { startDaemon } = await import('../api/daemon.ts')
      const { ListenError } = await import('../node/peer.ts')
      const daemon = await startDaemon({
        repo,
        listen: opts.listen,
        bootstrap: opts.bootstrap,
        api: opts.api,
        metricsListen: opts.metricsListen,
        jobKeepMs: opts.keep,
        // --no-mdns forces it off; otherwise config.json decides
        mdns: opts.mdns ? undefined : false
      }).catch((err: unknown) => {
        // say where the address came from when it is config.json's
        if (err instanceof ListenError && opts.listen == null) {
          throw new UsageError(`${err.message} (addresses.listen in ${repoPaths(repo).config}, or --listen)`)
        }
        if (err instanceof ApiListenError && opts.api == null) {
          throw new UsageError(`${err.message} (addresses.api in ${repoPaths(repo).config}, or --api)`)
        }
        throw err
      })
      // the signal handlers are in place before anything says the daemon is ready
      const stopped = new Promise<void>(resolve => {
        let signalled = false
        const onSignal = (sig: NodeJS.Signals): void => {
          if (signalled) {
            process.stderr.write(`edgeswarm: second ${sig}, exiting now\n`)
            process.exit(130)
          }
          signalled = true
          process.stderr.write(`received ${sig}, shutting down\n`)
          daemon.stop().then(resolve, (err: unknown) => {
            process.stderr.write(`edgeswarm: error during shutdown: ${(err as Error).message}\n`)
            process.exitCode = 1
            resolve()
          })
        }
        process.on('SIGINT', onSignal)
        process.on('SIGTERM', onSignal)
      })
      const id = daemon.node.peerId.toString()
      process.stdout.write(`edgeswarm daemon ${id}\n`)
      for (const ma of daemon.node.multiaddrs) process.stdout.write(`listening on ${ma.toString()}\n`)
      process.stdout.write(`RPC API on http://${daemon.apiAddress}\n`)
      process.stdout.write(`dashboard on http://${daemon.apiAddress}/\n`)
      if (daemon.metricsAddress != null) process.stdout.write(`read-only dashboard, /metrics and /healthz on http://${daemon.metricsAddress}/\n`)
      process.stdout.write('daemon is ready\n')
      // why it cannot connect, one line per cause (rate-limited by the diagnostics), DEBUG or not
      const logProblem = (p: ConnectionProblem): void => { process.stderr.write(`edgeswarm: cannot connect: ${p.message}\n`) }
      for (const p of daemon.node.diagnostics.problems()) logProblem(p)
      daemon.node.diagnostics.addEventListener('problem', evt => { logProblem((evt as CustomEvent<ConnectionProblem>).detail) })
      await stopped
      process.stderr.write('daemon stopped\n')
    })

  program.command('id')
    .description('this peer\'s identity and addresses')
    .addOption(repoOption())
    .option('--json', 'print {"id","addresses"}')
    .action(async (opts: JsonOpts) => {
      const res = await (await daemonClient(opts)).call<IdResponse>('id')
      if (opts.json === true) printJson(res)
      else process.stdout.write(`${res.id}\n${res.addresses.map(a => `  ${a}\n`).join('')}`)
    })

  program.command('peers')
    .description('connected peers')
    .addOption(repoOption())
    .option('--json', 'print an array of {"id","addresses"}')
    .action(async (opts: JsonOpts) => {
      const res = await (await daemonClient(opts)).call<PeerSummary[]>('peers')
      if (opts.json === true) printJson(res)
      else process.stdout.write(res.map(p => `${p.id}  ${p.addresses.join(' ')}\n`).join('') || '(no peers connected)\n')
    })

  program.command('status')
    .description('peers, shards held, tasks running, jobs known')
    .addOption(repoOption())
    .option('--json', 'print the status object')
    .action(async (opts: JsonOpts) => {
      const s = await (await daemonClient(opts)).call<NodeStatus>('status')
      if (opts.json === true) { printJson(s); return }
      process.stdout.write(formatStatus(s))
    })

  program.command('swarm')
    .description('every peer\'s latest status, as gossiped: the whole swarm, this peer included')
    .addOption(repoOption())
    .option('--json', 'print an array of {"id", ...status} (this peer first)')
    .action(async (opts: JsonOpts) => {
      const peers = await (await daemonClient(opts)).call<SwarmPeer[]>('swarm')
      if (opts.json === true) { printJson(peers); return }
      process.stdout.write(formatSwarm(peers))
    })

  const key = program.command('key').description('swarm keys for private swarms')
  key.command('gen')
    .description('write a new swarm key (swarm.key format) to FILE or stdout')
    .option('-o, --output <file>', 'write to FILE (created with mode 0600; refuses to overwrite)')
    .action(async (opts: { output?: string }) => {
      const text = generateSwarmKey()
      if (opts.output == null) { process.stdout.write(text); return }
      try {
        await writeFile(opts.output, text, { mode: 0o600, flag: 'wx' })
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code
        throw new UsageError(code === 'EEXIST' ? `${opts.output} already exists; not overwriting a swarm key` : `cannot write ${opts.output}: ${code ?? (err as Error).message}`)
      }
      process.stderr.write(`wrote swarm key to ${opts.output}\n`)
    })

  addDataCommands(program)
  addJobCommands(program)
  addTrainCommands(program)
  return program
}

/** A peer id as the dashboard shows it: whole when short, else its first 12 and last 8 characters. */
export function shortId (id: string): string {
  return id.length <= 24 ? id : `${id.slice(0, 12)}…${id.slice(-8)}`
}

function mib (bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(1)
}

function formatSwarm (peers: SwarmPeer[]): string {
  const header = ['PEER', 'AGE', 'CONNS', 'RT', 'BLOCKS', 'MiB', 'FOR OTHERS', 'TASKS', 'RAN', 'LOAD', 'LOOP ms', 'LABELS']
  const rows = peers.map(p => [
    `${shortId(p.id)}${p.self ? ' (this)' : ''}${p.stale ? ' (stale)' : ''}`,
    `${Math.round(p.ageMs / 1000)} s`,
    String(p.connections),
    String(p.routingTable),
    String(p.blocks),
    mib(p.bytes),
    `${mib(p.storageUsed)}/${mib(p.storageMax)}`,
    `${p.running}/${p.slots}${p.queued > 0 ? ` +${p.queued}` : ''}`,
    String(p.executed),
    p.load.toFixed(2),
    String(p.loopDelayMs),
    p.labels.join(',') || '-'
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map(r => r[i].length)))
  const line = (cells: string[]): string => cells.map((c, i) => i === cells.length - 1 ? c : c.padEnd(widths[i])).join('  ') + '\n'
  return line(header) + rows.map(line).join('') + `${peers.length} peers (${peers.filter(p => p.stale).length} stale)\n`
}

function formatStorage (st: NodeStatus['storage']): string {
  const disk = st.disk != null ? `; disk ${mib(st.disk.free)} MiB free of ${mib(st.disk.total)} MiB` : ''
  const state = st.diskFull
    ? ' - DISK FULL: own writes refused, run `edgeswarm gc` or free space'
    : st.refusingPushes ? ' - full: refusing other peers\' blocks' : ''
  return `storage:   ${mib(st.forOthersUsed)} of ${mib(st.forOthersMax)} MiB for other peers${disk}${state}`
}

function formatStatus (s: NodeStatus): string {
  const lines = [
    `peer:      ${s.id}`,
    `repo:      ${s.repo ?? '(in memory)'}`,
    `private:   ${s.privateSwarm ? 'yes (swarm key)' : 'no'}`,
    `peers:     ${s.peers} connected, ${s.routingTable} in the routing table, ${s.swarmPeers} in the swarm table`,
    `uptime:    ${Math.round(s.uptimeMs / 1000)} s`,
    `shards:    ${s.shards} held (${mib(s.bytesStored)} MiB, ${mib(s.bytesForOthers)} MiB for other peers)${s.underReplicated > 0 ? `, ${s.underReplicated} under-replicated` : ''}`,
    formatStorage(s.storage),
    `tasks:     ${s.tasksRunning} running on ${s.scheduler.slots} slots (${s.scheduler.executed} run here, ${s.scheduler.failed} failed)`,
    `jobs:      ${s.jobs.total} known (${s.jobs.running} running, ${s.jobs.queued} queued, ${s.jobs.done} done, ${s.jobs.failed} failed)`,
    `loop:      ${s.eventLoopDelayMs} ms event-loop delay (p99)`
  ]
  for (const p of s.connectionProblems ?? []) {
    lines.push(`problem:   ${p.message} (${p.count}x, last ${Math.round((Date.now() - p.lastSeen) / 1000)} s ago)`)
  }
  return lines.join('\n') + '\n'
}
