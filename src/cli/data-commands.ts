/**
 * cli/data-commands: `put`, `get`, `stat`, `ls`, files in the swarm through the
 * daemon's API. Owns their flags and output; never opens the repo itself.
 */
import { createReadStream } from 'node:fs'
import { stat as fsStat } from 'node:fs/promises'
import { pipeline } from 'node:stream/promises'
import { Readable, Transform } from 'node:stream'
import type { Command } from 'commander'
import type { FileStat, RootListing } from '../data/index.ts'
// the constants module alone: the CLI must not load the peer stack to print its help
import { DEFAULT_CHUNK_SIZE, DEFAULT_REPLICAS, MAX_CHUNK_SIZE, MIN_CHUNK_SIZE } from '../data/constants.ts'
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
    .option('--json', 'print {"cid","size","shards","replicas","minHolders","underReplicated"}')
    .action(async (file: string, opts: Opts & { replicas?: number, chunkSize?: number }) => {
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
        for await (const ev of api.events<PutEvent>('put', { replicas: opts.replicas, 'chunk-size': opts.chunkSize }, source)) {
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
      if (opts.json === true) printJson({ cid, size: placed?.size, shards: placed?.shards, replicas: placed?.replicas, minHolders: placed?.minHolders, underReplicated: placed?.underReplicated })
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
    .description('size, shards and live holders per shard')
    .argument('<cid>', 'root CID')
    .addOption(repoOption())
    .option('--json', 'print the stat object')
    .action(async (cid: string, opts: Opts) => {
      const s = await (await daemonClient(opts)).call<FileStat>('stat', { arg: cid })
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
    .description('the roots this peer put')
    .addOption(repoOption())
    .option('--json', 'print an array of {"cid","size","shards","createdAt"}')
    .action(async (opts: Opts) => {
      const list = await (await daemonClient(opts)).call<RootListing[]>('ls')
      if (opts.json === true) { printJson(list); return }
      process.stdout.write(list.map(r => `${r.cid}  ${r.size} B  ${r.shards} shards  ${new Date(r.createdAt).toISOString()}\n`).join('') || '(nothing put from this peer)\n')
    })
}
