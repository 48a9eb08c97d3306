/**
 * Starts that never trap, through the real CLI: every start-up mistake an
 * operator can make is one line naming the file, field or address at fault and
 * a non-zero exit, and a failed start leaves nothing held (ports, the repo's
 * lock).
 */
import { chmod, mkdir, readFile, rm, truncate, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:net'
import { join } from 'node:path'
import { describe, it, expect } from 'vitest'
import { initRepo } from '../../src/index.ts'
import { useCleanup } from '../helpers.ts'
import { expectOneLineError, useCli } from './cli-process.ts'

/** A TCP port held by another process (here a plain server), as a port in use would be. */
async function holdPort (t: ReturnType<typeof useCleanup>): Promise<number> {
  const server: Server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.defer(async () => { await new Promise(resolve => server.close(resolve)) })
  return (server.address() as { port: number }).port
}

/** A port that was free a moment ago. */
async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise(resolve => server.close(resolve))
  return port
}

async function editConfig (repo: string, edit: (c: Record<string, any>) => void): Promise<void> {
  const path = join(repo, 'config.json')
  const c = JSON.parse(await readFile(path, 'utf8'))
  edit(c)
  await writeFile(path, JSON.stringify(c, null, 2))
}

describe('edgeswarm daemon start-up errors', () => {
  const t = useCleanup()
  const cli = useCli()

  async function repo (): Promise<string> {
    const r = join(await t.tempDir(), 'r')
    await initRepo(r, { listen: ['/ip4/127.0.0.1/tcp/0'] })
    return r
  }

  it('a truncated or missing identity key names identity.key', async () => {
    const r = await repo()
    await truncate(join(r, 'identity.key'), 10)
    expectOneLineError(await cli.run(['daemon', '--repo', r, '--no-mdns']), `${join(r, 'identity.key')} is not a valid identity key`)
    await rm(join(r, 'identity.key'))
    expectOneLineError(await cli.run(['daemon', '--repo', r, '--no-mdns']), `${join(r, 'identity.key')} is missing`)
  })

  it('a bad bootstrap address or peer id names the address, from a flag or config.json', async () => {
    const r = await repo()
    const bad = '/ip4/127.0.0.1/tcp/4001/p2p/QmNotAPeer'
    expectOneLineError(await cli.run(['daemon', '--repo', r, '--no-mdns', '--bootstrap', bad]), `bad bootstrap address "${bad}": "QmNotAPeer" is not a peer id`)
    await editConfig(r, c => { c.bootstrap = [bad] })
    expectOneLineError(await cli.run(['daemon', '--repo', r, '--no-mdns']), `config.json: bootstrap.0: "${bad}": "QmNotAPeer" is not a peer id`)
  })

  it('a port in use names the address, and a failed start releases its ports and the repo', async () => {
    const r = await repo()
    const busy = await holdPort(t)
    expectOneLineError(await cli.run(['daemon', '--repo', r, '--no-mdns', '--listen', `/ip4/127.0.0.1/tcp/${busy}`]),
      `cannot listen on /ip4/127.0.0.1/tcp/${busy}: the port is in use by another process`)
    await editConfig(r, c => { c.addresses.listen = [`/ip4/127.0.0.1/tcp/${busy}`] })
    expectOneLineError(await cli.run(['daemon', '--repo', r, '--no-mdns']), `(addresses.listen in ${join(r, 'config.json')}, or --listen)`)

    // the API's port in use: the peer had started (on `port`), and must let it go
    const port = await freePort()
    expectOneLineError(await cli.run(['daemon', '--repo', r, '--no-mdns', '--listen', `/ip4/127.0.0.1/tcp/${port}`, '--api', `127.0.0.1:${busy}`]),
      `cannot listen on API address 127.0.0.1:${busy}: the port is in use by another process`)
    const d = await cli.daemon(r, ['--listen', `/ip4/127.0.0.1/tcp/${port}`])
    expect(d.output()).toContain(`/ip4/127.0.0.1/tcp/${port}/p2p/`)
    d.child.kill('SIGTERM')
    expect(await d.exited).toBe(0)
  })

  it('an unreadable or malformed swarm.key names the file', async () => {
    const r = await repo()
    await mkdir(join(r, 'swarm.key'))
    expectOneLineError(await cli.run(['daemon', '--repo', r, '--no-mdns']), `cannot read ${join(r, 'swarm.key')}: it is a directory`)
    await rm(join(r, 'swarm.key'), { recursive: true })
    await writeFile(join(r, 'swarm.key'), '/key/swarm/psk/1.0.0/\n/base16/\nabc\n')
    expectOneLineError(await cli.run(['daemon', '--repo', r, '--no-mdns']), `${join(r, 'swarm.key')}: swarm key must have exactly 64 hex digits`)
  })

  it('a repo without permission names the file', async () => {
    const dir = await t.tempDir()
    const r = join(dir, 'r')
    await initRepo(r, { listen: ['/ip4/127.0.0.1/tcp/0'] })
    const asRoot = process.getuid?.() === 0
    if (asRoot) {
      // root reads anything: run the command as an unprivileged user on a repo it may not enter
      await chmod(dir, 0o755)
    } else {
      await chmod(r, 0o000)
      t.defer(async () => { await chmod(r, 0o700) })
    }
    const res = await cli.run(['daemon', '--repo', r, '--no-mdns'], asRoot ? { uid: 65534 } : {})
    expectOneLineError(res, `cannot read ${join(r, 'config.json')}: permission denied`)
  })
})
