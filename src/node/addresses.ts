/**
 * node/addresses: what a listen address, a bootstrap address and the RPC API
 * address must look like, checked once wherever one enters (config.json, a CLI
 * flag, a `createEdgeNode` option). Each check returns the problem as a short
 * phrase, or undefined, so every caller names its own field or flag. Pure;
 * never dials or binds.
 */
import { multiaddr, type Component } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'

/** A listen or bootstrap address is refused: `address` is the text, `reason` what is wrong with it. */
export class InvalidAddressError extends Error {
  override name = 'InvalidAddressError'
  readonly address: string
  readonly reason: string
  constructor (what: string, address: string, reason: string) {
    super(`bad ${what} "${address}": ${reason}`)
    this.address = address
    this.reason = reason
  }
}

const HOST_PROTOCOLS = new Set(['ip4', 'ip6', 'dns', 'dns4', 'dns6'])
const LISTEN_HOST_PROTOCOLS = new Set(['ip4', 'ip6'])
/** Host names the API may bind to: loopback only. */
const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1', '[::1]'])

function components (address: string): Component[] | string {
  if (!address.startsWith('/')) return 'a multiaddr starts with /'
  try {
    return multiaddr(address).getComponents()
  } catch (err) {
    return `not a valid multiaddr (${(err as Error).message})`
  }
}

function portProblem (port: string | undefined): string | undefined {
  const n = Number(port)
  return Number.isInteger(n) && n >= 0 && n <= 65_535 ? undefined : `port ${port ?? '(none)'} is not 0..65535`
}

/** Why `address` cannot be listened on (edgeswarm listens on TCP only), or undefined. */
export function listenAddressProblem (address: string): string | undefined {
  const parts = components(address)
  if (typeof parts === 'string') return parts
  if (parts.length !== 2 || !LISTEN_HOST_PROTOCOLS.has(parts[0].name) || parts[1].name !== 'tcp') {
    return 'a listen address is /ip4/HOST/tcp/PORT or /ip6/HOST/tcp/PORT'
  }
  return portProblem(parts[1].value)
}

/** Why `address` cannot be a bootstrap peer (a TCP address ending in /p2p/<peer id>), or undefined. */
export function bootstrapAddressProblem (address: string): string | undefined {
  const parts = components(address)
  if (typeof parts === 'string') return parts
  const last = parts.at(-1)
  if (last?.name !== 'p2p') return 'it must end with /p2p/<peer id>'
  try {
    peerIdFromString(last.value ?? '')
  } catch {
    return `"${last.value ?? ''}" is not a peer id`
  }
  if (parts.length !== 3 || !HOST_PROTOCOLS.has(parts[0].name) || parts[1].name !== 'tcp') {
    return 'a bootstrap address is /ip4/HOST/tcp/PORT/p2p/<peer id> (or /ip6, /dns, /dns4, /dns6)'
  }
  return portProblem(parts[1].value)
}

/** Why `hostPort` cannot be the RPC API's address (loopback HOST:PORT), or undefined. */
export function apiAddressProblem (hostPort: string): string | undefined {
  const m = /^(\[[0-9a-fA-F:]+\]|[^:\s[\]]+):(\d{1,5})$/.exec(hostPort)
  if (m == null) return 'expected HOST:PORT, e.g. 127.0.0.1:5001'
  const host = m[1].toLowerCase()
  if (!LOOPBACK_NAMES.has(host) && !/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)) {
    return 'the API listens on loopback only (127.0.0.1, ::1 or localhost)'
  }
  return portProblem(m[2])
}

/** Why `hostPort` cannot be the read-only listener's address (any HOST:PORT: it serves no command), or undefined. */
export function metricsAddressProblem (hostPort: string): string | undefined {
  const m = /^(\[[0-9a-fA-F:]+\]|[^:\s[\]]+):(\d{1,5})$/.exec(hostPort)
  if (m == null) return 'expected HOST:PORT, e.g. 0.0.0.0:9090'
  return portProblem(m[2])
}

/** Throws InvalidAddressError for the first listen or bootstrap address that cannot be used. */
export function checkPeerAddresses (listen: readonly string[], bootstrap: readonly string[]): void {
  for (const a of listen) {
    const problem = listenAddressProblem(a)
    if (problem != null) throw new InvalidAddressError('listen address', a, problem)
  }
  for (const a of bootstrap) {
    const problem = bootstrapAddressProblem(a)
    if (problem != null) throw new InvalidAddressError('bootstrap address', a, problem)
  }
}
