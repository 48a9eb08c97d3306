/**
 * bench-stat: how long `stat` of a file of many shards takes, and what many
 * stat calls leave in a daemon's memory. N `edgeswarm daemon` processes on
 * 127.0.0.1; one puts a file of SHARDS shards, another answers `stat` of it
 * RUNS times (the median is the figure); then CALLS stat calls, CONCURRENCY
 * at a time, and the daemon's RSS before, right after, and after IDLE seconds.
 * `--json` prints {"statMs","statMsRuns","shards","rss":{...}} as the last line.
 *
 * Usage: npx node scripts/bench-stat.ts [--json] [--peers 5] [--shards 800] [--chunk-size 4096]
 *        [--runs 7] [--calls 200] [--concurrency 20] [--idle 20]
 */
import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { median, rssOf, startDaemons } from './daemons.ts'

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    peers: { type: 'string', default: '5' },
    shards: { type: 'string', default: '800' },
    'chunk-size': { type: 'string', default: '4096' },
    runs: { type: 'string', default: '7' },
    calls: { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '20' },
    idle: { type: 'string', default: '20' }
  }
})
const log = (msg: string): void => { process.stderr.write(msg + '\n') }
const chunkSize = Number(values['chunk-size'])
const shards = Number(values.shards)

const swarm = await startDaemons(Number(values.peers))
try {
  const [putter, asker] = swarm.daemons
  let cid = ''
  for await (const ev of putter.api.events<{ type: string, cid?: string }>('put', { 'chunk-size': chunkSize, replicas: 3 }, Readable.from([randomBytes(shards * chunkSize)]))) {
    if (ev.type === 'done' && ev.cid != null) cid = ev.cid
  }
  log(`put ${cid}: ${shards} shards of ${chunkSize} bytes on ${swarm.daemons.length} daemons`)
  await sleep(2000)
  const times: number[] = []
  for (let i = 0; i < Number(values.runs); i++) {
    const started = performance.now()
    const stat = await asker.api.call<{ shards: Array<{ holders: string[] }> }>('stat', { arg: cid })
    times.push(performance.now() - started)
    if (stat.shards.length !== shards) throw new Error(`stat listed ${stat.shards.length} shards`)
    log(`stat ${i + 1}: ${times.at(-1)?.toFixed(0)} ms, holders per shard ${Math.min(...stat.shards.map(s => s.holders.length))}..${Math.max(...stat.shards.map(s => s.holders.length))}`)
  }
  const pid = asker.child.pid
  const before = await rssOf(pid)
  const calls = Number(values.calls)
  const concurrency = Number(values.concurrency)
  let next = 0
  let peak = before
  const started = performance.now()
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < calls) {
      next++
      await asker.api.call('stat', { arg: cid })
      peak = Math.max(peak, await rssOf(pid))
    }
  }))
  const callsMs = performance.now() - started
  const after = await rssOf(pid)
  await sleep(Number(values.idle) * 1000)
  const idle = await rssOf(pid)
  const mb = (n: number): string => `${(n / 1024 / 1024).toFixed(0)} MB`
  log(`${calls} stat calls (${concurrency} at a time) in ${(callsMs / 1000).toFixed(1)} s; daemon RSS ${mb(before)} before, peak ${mb(peak)}, ${mb(after)} after, ${mb(idle)} after ${values.idle} s idle`)
  log(`stat of ${shards} shards: median ${median(times).toFixed(0)} ms`)
  if (values.json) {
    process.stdout.write(JSON.stringify({
      statMs: Math.round(median(times)),
      statMsRuns: times.map(t => Math.round(t)),
      shards,
      peers: swarm.daemons.length,
      calls: { count: calls, concurrency, ms: Math.round(callsMs) },
      rss: { before, peak, after, idle }
    }) + '\n')
  }
} finally {
  await swarm.stop()
}
