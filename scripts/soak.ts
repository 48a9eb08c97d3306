/**
 * soak: does a daemon's memory stay flat under steady use? N `edgeswarm
 * daemon` processes on 127.0.0.1 run a loop for DURATION: a put from a random
 * daemon, a get and a stat of a random live file from another, a job (square
 * or word-count) submitted, followed and its result fetched, the oldest
 * files removed (`rm`) once KEEP are live, and a `gc` now and then. Every
 * daemon's RSS, and its anonymous part (RSS less the mapped files' pages:
 * LevelDB maps its tables, page cache the kernel reclaims), are sampled
 * every SAMPLE seconds; the report gives, per daemon, each at the end of the
 * warm-up, its peak after it and at the end, and the whole curve (`--json`:
 * {"durationS","operations","errors","warmupS","daemons":[{...}],"samples":[...]} as the last line).
 *
 * `--data-only` leaves the jobs out, to tell the data layer's memory from the job layer's.
 *
 * Usage: npx node scripts/soak.ts [--json] [--duration 3600] [--peers 5] [--sample 30] [--warmup 300] [--keep 8] [--data-only]
 */
import { createHash, randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { median, memoryOf, startDaemons, type Daemon } from './daemons.ts'

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    duration: { type: 'string', default: '3600' },
    peers: { type: 'string', default: '5' },
    sample: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '300' },
    keep: { type: 'string', default: '8' },
    'data-only': { type: 'boolean', default: false }
  }
})
const durationMs = Number(values.duration) * 1000
const sampleMs = Number(values.sample) * 1000
const warmupMs = Math.min(Number(values.warmup) * 1000, durationMs / 2)
const keep = Number(values.keep)
const log = (msg: string): void => { process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${msg}\n`) }
const mb = (n: number): number => Math.round(n / 1024 / 1024)

const pick = <T>(xs: T[]): T => xs[Math.floor(Math.random() * xs.length)]

interface Live { cid: string, size: number, sha: string, owner: Daemon }

function numbers (lines: number): Uint8Array {
  return Buffer.from(Array.from({ length: lines }, () => String(Math.floor(Math.random() * 1e6))).join('\n') + '\n')
}

function words (bytes: number): Uint8Array {
  const vocabulary = ['edge', 'swarm', 'shard', 'peer', 'task', 'lease', 'gossip', 'device', 'sensor', 'result']
  const out: string[] = []
  let size = 0
  while (size < bytes) { const w = pick(vocabulary); out.push(w); size += w.length + 1 }
  return Buffer.from(out.join(' ') + '\n')
}

const swarm = await startDaemons(Number(values.peers), { config: () => ({ data: { gcIntervalMs: 120_000 } }) })
const samples: Array<{ t: number, rss: number[], anon: number[] }> = []
const started = Date.now()
let operations = 0
let errors = 0
const lastErrors: string[] = []
const sampler = setInterval(() => {
  void Promise.all(swarm.daemons.map(async d => await memoryOf(d.child.pid))).then(m => {
    const rss = m.map(x => x.rss)
    const anon = m.map(x => x.anon)
    samples.push({ t: Math.round((Date.now() - started) / 1000), rss, anon })
    log(`RSS MB: ${rss.map(mb).join(' ')}; anonymous MB: ${anon.map(mb).join(' ')}  (${operations} operations, ${errors} errors)`)
  })
}, sampleMs)
sampler.unref()

async function put (d: Daemon, bytes: Uint8Array, chunkSize: number, name: string): Promise<string> {
  let cid = ''
  for await (const ev of d.api.events<{ type: string, cid?: string }>('put', { 'chunk-size': chunkSize, name }, Readable.from([bytes]))) {
    if (ev.type === 'done' && ev.cid != null) cid = ev.cid
  }
  return cid
}

async function step (live: Live[]): Promise<void> {
  const ds = swarm.daemons
  // a file of 1 to 8 MiB
  const owner = pick(ds)
  const bytes = randomBytes((1 + Math.floor(Math.random() * 8)) * 1024 * 1024)
  const cid = await put(owner, bytes, 256 * 1024, `soak-${operations}.bin`)
  live.push({ cid, size: bytes.byteLength, sha: createHash('sha256').update(bytes).digest('hex'), owner })
  // read one back elsewhere, and stat one
  const file = pick(live)
  const reader = pick(ds.filter(d => d !== file.owner))
  const res = await reader.api.request('get', { arg: file.cid })
  const got = Buffer.from(await res.arrayBuffer())
  if (got.byteLength !== file.size || createHash('sha256').update(got).digest('hex') !== file.sha) throw new Error(`get of ${file.cid} returned other bytes`)
  await pick(ds).api.call('stat', { arg: pick(live).cid })
  if (!values['data-only']) await job()
  // the oldest files go once KEEP are live
  while (live.length > keep) {
    const old = live.shift() as Live
    await old.owner.api.call('rm', { arg: old.cid })
  }
  if (operations % 10 === 9) await pick(ds).api.call('gc')
}

/** A job over a small input, followed to its result; its input removed after. */
async function job (): Promise<void> {
  const ds = swarm.daemons
  const square = Math.random() < 0.5
  const inputOwner = pick(ds)
  const input = await put(inputOwner, square ? numbers(20_000) : words(300_000), 16 * 1024, 'input')
  const submitter = pick(ds)
  const job = await submitter.api.call<{ id: string }>('submit', {}, JSON.stringify({ fn: square ? 'square' : 'word-count', inputs: [input] }))
  for await (const ev of submitter.api.events<{ status: string }>('job/watch', { arg: job.id })) {
    if (ev.status === 'done' || ev.status === 'failed') break
  }
  await (await pick(ds).api.request('job/result', { arg: job.id })).arrayBuffer()
  await inputOwner.api.call('rm', { arg: input })
}

try {
  const live: Live[] = []
  while (Date.now() - started < durationMs) {
    try {
      await step(live)
    } catch (err) {
      errors++
      lastErrors.push((err as Error).message)
      if (lastErrors.length > 5) lastErrors.shift()
      log(`error: ${(err as Error).message}`)
      await sleep(1000)
    }
    operations++
  }
  await sleep(Math.min(sampleMs, 5000))
  clearInterval(sampler)
  const warmed = samples.filter(s => s.t * 1000 >= warmupMs)
  const curve = (series: number[], first: number): { firstMB: number, startMB: number, peakMB: number, endMB: number, medianMB: number } => ({
    firstMB: mb(first),
    startMB: mb(series[0] ?? 0),
    peakMB: mb(Math.max(...series)),
    endMB: mb(series.at(-1) ?? 0),
    medianMB: mb(median(series))
  })
  const daemons = swarm.daemons.map((d, i) => ({
    id: d.id,
    rss: curve(warmed.map(s => s.rss[i]), samples[0]?.rss[i] ?? 0),
    anon: curve(warmed.map(s => s.anon[i]), samples[0]?.anon[i] ?? 0)
  }))
  for (const d of daemons) {
    log(`daemon ${d.id.slice(-8)} RSS: ${d.rss.firstMB} MB at first sample; after warm-up ${d.rss.startMB} MB, peak ${d.rss.peakMB}, end ${d.rss.endMB}, median ${d.rss.medianMB}`)
    log(`daemon ${d.id.slice(-8)} anonymous: ${d.anon.firstMB} MB at first sample; after warm-up ${d.anon.startMB} MB, peak ${d.anon.peakMB}, end ${d.anon.endMB}, median ${d.anon.medianMB}`)
  }
  log(`${operations} operations, ${errors} errors${lastErrors.length > 0 ? ` (last: ${lastErrors.at(-1)})` : ''}`)
  if (values.json) {
    process.stdout.write(JSON.stringify({
      durationS: Math.round((Date.now() - started) / 1000),
      operations,
      errors,
      warmupS: warmupMs / 1000,
      daemons,
      samples: samples.map(s => ({ t: s.t, rssMB: s.rss.map(mb), anonMB: s.anon.map(mb) }))
    }) + '\n')
  }
} finally {
  clearInterval(sampler)
  await swarm.stop()
}
