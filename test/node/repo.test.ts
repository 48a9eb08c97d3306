import { stat, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createServer } from 'node:net'
import { describe, it, expect } from 'vitest'
import { Key } from 'interface-datastore'
import { createEdgeNode, initRepo } from '../../src/index.ts'
import {
  parseConfig, parseSwarmKey, generateSwarmKey, InvalidAddressError, ListenError, RepoLockedError, RepoExistsError, RepoNotFoundError
} from '../../src/node/index.ts'
import { useCleanup, addrOf, waitFor } from '../helpers.ts'

async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise(resolve => server.close(resolve))
  return port
}

describe('repo', () => {
  const t = useCleanup()

  it('keeps identity, peer store and datastore across restarts', async () => {
    const repo = join(await t.tempDir(), 'r')
    const config = await initRepo(repo, { listen: ['/ip4/127.0.0.1/tcp/0'] })
    expect((await stat(join(repo, 'identity.key'))).mode & 0o777).toBe(0o600)

    const other = await t.node()
    let node = await createEdgeNode({ repo, mdns: false, bootstrap: [addrOf(other)] })
    expect(node.peerId.toString()).toBe(config.identity.peerId)
    expect(await waitFor(() => node.peers().length > 0)).toBe(true)
    // the datastore libp2p uses is the repo's LevelDB
    expect(node.repo?.datastore).toBeDefined()
    await node.repo?.datastore.put(new Key('/test/marker'), new Uint8Array([7]))
    await node.stop()

    node = await createEdgeNode({ repo, mdns: false })
    t.defer(() => node.stop())
    expect(node.peerId.toString()).toBe(config.identity.peerId)
    // the peer store was reopened from disk: it still knows the other peer's addresses
    const known = await node.libp2p.peerStore.get(other.peerId)
    expect(known.addresses.length).toBeGreaterThan(0)
    expect([...(await node.repo?.datastore.get(new Key('/test/marker')) ?? [])]).toEqual([7])
  })

  it('refuses a second open of the same repo and a second init', async () => {
    const repo = join(await t.tempDir(), 'r')
    await initRepo(repo, { listen: ['/ip4/127.0.0.1/tcp/0'] })
    await expect(initRepo(repo)).rejects.toBeInstanceOf(RepoExistsError)
    const node = await createEdgeNode({ repo, mdns: false })
    t.defer(() => node.stop())
    await expect(createEdgeNode({ repo, mdns: false })).rejects.toBeInstanceOf(RepoLockedError)
    await expect(createEdgeNode({ repo, mdns: false })).rejects.toThrow(`repo ${repo} is already open in this process`)
  })

  it('never lets a stale lock file refuse a start', async () => {
    const repo = join(await t.tempDir(), 'r')
    await initRepo(repo, { listen: ['/ip4/127.0.0.1/tcp/0'] })
    // a dead pid, and a live one that is not edgeswarm (init, as after a reboot)
    for (const pid of ['999999999', '1']) {
      await writeFile(join(repo, 'repo.lock'), pid)
      const node = await createEdgeNode({ repo, mdns: false })
      expect((await readFile(join(repo, 'repo.lock'), 'utf8')).trim()).toBe(String(process.pid))
      await node.stop()
    }
  })

  it('releases its port and the repo when it fails to start after the peer started', async () => {
    const repo = join(await t.tempDir(), 'r')
    await initRepo(repo)
    const port = await freePort()
    const listen = [`/ip4/127.0.0.1/tcp/${port}`]
    // the data layer refuses its settings once the peer listens
    await expect(createEdgeNode({ repo, listen, mdns: false, data: { chunkSize: 0 } })).rejects.toThrow(/chunk size/)
    await expect(createEdgeNode({ repo, listen, mdns: false, bootstrap: ['/ip4/127.0.0.1/tcp/1/p2p/QmNotAPeer'] })).rejects.toBeInstanceOf(InvalidAddressError)
    const node = await createEdgeNode({ repo, listen, mdns: false })
    t.defer(() => node.stop())
    expect(node.multiaddrs.map(String)).toContain(`${listen[0]}/p2p/${node.peerId.toString()}`)
    // the same port, taken: one ListenError naming it, and the repo is free again
    await expect(createEdgeNode({ listen, mdns: false })).rejects.toThrow(`cannot listen on ${listen[0]}: the port is in use by another process`)
    await expect(createEdgeNode({ listen, mdns: false })).rejects.toBeInstanceOf(ListenError)
  })

  it('creates a missing repo when asked to (init: true), and opens an existing one', async () => {
    const repo = join(await t.tempDir(), 'new', 'r')
    await expect(createEdgeNode({ repo, mdns: false })).rejects.toBeInstanceOf(RepoNotFoundError)
    const listen = ['/ip4/127.0.0.1/tcp/0']
    const first = await createEdgeNode({ repo, init: true, listen, mdns: false })
    const id = first.peerId.toString()
    await first.stop()
    expect(parseConfig(await readFile(join(repo, 'config.json'), 'utf8')).addresses.listen).toEqual(listen)
    const again = await createEdgeNode({ repo, init: true, mdns: false })
    t.defer(() => again.stop())
    expect(again.peerId.toString()).toBe(id)
  })

  it('validates config and swarm keys with messages that name the problem', async () => {
    expect(() => parseConfig('{')).toThrow(/not valid JSON/)
    expect(() => parseConfig(JSON.stringify({ identity: { peerId: 'x' }, addresses: { listen: ['nope'] } }))).toThrow(/addresses\.listen\.0/)
    expect(() => parseConfig(JSON.stringify({ identity: { peerId: 'x' }, limits: { maxConnections: -1 } }))).toThrow(/limits\.maxConnections/)
    const key = generateSwarmKey()
    expect(parseSwarmKey(key)).toHaveLength(32)
    expect(() => parseSwarmKey(key.replace('/base16/', '/base64/'))).toThrow(/encoding/)
    expect(() => parseSwarmKey('/key/swarm/psk/1.0.0/\n/base16/\nabc\n')).toThrow(/64 hex/)
    const repo = join(await t.tempDir(), 'r')
    await initRepo(repo)
    const config = parseConfig(await readFile(join(repo, 'config.json'), 'utf8'))
    expect(config.discovery.mdns).toBe(true)
    expect(config.addresses.api).toBe('127.0.0.1:0')
  })
})
