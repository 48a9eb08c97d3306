/**
 * The daemon's read-only pages: the dashboard and its files, metrics, health
 * and the swarm command; DNS rebinding refused on every path (a foreign Host
 * or Origin gets 403); the read-only listener (`--metrics-listen`) serves the
 * pages and never a command.
 */
import { request } from 'node:http'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { initRepo } from '../../src/index.ts'
import { startDaemon } from '../../src/api/daemon.ts'
import { ApiClient } from '../../src/api/client.ts'
import { assessHealth } from '../../src/api/health.ts'
import { HEALTH_UNDER_REPLICATED_MS } from '../../src/api/constants.ts'
import type { SwarmPeer } from '../../src/status/index.ts'
import { useCleanup } from '../helpers.ts'

interface Reply { status: number, headers: Record<string, string | string[] | undefined>, body: string }

function call (address: string, path: string, headers: Record<string, string>, method = 'GET'): Promise<Reply> {
  const [host, port] = address.split(':')
  return new Promise((resolve, reject) => {
    const req = request({ host, port: Number(port), path, method, headers }, res => {
      let body = ''
      const done = (): void => { resolve({ status: res.statusCode ?? 0, headers: res.headers, body }) }
      res.on('data', d => {
        body += String(d)
        // an event stream never ends: its first event is enough
        if (res.headers['content-type'] === 'text/event-stream' && body.includes('\n\n')) { req.destroy(); done() }
      })
      res.on('end', done)
    })
    req.on('error', err => { if (!req.destroyed) reject(err) })
    req.end()
  })
}

const PAGES = ['/', '/dashboard/app.js', '/dashboard/style.css', '/vendor/uplot.js', '/vendor/uplot.css', '/metrics', '/debug/metrics/prometheus', '/healthz', '/view/v0/self', '/view/v0/swarm', '/view/v0/jobs', '/view/v0/data', '/view/v0/events']

describe('read-only pages', () => {
  const t = useCleanup()

  it('serve the dashboard, metrics and health on the API listener and the read-only one, and refuse foreign Hosts and Origins everywhere', async () => {
    const repo = join(await t.tempDir(), 'r')
    await initRepo(repo, { listen: ['/ip4/127.0.0.1/tcp/0'] })
    const d = await startDaemon({ repo, mdns: false, metricsListen: '127.0.0.1:0' })
    t.defer(d.stop)
    const ro = d.metricsAddress as string
    expect(ro).toMatch(/^127\.0\.0\.1:\d+$/)

    for (const address of [d.apiAddress, ro]) {
      for (const path of PAGES) {
        const ok = await call(address, path, { host: address })
        // alone, the peer is unhealthy (no peers): 503 with the reasons
        expect(ok.status, `${address}${path}`).toBe(path === '/healthz' ? 503 : 200)
        const evil = await call(address, path, { host: 'evil.example.com' })
        expect(evil.status, `${address}${path} with a foreign Host`).toBe(403)
        const evilPort = await call(address, path, { host: `rebind.example.com:${address.split(':')[1]}` })
        expect(evilPort.status).toBe(403)
        const origin = await call(address, path, { host: address, origin: 'http://evil.example.com' })
        expect(origin.status, `${address}${path} with a foreign Origin`).toBe(403)
        expect(origin.body).not.toContain(d.node.peerId.toString())
      }
    }

    const page = await call(d.apiAddress, '/', { host: d.apiAddress })
    expect(page.body).toContain('/dashboard/app.js')
    // the page may load nothing from elsewhere
    expect(page.headers['content-security-policy']).toContain("default-src 'self'")
    expect(page.body).not.toMatch(/https?:\/\//)
    const metrics = await call(d.apiAddress, '/metrics', { host: d.apiAddress })
    expect(metrics.headers['content-type']).toContain('text/plain')
    expect(metrics.body).toContain('edgeswarm_data_blocks')
    expect(metrics.body).toContain('libp2p_kad_dht_routing_table_size')
    const health = JSON.parse((await call(ro, '/healthz', { host: ro })).body) as { status: string, reasons: string[], id: string }
    expect(health.status).toBe('unhealthy')
    expect(health.reasons.join('\n')).toContain('no peers')
    expect(health.id).toBe(d.node.peerId.toString())
    const events = await call(d.apiAddress, '/view/v0/events', { host: d.apiAddress })
    expect(events.headers['content-type']).toBe('text/event-stream')
    expect(events.body).toMatch(/^event: (tick|swarm)\ndata: \{/)

    // the read-only listener runs no command, whatever the method; it accepts an IP address as Host
    for (const method of ['POST', 'GET']) {
      for (const path of ['/api/v0/id', '/api/v0/put', '/api/v0/submit', '/api/v0/swarm']) {
        const r = await call(ro, path, { host: ro }, method)
        expect(r.status, `${method} ${path} on the read-only listener`).toBe(404)
        expect(r.body).not.toContain(d.node.peerId.toString())
      }
    }
    expect((await call(ro, '/metrics', { host: ro }, 'POST')).status).toBe(404)
    expect((await call(ro, '/healthz', { host: `127.0.0.2:${ro.split(':')[1]}` })).status).toBe(503)
    expect((await call(ro, '/healthz', { host: `[::1]:${ro.split(':')[1]}` })).status).toBe(503)
    // the command API still answers commands, and `swarm` lists this peer first
    const swarm = await (await ApiClient.forRepo(repo)).call<SwarmPeer[]>('swarm')
    expect(swarm[0].id).toBe(d.node.peerId.toString())
    expect(swarm[0].self).toBe(true)
  })

  it('judge health by peers, routing table, lasting under-replication, storage and the event loop', () => {
    const now = 1_000_000_000
    const fine = { connections: 3, routingTable: 3, underReplicated: 0, storageUsed: 10, storageMax: 100, eventLoopMaxMs: 10 }
    expect(assessHealth(fine, now)).toEqual({ status: 'ok', reasons: [] })
    expect(assessHealth({ ...fine, connections: 0 }, now).reasons[0]).toContain('no peers')
    expect(assessHealth({ ...fine, routingTable: 0 }, now).reasons[0]).toContain('routing table')
    expect(assessHealth({ ...fine, underReplicated: 4, underReplicatedSince: now - 1_000 }, now).status).toBe('ok')
    expect(assessHealth({ ...fine, underReplicated: 4, underReplicatedSince: now - HEALTH_UNDER_REPLICATED_MS - 1 }, now).reasons[0]).toContain('4 blocks under-replicated')
    expect(assessHealth({ ...fine, storageUsed: 96 }, now).reasons[0]).toContain('storage')
    expect(assessHealth({ ...fine, eventLoopMaxMs: 5_000 }, now).reasons[0]).toContain('event loop stalled')
  })
})
