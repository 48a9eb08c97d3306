/**
 * A daemon that cannot connect says why, without DEBUG: one log line per cause
 * (another swarm key, from both ends; a bootstrap address nobody listens on),
 * and `status` / `status --json` show the current causes.
 */
import { createServer } from 'node:net'
import { join } from 'node:path'
import { describe, it, expect } from 'vitest'
import { initRepo, generateSwarmKey, type ConnectionProblem } from '../../src/index.ts'
import { useCleanup, waitFor } from '../helpers.ts'
import { SOME_PEER_ID } from '../node/config-fields.ts'
import { useCli } from './cli-process.ts'

const QUIET = { env: { DEBUG: '' } }

async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise(resolve => server.close(resolve))
  return port
}

describe('edgeswarm daemon: why there are no peers', () => {
  const t = useCleanup()
  const cli = useCli()

  it('logs each cause once and shows it in status', async () => {
    const dir = await t.tempDir()
    const [a, b, c] = ['a', 'b', 'c'].map(n => join(dir, n))
    await initRepo(a, { listen: ['/ip4/127.0.0.1/tcp/0'], swarmKey: generateSwarmKey() })
    await initRepo(b, { listen: ['/ip4/127.0.0.1/tcp/0'], swarmKey: generateSwarmKey() })
    await initRepo(c, { listen: ['/ip4/127.0.0.1/tcp/0'] })
    const da = await cli.daemon(a, [], QUIET)
    const addrA = (JSON.parse((await cli.run(['id', '--json', '--repo', a])).stdout) as { addresses: string[] }).addresses[0]
    const db = await cli.daemon(b, ['--bootstrap', addrA], QUIET)
    const nobody = `/ip4/127.0.0.1/tcp/${await freePort()}/p2p/${SOME_PEER_ID}`
    const dc = await cli.daemon(c, ['--bootstrap', nobody], QUIET)

    const lineB = `edgeswarm: cannot connect: bootstrap peer ${addrA} failed the private-swarm handshake (different swarm key?)\n`
    const lineA = 'edgeswarm: cannot connect: a peer at /ip4/127.0.0.1 hung up during the handshake (a different swarm key, or it expected another peer id here?)\n'
    const lineC = `edgeswarm: cannot connect: bootstrap ${nobody} is unreachable: connection refused: nothing listens there\n`
    expect(await waitFor(() => db.stderr().includes(lineB), 20_000), db.output()).toBe(true)
    expect(await waitFor(() => da.stderr().includes(lineA), 20_000), da.output()).toBe(true)
    expect(await waitFor(() => dc.stderr().includes(lineC), 20_000), dc.output()).toBe(true)

    const status = await cli.run(['status', '--repo', c])
    expect(status.stdout).toContain(`problem:   bootstrap ${nobody} is unreachable: connection refused: nothing listens there (`)
    const json = JSON.parse((await cli.run(['status', '--json', '--repo', b])).stdout) as { peers: number, connectionProblems: ConnectionProblem[] }
    expect(json.peers).toBe(0)
    expect(json.connectionProblems).toContainEqual(expect.objectContaining({ kind: 'swarm-key', address: addrA, count: expect.any(Number) }))

    // a cause that recurs (b and c redial every few seconds) is logged once
    await waitFor(async () => (JSON.parse((await cli.run(['status', '--json', '--repo', c])).stdout) as { connectionProblems: ConnectionProblem[] }).connectionProblems[0]?.count >= 2, 20_000, 500)
    expect(dc.stderr().split(lineC).length - 1).toBe(1)
    expect(db.stderr().split(lineB).length - 1).toBe(1)
    for (const d of [da, db, dc]) d.child.kill('SIGTERM')
    for (const d of [da, db, dc]) expect(await d.exited).toBe(0)
  }, 90_000)
})
