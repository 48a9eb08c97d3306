/**
 * The repo's lock is the daemon process's own (LevelDB's OS lock on the
 * datastore): a stale `repo.lock` never refuses a start, a killed daemon's lock
 * goes with it, and a second daemon (or `init --force`) on a repo in use is
 * refused with the holder's pid. `init` on a repo says what to do, and
 * `init --force` rebuilds a lost or broken config.json from the identity key,
 * keeping the data.
 */
import { readFile, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it, expect } from 'vitest'
import { initRepo } from '../../src/index.ts'
import { useCleanup } from '../helpers.ts'
import { SOME_PEER_ID } from '../node/config-fields.ts'
import { expectOneLineError, useCli } from './cli-process.ts'

const LOOPBACK = ['--listen', '/ip4/127.0.0.1/tcp/0']

describe('the repo lock and init --force', () => {
  const t = useCleanup()
  const cli = useCli()

  async function repo (): Promise<string> {
    const r = join(await t.tempDir(), 'r')
    await initRepo(r, { listen: ['/ip4/127.0.0.1/tcp/0'] })
    return r
  }

  it('a stale lock file never refuses a start; a second daemon is refused with the holder\'s pid', async () => {
    const r = await repo()
    // as after a reboot: the file names a live process that is not edgeswarm
    await writeFile(join(r, 'repo.lock'), '1\n')
    const d = await cli.daemon(r)
    const second = await cli.run(['daemon', '--repo', r, '--no-mdns', ...LOOPBACK])
    expectOneLineError(second, `repo ${r} is in use by another edgeswarm process (pid ${d.child.pid ?? 0})`)
    // init --force must not rewrite the config of a running daemon
    expectOneLineError(await cli.run(['init', '--force', '--repo', r]), /in use by another edgeswarm process/)
    // killed without a chance to clean up: its lock goes with it
    d.child.kill('SIGKILL')
    await d.exited
    const again = await cli.daemon(r)
    again.child.kill('SIGTERM')
    expect(await again.exited).toBe(0)
  })

  it('init on a repo says what to do; init --force rebuilds a lost or broken config.json, keeping identity and data', async () => {
    const r = await repo()
    const original = JSON.parse(await readFile(join(r, 'config.json'), 'utf8')) as { identity: { peerId: string } }
    expectOneLineError(await cli.run(['init', '--repo', r]), `a repo already exists at ${r}; \`edgeswarm init --force --repo ${r}\``)

    // a store with data in it survives
    const d = await cli.daemon(r)
    const put = await cli.run(['put', '-', '--repo', r], { stdin: 'kept across init --force\n' })
    const cid = put.stdout.trim().split('\n').at(-1) ?? ''
    d.child.kill('SIGTERM')
    await d.exited

    await rm(join(r, 'config.json'))
    expectOneLineError(await cli.run(['daemon', '--repo', r, '--no-mdns']), `${join(r, 'config.json')} is missing: \`edgeswarm init --force --repo ${r}\` rebuilds it`)
    const rebuilt = await cli.run(['init', '--force', '--repo', r, ...LOOPBACK])
    expect(rebuilt.code, rebuilt.stderr).toBe(0)
    expect(rebuilt.stdout).toContain(`for peer ${original.identity.peerId} (identity and data kept)`)

    // broken: kept aside as config.json.bak
    await writeFile(join(r, 'config.json'), '{"data": {"chunkSize": 0}, ')
    expectOneLineError(await cli.run(['daemon', '--repo', r, '--no-mdns']), `${join(r, 'config.json')} is not valid JSON`)
    const fixed = await cli.run(['init', '--force', '--repo', r, ...LOOPBACK, '--bootstrap', `/ip4/127.0.0.1/tcp/1/p2p/${SOME_PEER_ID}`])
    expect(fixed.stdout).toContain(`the previous config is in ${join(r, 'config.json.bak')}`)
    expect(await readFile(join(r, 'config.json.bak'), 'utf8')).toBe('{"data": {"chunkSize": 0}, ')
    expect((await stat(join(r, 'config.json'))).mode & 0o777).toBe(0o600)

    const back = await cli.daemon(r)
    const ident = JSON.parse((await cli.run(['id', '--json', '--repo', r])).stdout) as { id: string }
    expect(ident.id).toBe(original.identity.peerId)
    expect((await cli.run(['get', cid, '--repo', r])).stdout).toBe('kept across init --force\n')
    back.child.kill('SIGTERM')
    expect(await back.exited).toBe(0)
  })
})
