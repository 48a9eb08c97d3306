/**
 * sim/host: the entry of a child process that hosts a share of the
 * simulation's peers. Reads commands from the IPC channel, validates them,
 * runs them on a LocalPeerHost and answers.
 *
 * Owns nothing but the process: it stops its peers and exits when told to
 * shut down, when the coordinator goes away (IPC disconnect) and on SIGTERM;
 * it ignores SIGINT (a terminal's Ctrl-C reaches the whole process group, and
 * the coordinator decides when peers stop). Never writes to stdout.
 */
import { LocalPeerHost } from './peer-host.ts'
import { parseRequest, type HostResponse, type HostReady } from './host-protocol.ts'

/** Exit code when the coordinator vanished or a signal ended the host. */
const EXIT_ABANDONED = 2

if (process.send == null) {
  process.stderr.write('sim/host: must be started by the simulation (child_process.fork with an IPC channel)\n')
  process.exit(1)
}

const hostId = Number.parseInt(process.argv[2] ?? '0', 10)
const host = new LocalPeerHost(Number.isInteger(hostId) ? hostId : 0)
let exiting = false

function send (msg: HostResponse | HostReady): Promise<void> {
  return new Promise(resolve => {
    if (process.send == null || !process.connected) { resolve(); return }
    process.send(msg, undefined, {}, () => { resolve() })
  })
}

async function exit (code: number): Promise<void> {
  if (exiting) return
  exiting = true
  await host.close().catch(() => {})
  if (process.connected) process.disconnect()
  process.exit(code)
}

process.on('message', (raw: unknown) => {
  let request: ReturnType<typeof parseRequest>
  try {
    request = parseRequest(raw)
  } catch (err) {
    const id = typeof raw === 'object' && raw != null && typeof (raw as { id?: unknown }).id === 'number' ? (raw as { id: number }).id : -1
    void send({ kind: 'response', id, ok: false, error: { name: (err as Error).name, message: (err as Error).message } })
    return
  }
  const { id, op, args } = request
  host.call(op, args as never).then(
    async (result) => {
      await send({ kind: 'response', id, ok: true, result })
      if (op === 'shutdown') await exit(0)
    },
    async (err: unknown) => {
      const e = err instanceof Error ? err : new Error(String(err))
      await send({ kind: 'response', id, ok: false, error: { name: e.name, message: e.message } })
    }
  )
})

process.on('disconnect', () => { void exit(EXIT_ABANDONED) })
process.on('SIGTERM', () => { void exit(EXIT_ABANDONED) })
process.on('SIGINT', () => { /* the coordinator shuts us down */ })
// a libp2p stream torn down under load must not take a hundred peers with it
process.on('unhandledRejection', (reason) => {
  process.stderr.write(`sim/host ${hostId}: unhandled rejection: ${reason instanceof Error ? reason.stack ?? reason.message : String(reason)}\n`)
})

void send({ kind: 'ready', pid: process.pid })
