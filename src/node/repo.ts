/**
 * node/repo: the repo, one directory per device holding its identity, config,
 * datastore, blocks, optional swarm key and (while a daemon runs) its API
 * address. Owns the on-disk layout, the single-writer lock and the one-line
 * account of every way a repo can be unusable (missing, locked, unreadable,
 * a corrupt identity or swarm key, a bad config). Never opens the same repo
 * twice: a second process (or a second node in this process) gets a
 * RepoLockedError.
 *
 * The lock is LevelDB's own lock on `datastore/` (an OS lock on an open file,
 * released when the process ends however it ends), taken first on every open;
 * `repo.lock` only names the pid holding it, for the message, and is never
 * consulted to decide.
 */
import { mkdir, readFile, rename, rm, stat, writeFile, chmod } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { LevelDatastore } from 'datastore-level'
import type { PrivateKey } from '@libp2p/interface'
import { defaultConfig, parseConfig, type ConfigFieldBounds, type EdgeConfig } from './config.ts'
import { InvalidSwarmKeyError, parseSwarmKey } from './swarm-key.ts'

export class RepoExistsError extends Error {
  override name = 'RepoExistsError'
}
export class RepoNotFoundError extends Error {
  override name = 'RepoNotFoundError'
}
/** Another process (or another node of this one) has the repo open. */
export class RepoLockedError extends Error {
  override name = 'RepoLockedError'
}
/** A file of the repo is missing, unreadable or corrupt; the message names it and what to do. */
export class RepoFileError extends Error {
  override name = 'RepoFileError'
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

/** A file-system error as a short phrase (`permission denied`), for messages that name the file. */
function fsReason (err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code
  switch (code) {
    case 'ENOENT': return 'no such file or directory'
    case 'EACCES': case 'EPERM': return 'permission denied'
    case 'EISDIR': return 'it is a directory'
    case 'ENOTDIR': return 'a part of the path is not a directory'
    case 'ENOSPC': return 'no space left on the device'
    case 'EROFS': return 'read-only file system'
    default: return code ?? (err as Error).message
  }
}

/** Whether `path` exists; an error other than "missing" (a directory without permission) is a RepoFileError. */
async function exists (path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw new RepoFileError(`cannot read ${path}: ${fsReason(err)}`)
  }
}

async function readRepoFile (path: string): Promise<Buffer> {
  try {
    return await readFile(path)
  } catch (err) {
    throw new RepoFileError(`cannot read ${path}: ${fsReason(err)}`)
  }
}

/** The identity key of the repo, or a RepoFileError saying how to recover it. */
async function readIdentity (paths: RepoPaths): Promise<PrivateKey> {
  if (!await exists(paths.identity)) {
    throw new RepoFileError(`${paths.identity} is missing: restore it from a backup, or run \`edgeswarm init --force --repo ${paths.root}\` for a new identity (a new peer id)`)
  }
  const bytes = await readRepoFile(paths.identity)
  try {
    return privateKeyFromProtobuf(bytes)
  } catch {
    throw new RepoFileError(`${paths.identity} is not a valid identity key (truncated or corrupt): restore it from a backup, or remove it and run \`edgeswarm init --force --repo ${paths.root}\` for a new identity (a new peer id)`)
  }
}

/** The repo's swarm key, undefined without `swarm.key`; an unreadable or malformed one names the file. */
async function readSwarmKey (paths: RepoPaths): Promise<Uint8Array | undefined> {
  if (!await exists(paths.swarmKey)) return undefined
  const text = (await readRepoFile(paths.swarmKey)).toString('utf8')
  try {
    return parseSwarmKey(text)
  } catch (err) {
    if (err instanceof InvalidSwarmKeyError) throw new InvalidSwarmKeyError(`${paths.swarmKey}: ${err.message}`)
    throw err
  }
}

/**
 * Opens the repo's datastore, which takes the repo's lock: LevelDB locks its
 * directory with an OS lock on an open file, held by this process until it
 * closes the datastore or ends, however it ends, so a lock can never outlive
 * its holder. Then records this pid in `repo.lock` for the message others get.
 */
async function lockRepo (paths: RepoPaths): Promise<LevelDatastore> {
  const datastore = new LevelDatastore(paths.datastore)
  try {
    // opened through the level instance: LevelDatastore.open() drops the cause that tells a held lock from damage
    await datastore.db.open({ createIfMissing: true, compression: false })
    await datastore.open()
  } catch (err) {
    const cause = (err as { cause?: { code?: string, message?: string } }).cause
    if (cause?.code === 'LEVEL_LOCKED') {
      const pid = (await readFile(paths.lock, 'utf8').catch(() => '')).trim()
      if (pid === String(process.pid)) throw new RepoLockedError(`repo ${paths.root} is already open in this process`)
      throw new RepoLockedError(`repo ${paths.root} is in use by another edgeswarm process${/^\d+$/.test(pid) ? ` (pid ${pid})` : ''}; stop it first`)
    }
    throw new RepoFileError(`cannot open the datastore ${paths.datastore}: ${cause?.message ?? (err as Error).message}`)
  }
  try {
    await writeFile(paths.lock, `${process.pid}\n`, { mode: 0o600 })
  } catch (err) {
    await datastore.close()
    throw new RepoFileError(`cannot write ${paths.lock}: ${fsReason(err)}`)
  }
  return datastore
}

/** Releases what lockRepo took: the pid note first, so no other holder's note is removed. */
async function unlockRepo (paths: RepoPaths, datastore: LevelDatastore): Promise<void> {
  await rm(paths.lock, { force: true })
  await datastore.close()
}

async function writeConfig (paths: RepoPaths, config: EdgeConfig): Promise<void> {
  await writeFile(paths.config, JSON.stringify(config, null, 2) + '\n', { mode: 0o600, flag: 'wx' })
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
  const paths = repoPaths(resolve(root))
  if (await exists(paths.config) || await exists(paths.identity)) {
    throw new RepoExistsError(`a repo already exists at ${paths.root}; \`edgeswarm init --force --repo ${paths.root}\` rewrites its config.json, keeping its identity and data`)
  }
  if (options.swarmKey != null) parseSwarmKey(options.swarmKey)
  try {
    await mkdir(paths.root, { recursive: true, mode: 0o700 })
  } catch (err) {
    throw new RepoFileError(`cannot create ${paths.root}: ${fsReason(err)}`)
  }
  const key = await generateKeyPair('Ed25519')
  const config = defaultConfig(peerIdFromPrivateKey(key).toString(), options)
  await writeFile(paths.identity, privateKeyToProtobuf(key), { mode: 0o600, flag: 'wx' })
  await writeConfig(paths, config)
  if (options.swarmKey != null) {
    await writeFile(paths.swarmKey, options.swarmKey, { mode: 0o600, flag: 'wx' })
  }
  return config
}

/** What `reinitRepo` did. */
export interface ReinitResult {
  config: EdgeConfig
  /** A new identity was made: the repo had none. */
  newIdentity: boolean
  /** Where the config.json it replaced was moved, if there was one. */
  previousConfig?: string
}

/**
 * Writes a fresh config.json for the repo's identity key (a new identity only
 * when the repo has no key), keeping the datastore and blocks; the old
 * config.json, if any, is kept as `config.json.bak`. Refuses while another
 * process has the repo open, and when the identity key is unreadable or corrupt
 * (its peer id would be lost). Creates the repo when there is none.
 */
export async function reinitRepo (root: string, options: InitOptions = {}): Promise<ReinitResult> {
  const paths = repoPaths(resolve(root))
  if (!await exists(paths.config) && !await exists(paths.identity)) {
    return { config: await initRepo(paths.root, options), newIdentity: true }
  }
  if (options.swarmKey != null) parseSwarmKey(options.swarmKey)
  const datastore = await lockRepo(paths)
  try {
    let key: PrivateKey
    let newIdentity = false
    if (await exists(paths.identity)) {
      key = await readIdentity(paths)
    } else {
      key = await generateKeyPair('Ed25519')
      await writeFile(paths.identity, privateKeyToProtobuf(key), { mode: 0o600, flag: 'wx' })
      newIdentity = true
    }
    const config = defaultConfig(peerIdFromPrivateKey(key).toString(), options)
    let previousConfig: string | undefined
    if (await exists(paths.config)) {
      previousConfig = `${paths.config}.bak`
      await rename(paths.config, previousConfig)
    }
    await writeConfig(paths, config)
    if (options.swarmKey != null) await writeFile(paths.swarmKey, options.swarmKey, { mode: 0o600 })
    return { config, newIdentity, ...(previousConfig != null ? { previousConfig } : {}) }
  } finally {
    await unlockRepo(paths, datastore)
  }
}

export interface RepoOpenOptions {
  /** Bounds the layers above put on their config.json fields (see ConfigFieldBounds). */
  configBounds?: ConfigFieldBounds
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

  /**
   * Locks the repo at `root` and reads it: the datastore stays open, config.json
   * is validated (with `configBounds`), the identity checked against it. Any
   * failure releases the lock and names the file (and field) at fault.
   */
  static async open (root: string, options: RepoOpenOptions = {}): Promise<Repo> {
    const paths = repoPaths(resolve(root))
    if (!await exists(paths.config) && !await exists(paths.identity)) {
      throw new RepoNotFoundError(`no repo at ${paths.root} (run \`edgeswarm init --repo ${paths.root}\` first)`)
    }
    const datastore = await lockRepo(paths)
    try {
      if (!await exists(paths.config)) {
        throw new RepoFileError(`${paths.config} is missing: \`edgeswarm init --force --repo ${paths.root}\` rebuilds it from identity.key`)
      }
      const config = parseConfig((await readRepoFile(paths.config)).toString('utf8'), paths.config, options.configBounds)
      const privateKey = await readIdentity(paths)
      const peerId = peerIdFromPrivateKey(privateKey).toString()
      if (peerId !== config.identity.peerId) {
        throw new RepoFileError(`${paths.identity} is peer ${peerId}, but ${paths.config} says identity.peerId ${config.identity.peerId}: \`edgeswarm init --force --repo ${paths.root}\` rebuilds config.json for the key`)
      }
      // identity must stay private even if someone loosened the mode
      await chmod(paths.identity, 0o600)
      const swarmKey = await readSwarmKey(paths)
      return new Repo(paths, config, privateKey, swarmKey, datastore)
    } catch (err) {
      await unlockRepo(paths, datastore)
      throw err
    }
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
    await unlockRepo(this.paths, this.datastore)
  }
}
