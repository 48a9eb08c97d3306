/**
 * cli/args: parsing and validation of CLI argument values, at the CLI boundary,
 * once. Pure; never reads files or the network.
 */
import { multiaddr } from '@multiformats/multiaddr'
import { InvalidArgumentError } from 'commander'
// the module alone, not the node layer's front door: parsing a flag must not load the peer stack
import { apiAddressProblem, bootstrapAddressProblem, listenAddressProblem } from '../node/addresses.ts'

/** Commander collector for repeatable options. */
export function collect (value: string, previous: string[] = []): string[] {
  return [...previous, value]
}

/** A listen address edgeswarm can bind: /ip4|ip6/HOST/tcp/PORT. */
export function parseListen (value: string): string {
  const problem = listenAddressProblem(value)
  if (problem != null) throw new InvalidArgumentError(`bad listen address "${value}": ${problem}`)
  return multiaddr(value).toString()
}

/** A bootstrap address must name its peer with a valid peer id. */
export function parseBootstrap (value: string): string {
  const problem = bootstrapAddressProblem(value)
  if (problem != null) throw new InvalidArgumentError(`bad bootstrap address "${value}": ${problem}`)
  return multiaddr(value).toString()
}

/** The RPC API's HOST:PORT, loopback only. */
export function parseHostPort (value: string): string {
  const problem = apiAddressProblem(value)
  if (problem != null) throw new InvalidArgumentError(`bad API address "${value}": ${problem}`)
  return value
}

export function parsePositiveInt (value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError(`"${value}" is not a positive whole number`)
  }
  return Number(value)
}
