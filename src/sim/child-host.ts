/**
 * sim/child-host: a child process hosting a share of the peers, seen from
 * the coordinator. Forks `host.ts` (Node strips the types itself), sends it
 * commands over the IPC channel and validates every answer.
 *
 * Owns the child's life: it is shut down by `close()`, killed if it does not
 * exit, and every pending command fails with the child's last stderr lines
 * if it dies. Never forwards the child's output to the user.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import {
  HOST_EXIT_TIMEOUT_MS, HOST_MAX_OLD_SPACE_MB, HOST_MAX_SEMI_SPACE_MB, HOST_READY_TIMEOUT_MS, HOST_REQUEST_MARGIN_MS, HOST_REQUEST_TIMEOUT_MS, HOST_STDERR_TAIL_BYTES
} from './constants.ts'
import { SimHostError } from './errors.ts'
import { parseFromHost, parseResult, type HostArgs, type HostOp, type HostResult, type PeerHost } from './host-protocol.ts'

/** The child entry next to this module: host.ts from sources, host.js from a build. */
function hostEntry (): string {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js'
  return fileURLToPath(new URL(`./host${ext}`, import.meta.url))
}

/** Node flags of the child: type stripping without its warning, and room for many peers. */
function childExecArgv (): string[] {
  return [
    '--experimental-strip-types',
    '--disable-warning=ExperimentalWarning',
    `--max-old-space-size=${HOST_MAX_OLD_SPACE_MB}`,
    `--max-semi-space-size=${HOST_MAX_SEMI_SPACE_MB}`
  ]
}

interface Pending {
  op: HostOp
  resolve: (value: unknown) => void
  reject: (err: Error) => void
  timer: ReturnType<typeof setTimeout>
}

export class ChildPeerHost implements PeerHost {
  readonly id: number
  private readonly child: ChildProcess
  private readonly pending = new Map<number, Pending>()
  private nextId = 1
  private stderrTail = ''
  private exited: Promise<void>
  private exitInfo?: string
  private closing?: Promise<void>

  private constructor (id: number, child: ChildProcess) {
    this.id = id
    this.child = child
    child.stderr?.setEncoding('utf8')
    child.stderr?.on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-HOST_STDERR_TAIL_BYTES)
    })
    this.exited = new Promise(resolve => {
      child.once('exit', (code, signal) => {
        this.exitInfo = signal != null ? `signal ${signal}` : `code ${String(code)}`
        this.failAll(new SimHostError(`host ${id} (pid ${child.pid ?? '?'}) exited with ${this.exitInfo}${this.tail()}`))
        resolve()
      })
    })
    child.on('message', (raw: unknown) => { this.onMessage(raw) })
    // an IPC error (channel closed) surfaces as the exit above
    child.on('error', () => {})
  }

  /** Forks a host process and waits until it is ready for commands. */
  static async start (id: number): Promise<ChildPeerHost> {
    const child = fork(hostEntry(), [String(id)], {
      execArgv: childExecArgv(),
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'pipe', 'ipc']
    })
    const host = new ChildPeerHost(id, child)
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => { reject(new SimHostError(`host ${id} did not start within ${HOST_READY_TIMEOUT_MS} ms${host.tail()}`)) }, HOST_READY_TIMEOUT_MS)
        const onMessage = (raw: unknown): void => {
          try {
            if (parseFromHost(raw).kind === 'ready') { done(); resolve() }
          } catch { /* reported by onMessage */ }
        }
        const onExit = (): void => { done(); reject(new SimHostError(`host ${id} exited during start-up${host.tail()}`)) }
        const done = (): void => {
          clearTimeout(timer)
          child.off('message', onMessage)
          child.off('exit', onExit)
        }
        child.on('message', onMessage)
        child.once('exit', onExit)
      })
    } catch (err) {
      await host.crash()
      throw err
    }
    return host
  }

  private tail (): string {
    const t = this.stderrTail.trim()
    return t === '' ? '' : `; its stderr ends with:\n${t}`
  }

  private failAll (err: Error): void {
    for (const p of this.pending.values()) { clearTimeout(p.timer); p.reject(err) }
    this.pending.clear()
  }

  private onMessage (raw: unknown): void {
    let msg
    try {
      msg = parseFromHost(raw)
    } catch (err) {
      this.failAll(err as Error)
      return
    }
    if (msg.kind !== 'response') return
    const p = this.pending.get(msg.id)
    if (p == null) return
    this.pending.delete(msg.id)
    clearTimeout(p.timer)
    if (msg.ok) {
      try { p.resolve(parseResult(p.op, msg.result)) } catch (err) { p.reject(err as Error) }
    } else {
      const err = new SimHostError(`host ${this.id}: ${p.op}: ${msg.error.name}: ${msg.error.message}`)
      p.reject(err)
    }
  }

  async call<K extends HostOp> (op: K, args: HostArgs<K>): Promise<HostResult<K>> {
    if (this.exitInfo != null) throw new SimHostError(`host ${this.id} has exited (${this.exitInfo})${this.tail()}`)
    const id = this.nextId++
    // a request with its own time limit gets that long and a margin to answer
    const own = (args as { timeoutMs?: unknown }).timeoutMs
    const limitMs = Math.max(HOST_REQUEST_TIMEOUT_MS, typeof own === 'number' ? own + HOST_REQUEST_MARGIN_MS : 0)
    return await new Promise<HostResult<K>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new SimHostError(`host ${this.id} did not answer ${op} within ${limitMs} ms`))
      }, limitMs)
      this.pending.set(id, { op, resolve: resolve as (v: unknown) => void, reject, timer })
      this.child.send({ kind: 'request', id, op, args }, (err) => {
        if (err != null && this.pending.delete(id)) { clearTimeout(timer); reject(new SimHostError(`host ${this.id}: cannot send ${op}: ${err.message}`)) }
      })
    })
  }

  /**
   * Ends the process at once with SIGKILL, as a device losing power: its
   * peers get no turn to say goodbye, the kernel closes their sockets, and
   * every pending command fails. Needs nothing from the child's event loop.
   */
  async crash (): Promise<void> {
    if (this.exitInfo == null) this.child.kill('SIGKILL')
    await this.exited
  }

  /** Asks the child to stop its peers and exit; kills it if it does not. */
  async close (): Promise<void> {
    this.closing ??= (async () => {
      if (this.exitInfo != null) return
      const timeout = sleep(HOST_EXIT_TIMEOUT_MS, 'timeout' as const, { ref: false })
      const asked = this.call('shutdown', {}).then(async () => await this.exited).catch(() => {})
      if (await Promise.race([asked, timeout]) === 'timeout') await this.crash()
      else await Promise.race([this.exited, timeout.then(async () => { await this.crash() })])
    })()
    await this.closing
  }
}
