/**
 * cli/data-commands: `put`, `get`, `stat`, `ls`, `rm`, `gc`, files in the
 * swarm through the daemon's API. Owns their flags and output; streams every
 * upload and download (never holds a file in memory); never opens the repo
 * itself.
 */
import { createReadStream } from 'node:fs'
import { stat as fsStat } from 'node:fs/promises'
import { basename } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { Readable, Transform } from 'node:stream'
import type { Command } from 'commander'
import type { FileStat, FullListing, GcReport, HeldGroup, RemoveResult, RootListing } from '../data/index.ts'
import type { JobGcReport } from '../jobs/index.ts'
// the constants module alone: the CLI must not load the peer stack to print its help
import { DEFAULT_CHUNK_SIZE, DEFAULT_REPLICAS, MAX_CHUNK_SIZE, MAX_PUT_NAME_LENGTH, MIN_CHUNK_SIZE } from '../data/constants.ts'
import { parsePositiveInt } from './args.ts'
import { UsageError, printJson, writeAtomically } from './output.ts'
import { progressBar } from './progress.ts'
import { daemonClient, repoOption } from './repo-option.ts'

interface Opts { repo?: string, json?: boolean }

type PutEvent =
  | { type: 'progress', shardsDone: number, bytesDone: number }
  | { type: 'placed', cid: string, size: number, shards: number, replicas: number, minHolders: number, underReplicated: boolean }
  | { type: 'done', cid: string }

export function addDataCommands (program: Command): void {
  program.command('put')
    .description('shard and store a file (or - for stdin) in the swarm; prints its root CID last')
    .argument('<file>', 'file to store, or - for stdin')
    .addOption(repoOption())
    .option('--replicas <n>', `peers that hold each shard (default ${DEFAULT_REPLICAS})`, parsePositiveInt)
    .option('--chunk-size <bytes>', `shard size, ${MIN_CHUNK_SIZE}..${MAX_CHUNK_SIZE} (default ${DEFAULT_CHUNK_SIZE})`, parsePositiveInt)
    .option('--name <name>', `the name \`ls\` shows, up to ${MAX_PUT_NAME_LENGTH} characters (default: the file's name; stdin has none)`)
    .option('--json', 'print {"cid","name","size","shards","replicas","minHolders","underReplicated"}')
    .action(async (file: string, opts: Opts & { replicas?: number, chunkSize?: number, name?: string }) => {
      const name = opts.name ?? (file === '-' ? undefined : basename(file))
      let size = 0
      let source: Readable
      if (file === '-') {
        source = process.stdin
      } else {
        try {
          const st = await fsStat(file)
          if (!st.isFile()) throw new UsageError(`${file} is not a regular file`)
          size = st.size
        } catch (err) {
          if (err instanceof UsageError) throw err
          throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
        }
        source = createReadStream(file)
      }
      const api = await daemonClient(opts)
      const bar = progressBar('put', size, true)
      let placed: Extract<PutEvent, { type: 'placed' }> | undefined
      let cid: string | undefined
      try {
        for await (const ev of api.events<PutEvent>('put', { replicas: opts.replicas, 'chunk-size': opts.chunkSize, name }, source)) {
          if (ev.type === 'progress') bar.update(ev.bytesDone, size > 0 ? size : ev.bytesDone)
          else if (ev.type === 'placed') placed = ev
          else cid = ev.cid
        }
      } finally {
        bar.stop()
      }
      if (cid == null) throw new Error('the daemon ended the upload without a CID')
      if (placed?.underReplicated === true) {
        process.stderr.write(`under-replicated: ${placed.minHolders} of ${placed.replicas} copies (too few peers); the swarm tops up when peers join\n`)
      }
      if (opts.json === true) printJson({ cid, name: name ?? null, size: placed?.size, shards: placed?.shards, replicas: placed?.replicas, minHolders: placed?.minHolders, underReplicated: placed?.underReplicated })
      else process.stdout.write(`${cid}\n`)
    })

  program.command('get')
    .description('fetch, verify and reassemble a file; to stdout unless -o')
    .argument('<cid>', 'root CID')
    .addOption(repoOption())
    .option('-o, --output <file>', 'write to FILE (atomically: a partial download never replaces it)')
    .action(async (cid: string, opts: Opts & { output?: string }) => {
      const api = await daemonClient(opts)
      let total = 0
      if (opts.output != null && process.stderr.isTTY === true) {
        total = (await api.call<FileStat>('stat', { arg: cid })).size
      }
      const res = await api.request('get', { arg: cid })
      const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream)
      if (opts.output == null) {
        await pipeline(body, process.stdout)
        return
      }
      const bar = progressBar('get', total, true)
      let done = 0
      const counter = new Transform({ transform (chunk: Buffer, _enc, cb) { done += chunk.length; bar.update(done); cb(null, chunk) } })
      try {
        await writeAtomically(opts.output, body, counter)
      } finally {
        bar.stop()
      }
    })

  program.command('stat')
    .description('size, shards and live holders per shard (a progress bar on a terminal)')
    .argument('<cid>', 'root CID')
    .addOption(repoOption())
    .option('--json', 'print the stat object')
    .action(async (cid: string, opts: Opts) => {
      const api = await daemonClient(opts)
      let s: FileStat | undefined
      if (process.stderr.isTTY === true) {
        const bar = progressBar('stat', 1, false, 'holders asked')
        try {
          for await (const ev of api.events<StatEvent>('stat', { arg: cid, progress: true })) {
            if (ev.type === 'progress') bar.update(ev.checked, ev.total)
            else s = ev.stat
          }
        } finally {
          bar.stop()
        }
        if (s == null) throw new Error('the daemon ended stat without an answer')
      } else {
        s = await api.call<FileStat>('stat', { arg: cid })
      }
      if (opts.json === true) { printJson(s); return }
      const lines = [
        `cid:        ${s.cid}`,
        `size:       ${s.size} bytes`,
        `chunk size: ${s.chunkSize}`,
        `shards:     ${s.shards.length}`,
        `replicas:   ${s.replicas}${s.underReplicated ? ' (under-replicated)' : ''}`,
        `root held by ${s.rootHolders.length} live peers`,
        ...s.shards.map((sh, i) => `  ${String(i).padStart(4)} ${sh.cid} ${String(sh.size).padStart(8)} B  ${sh.holders.length} holders`)
      ]
      process.stdout.write(lines.join('\n') + '\n')
    })

  program.command('ls')
    .description('the files this peer put (--all: and every block it holds, and why)')
    .addOption(repoOption())
    .option('--all', 'also what this peer holds for others and its own blocks outside files, grouped by root and reason')
    .option('--json', 'print an array of {"cid","name","size","shards","createdAt"} (--all: {"roots": [...], "held": [{"reason","root","putter","forOthers","blocks","bytes"}]})')
    .action(async (opts: Opts & { all?: boolean }) => {
      const api = await daemonClient(opts)
      if (opts.all === true) {
        const full = await api.call<FullListing>('ls', { all: true })
        if (opts.json === true) { printJson(full); return }
        process.stdout.write(formatRoots(full.roots) + 'held here:\n' + (full.held.map(formatHeld).join('') || '  (no blocks)\n'))
        return
      }
      const list = await api.call<RootListing[]>('ls')
      if (opts.json === true) { printJson(list); return }
      process.stdout.write(formatRoots(list))
    })

  program.command('rm')
    .description('release a root this peer put: every peer drops its blocks (those no other live root needs); a later get says it was removed')
    .argument('<cid>', 'root CID (see `edgeswarm ls`)')
    .addOption(repoOption())
    .option('--json', 'print {"cid","puts"}')
    .action(async (cid: string, opts: Opts) => {
      const r = await (await daemonClient(opts)).call<RemoveResult>('rm', { arg: cid })
      if (opts.json === true) { printJson(r); return }
      process.stdout.write(`removed ${r.cid}\n`)
    })

  program.command('gc')
    .description('collect garbage now: finished jobs past their retention, released blocks, orphans of interrupted puts past their grace; says what it freed')
    .addOption(repoOption())
    .option('--json', 'print {"blocks","bytes","byReason":{"released","orphan","unpinned"},"compacted","durationMs","jobs":{"jobs","facts","released"}}')
    .action(async (opts: Opts) => {
      const r = await (await daemonClient(opts)).call<GcReport & { jobs?: JobGcReport }>('gc')
      if (opts.json === true) { printJson(r); return }
      const reasons = Object.entries(r.byReason).filter(([, v]) => v.blocks > 0).map(([k, v]) => `${k}: ${v.blocks} blocks, ${size(v.bytes)}`)
      const jobs = r.jobs != null && r.jobs.jobs > 0 ? `; collected ${r.jobs.jobs} finished jobs (${r.jobs.facts} facts, ${r.jobs.released} puts released)` : ''
      process.stdout.write(r.blocks === 0 && jobs === '' ? 'nothing to collect\n' : `freed ${r.blocks} blocks, ${size(r.bytes)}${reasons.length > 0 ? ` (${reasons.join('; ')})` : ''}${jobs}\n`)
    })
}

type StatEvent = { type: 'progress', checked: number, total: number } | { type: 'done', stat: FileStat }

function size (bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`
}

function formatRoots (list: RootListing[]): string {
  return list.map(r => `${r.cid}  ${r.name ?? '-'}  ${size(r.size)}  ${r.shards} shards  ${new Date(r.createdAt).toISOString()}\n`).join('') || '(nothing put from this peer)\n'
}

/** Why blocks are held, in a few words. */
const HELD_REASONS: Record<HeldGroup['reason'], string> = {
  root: 'of root',
  pinned: 'pinned by jobs',
  grace: 'no live root yet (within the grace)',
  untracked: 'kept outside a file',
  released: 'released, collected next',
  orphan: 'orphan, collected next',
  unpinned: 'unpinned, collected next'
}

function formatHeld (g: HeldGroup): string {
  const what = g.reason === 'root' ? `of root ${g.root ?? '?'}` : HELD_REASONS[g.reason] + (g.root != null ? ` (root ${g.root})` : '')
  return `  ${String(g.blocks).padStart(6)} blocks ${size(g.bytes).padStart(10)}  ${g.forOthers ? 'for others' : 'own'}  ${what}${g.putter != null ? ` put by ${g.putter}` : ''}\n`
}
