import { stat, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it, expect } from 'vitest'
import { Key } from 'interface-datastore'
import { createEdgeNode, initRepo } from '../../src/index.ts'
import { parseConfig, parseSwarmKey, generateSwarmKey, RepoLockedError, RepoExistsError } from '../../src/node/index.ts'
import { useCleanup, addrOf, waitFor } from '../helpers.ts'

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
  })

  it('recovers a stale lock left by a dead process', async () => {
    const repo = join(await t.tempDir(), 'r')
    await initRepo(repo, { listen: ['/ip4/127.0.0.1/tcp/0'] })
    await writeFile(join(repo, 'repo.lock'), '999999999')
    const node = await createEdgeNode({ repo, mdns: false })
    await node.stop()
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
