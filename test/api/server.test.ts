import { request } from 'node:http'
import { join } from 'node:path'
import { describe, it, expect } from 'vitest'
import { initRepo } from '../../src/index.ts'
import { startDaemon } from '../../src/api/daemon.ts'
import { ApiClient } from '../../src/api/client.ts'
import { isLoopbackHost } from '../../src/api/server.ts'
import { useCleanup } from '../helpers.ts'

function post (address: string, path: string, headers: Record<string, string>, method = 'POST'): Promise<{ status: number, body: string }> {
  const [host, port] = address.split(':')
  return new Promise((resolve, reject) => {
    const req = request({ host, port: Number(port), path, method, headers }, res => {
      let body = ''
      res.on('data', d => { body += String(d) })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('RPC API', () => {
  const t = useCleanup()

  it('refuses foreign Host and Origin headers (DNS rebinding) and non-POST commands', async () => {
    const repo = join(await t.tempDir(), 'r')
    await initRepo(repo, { listen: ['/ip4/127.0.0.1/tcp/0'] })
    const d = await startDaemon({ repo, mdns: false })
    t.defer(d.stop)

    const ok = await post(d.apiAddress, '/api/v0/id', { host: d.apiAddress })
    expect(ok.status).toBe(200)
    expect(JSON.parse(ok.body).id).toBe(d.node.peerId.toString())

    const rebound = await post(d.apiAddress, '/api/v0/id', { host: 'evil.example.com' })
    expect(rebound.status).toBe(403)
    expect(rebound.body).not.toContain(d.node.peerId.toString())
    const rebound2 = await post(d.apiAddress, '/api/v0/id', { host: `evil.example.com:${d.apiAddress.split(':')[1]}` })
    expect(rebound2.status).toBe(403)
    const crossOrigin = await post(d.apiAddress, '/api/v0/id', { host: d.apiAddress, origin: 'http://evil.example.com' })
    expect(crossOrigin.status).toBe(403)
    expect((await post(d.apiAddress, '/api/v0/id', { host: d.apiAddress }, 'GET')).status).toBe(405)
    expect((await post(d.apiAddress, '/api/v0/no-such-command', { host: d.apiAddress })).status).toBe(404)

    // the client finds the daemon through <repo>/api
    const client = await ApiClient.forRepo(repo)
    expect((await client.call<{ id: string }>('id')).id).toBe(d.node.peerId.toString())
  })

  it('knows loopback names from the rest', () => {
    for (const h of ['127.0.0.1:5001', 'localhost:1', '[::1]:80', '127.1.2.3', 'LOCALHOST']) expect(isLoopbackHost(h)).toBe(true)
    for (const h of ['evil.com', '127.0.0.1.evil.com:80', '10.0.0.1:5001', '', '[::2]:1', 'localhost.evil:1']) expect(isLoopbackHost(h)).toBe(false)
  })

  it('refuses to bind the API to a non-loopback address', async () => {
    const repo = join(await t.tempDir(), 'r')
    await initRepo(repo, { listen: ['/ip4/127.0.0.1/tcp/0'] })
    await expect(startDaemon({ repo, mdns: false, api: '0.0.0.0:0' })).rejects.toThrow(/loopback/)
    // and the repo was released: a daemon can start now
    const d = await startDaemon({ repo, mdns: false })
    await d.stop()
  })
})
