/**
 * bench-cli-memory: the CLI streams uploads and downloads, so its memory must
 * not grow with the file. One `edgeswarm daemon` on 127.0.0.1; a file of
 * SIZE MiB of random bytes is put with `edgeswarm put FILE` and fetched back
 * with `edgeswarm get CID -o FILE`, each CLI process's RSS sampled every
 * 50 ms; prints the peaks (and the daemon's), the median over RUNS, and
 * checks the bytes came back the same. `--json` prints
 * {"sizeMiB","putPeakMB","getPeakMB","putPeakMBRuns","getPeakMBRuns","daemonPeakMB"} as the last line.
 *
 * The daemon's RSS is reported too: before, its peaks in the put and the get,
 * after, and after IDLE seconds.
 *
 * Usage: npx node scripts/bench-cli-memory.ts [--json] [--size-mb 1024] [--runs 3] [--idle 0]
 */
import { spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { open, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { median, memoryOf, rssOf, startDaemons } from './daemons.ts'

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    'size-mb': { type: 'string', default: '1024' },
    runs: { type: 'string', default: '3' },
    idle: { type: 'string', default: '0' }
  }
})
const sizeMiB = Number(values['size-mb'])
const MAIN = new URL('../src/cli/main.ts', import.meta.url).pathname
const log = (msg: string): void => { process.stderr.write(msg + '\n') }
const mb = (n: number): number => Math.round(n / 1024 / 1024)

/** Runs the CLI with `args`; its stdout, and its peak RSS sampled every 50 ms. */
async function runCli (args: string[], daemonPid: number | undefined, daemonPeak: { bytes: number, anon?: number }): Promise<{ stdout: string, peak: number }> {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', d => { stdout += String(d) })
  child.stderr.on('data', d => { stderr += String(d) })
  let peak = 0
  const sampler = setInterval(() => {
    void rssOf(child.pid).then(r => { peak = Math.max(peak, r) })
    void memoryOf(daemonPid).then(m => { daemonPeak.bytes = Math.max(daemonPeak.bytes, m.rss); daemonPeak.anon = Math.max(daemonPeak.anon ?? 0, m.anon) })
  }, 50)
  const code = await new Promise<number | null>(resolve => child.once('exit', resolve))
  clearInterval(sampler)
  if (code !== 0) throw new Error(`edgeswarm ${args[0]} exited ${code}: ${stderr}`)
  return { stdout, peak }
}

async function sha (file: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

const swarm = await startDaemons(1)
const daemon = swarm.daemons[0]
const file = join(swarm.dir, 'input.bin')
const back = join(swarm.dir, 'back.bin')
try {
  const handle = await open(file, 'w')
  for (let i = 0; i < sizeMiB; i++) await handle.write(randomBytes(1024 * 1024))
  await handle.close()
  const want = await sha(file)
  const puts: number[] = []
  const gets: number[] = []
  const daemonPeak = { bytes: 0 }
  for (let run = 0; run < Number(values.runs); run++) {
    const daemonBefore = await rssOf(daemon.child.pid)
    const putDaemonPeak: { bytes: number, anon?: number } = { bytes: 0 }
    const put = await runCli(['put', file, '--repo', daemon.repo, '--replicas', '1', '--chunk-size', String(1024 * 1024)], daemon.child.pid, putDaemonPeak)
    const cid = put.stdout.trim().split('\n').at(-1) ?? ''
    const getDaemonPeak: { bytes: number, anon?: number } = { bytes: 0 }
    const get = await runCli(['get', cid, '-o', back, '--repo', daemon.repo], daemon.child.pid, getDaemonPeak)
    daemonPeak.bytes = Math.max(daemonPeak.bytes, putDaemonPeak.bytes, getDaemonPeak.bytes)
    const after = await memoryOf(daemon.child.pid)
    log(`daemon RSS: ${mb(daemonBefore)} MB before, peak ${mb(putDaemonPeak.bytes)} MB in the put (${mb(putDaemonPeak.anon ?? 0)} anonymous), ${mb(getDaemonPeak.bytes)} MB in the get (${mb(getDaemonPeak.anon ?? 0)} anonymous), ${mb(after.rss)} MB after (${mb(after.anon)} MB anonymous, ${mb(after.file)} MB of mapped files)`)
    if (await sha(back) !== want) throw new Error('the file came back different')
    await rm(back)
    await daemon.api.call('rm', { arg: cid })
    await daemon.api.call('gc')
    puts.push(put.peak)
    gets.push(get.peak)
    log(`run ${run + 1}: put of ${sizeMiB} MiB: CLI RSS peak ${mb(put.peak)} MB; get: ${mb(get.peak)} MB`)
  }
  log(`median CLI RSS peak: put ${mb(median(puts))} MB, get ${mb(median(gets))} MB (daemon peak ${mb(daemonPeak.bytes)} MB)`)
  await sleep(Number(values.idle) * 1000)
  const idle = await memoryOf(daemon.child.pid)
  const daemonIdle = idle.rss
  log(`daemon RSS after ${values.idle} s idle: ${mb(daemonIdle)} MB (${mb(idle.anon)} MB anonymous, ${mb(idle.file)} MB of mapped files: LevelDB's tables)`)
  if (values.json) {
    process.stdout.write(JSON.stringify({
      sizeMiB,
      putPeakMB: mb(median(puts)),
      getPeakMB: mb(median(gets)),
      putPeakMBRuns: puts.map(mb),
      getPeakMBRuns: gets.map(mb),
      daemonPeakMB: mb(daemonPeak.bytes),
      daemonIdleMB: mb(daemonIdle),
      daemonIdleAnonMB: mb(idle.anon)
    }) + '\n')
  }
} finally {
  await swarm.stop()
}
