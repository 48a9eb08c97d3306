/**
 * node/repo: the repo, one directory per device holding its identity, config,
 * datastore, blocks, optional swarm key and (while a daemon runs) its API
 * address. Owns the on-disk layout and the single-writer lock. Never opens the
 * same repo twice: a second process (or a second node in this process) gets a
 * RepoLockedError.
 */
import { mkdir, open, readFile, rm, stat, writeFile, chmod } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { LevelDatastore } from 'datastore-level'
import type { PrivateKey } from '@libp2p/interface'
import { defaultConfig, parseConfig, type EdgeConfig } from './config.ts'
import { parseSwarmKey } from './swarm-key.ts'

export class RepoExistsError extends Error {
  override name = 'RepoExistsError'
}
export class RepoNotFoundError extends Error {
  override name = 'RepoNotFoundError'
}
export class RepoLockedError extends Error {
  override name = 'RepoLockedError'
}

/** The files and directories of a repo (see repoPaths). */
export interface RepoPaths {
  root: string
  config: string
  identity: string
  datastore: string
  blocks: string
  swarmKey: string
  api: string
  lock: string
}

/** The repo directory: `--repo`, else `$EDGESWARM_REPO`, else `~/.edgeswarm`. */
export function resolveRepoPath (flag?: string): string {
  return resolve(flag ?? process.env.EDGESWARM_REPO ?? join(homedir(), '.edgeswarm'))
}

/** Where each part of the repo at `root` lives. */
export function repoPaths (root: string): RepoPaths {
  return {
    root,
    config: join(root, 'config.json'),
    identity: join(root, 'identity.key'),
    datastore: join(root, 'datastore'),
    blocks: join(root, 'blocks'),
    swarmKey: join(root, 'swarm.key'),
    api: join(root, 'api'),
    lock: join(root, 'repo.lock')
  }
}

async function exists (path: string): Promise<boolean> {
  try { await stat(path); return true } catch { return false }
}

export interface InitOptions {
  /** Text of a swarm key to copy into the repo (validated). */
  swarmKey?: string
  /** Listen multiaddrs for config.json. @default DEFAULT_LISTEN */
  listen?: string[]
  /** Bootstrap multiaddrs (with /p2p/) for config.json. @default none */
  bootstrap?: string[]
  /** HOST:PORT of the RPC API for config.json (loopback). @default DEFAULT_API */
  api?: string
}

/** Creates a new repo; refuses if one is already there. Returns its config. */
export async function initRepo (root: string, options: InitOptions = {}): Promise<EdgeConfig> {
  const paths = repoPaths(root)
  if (await exists(paths.config) || await exists(paths.identity)) {
    throw new RepoExistsError(`a repo already exists at ${root} (remove it or choose another --repo)`)
  }
  if (options.swarmKey != null) parseSwarmKey(options.swarmKey)
  await mkdir(root, { recursive: true, mode: 0o700 })
  const key = await generateKeyPair('Ed25519')
  const config = defaultConfig(peerIdFromPrivateKey(key).toString(), options)
  await writeFile(paths.identity, privateKeyToProtobuf(key), { mode: 0o600, flag: 'wx' })
  await writeFile(paths.config, JSON.stringify(config, null, 2) + '\n', { mode: 0o600, flag: 'wx' })
  if (options.swarmKey != null) {
    await writeFile(paths.swarmKey, options.swarmKey, { mode: 0o600, flag: 'wx' })
  }
  return config
}

function processAlive (pid: number): boolean {
  try { process.kill(pid, 0); return true } catch (err) { return (err as NodeJS.ErrnoException).code === 'EPERM' }
}

/** Takes the repo's lock file; clears a stale one left by a dead process. */
async function acquireLock (path: string, root: string): Promise<void> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(path, 'wx', 0o600)
      await fh.writeFile(String(process.pid))
      await fh.close()
      return
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      const pid = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10)
      if (Number.isInteger(pid) && pid > 0 && processAlive(pid)) {
        throw new RepoLockedError(`repo ${root} is in use by another edgeswarm process (pid ${pid})`)
      }
      await rm(path, { force: true })
    }
  }
  throw new RepoLockedError(`could not lock repo ${root}`)
}

/** An open, locked repo. */
export class Repo {
  readonly paths: RepoPaths
  readonly config: EdgeConfig
  readonly privateKey: PrivateKey
  readonly swarmKey: Uint8Array | undefined
  readonly datastore: LevelDatastore
  private closed = false

  private constructor (paths: RepoPaths, config: EdgeConfig, privateKey: PrivateKey, swarmKey: Uint8Array | undefined, datastore: LevelDatastore) {
    this.paths = paths
    this.config = config
    this.privateKey = privateKey
    this.swarmKey = swarmKey
    this.datastore = datastore
  }

  /** Opens and locks the repo at `root`, with its datastore open. */
  static async open (root: string): Promise<Repo> {
    const paths = repoPaths(resolve(root))
    if (!await exists(paths.config)) {
      throw new RepoNotFoundError(`no repo at ${paths.root} (run \`edgeswarm init --repo ${paths.root}\` first)`)
    }
    const config = parseConfig(await readFile(paths.config, 'utf8'), paths.config)
    const privateKey = privateKeyFromProtobuf(await readFile(paths.identity))
    const peerId = peerIdFromPrivateKey(privateKey).toString()
    if (peerId !== config.identity.peerId) {
      throw new Error(`${paths.identity} does not match the peer id in ${paths.config}`)
    }
    // identity must stay private even if someone loosened the mode
    await chmod(paths.identity, 0o600)
    const swarmKey = await exists(paths.swarmKey) ? parseSwarmKey(await readFile(paths.swarmKey, 'utf8')) : undefined
    await acquireLock(paths.lock, paths.root)
    const datastore = new LevelDatastore(paths.datastore)
    try {
      await datastore.open()
    } catch (err) {
      await rm(paths.lock, { force: true })
      throw new RepoLockedError(`cannot open the datastore of ${paths.root}: ${(err as Error).message}`)
    }
    return new Repo(paths, config, privateKey, swarmKey, datastore)
  }

  /** Writes the running daemon's API multiaddr to `<repo>/api` (removed again on close). */
  async writeApiAddress (address: string): Promise<void> {
    await writeFile(this.paths.api, address + '\n', { mode: 0o600 })
  }

  /** Removes `<repo>/api`, closes the datastore and releases the lock; safe to call twice. */
  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    await rm(this.paths.api, { force: true })
    await this.datastore.close()
    await rm(this.paths.lock, { force: true })
  }
}
