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

/** Units a duration argument may carry, in ms. */
const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** A duration: a number and a unit (`500ms`, `90s`, `10m`, `1.5h`, `2d`; a space between them is allowed), in whole ms. */
export function parseDuration (value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(value)
  const ms = m == null ? NaN : Math.round(Number(m[1]) * DURATION_UNITS[m[2]])
  if (!Number.isSafeInteger(ms)) throw new InvalidArgumentError(`"${value}" is not a duration (a number and a unit: ms, s, m, h or d, as in 10m)`)
  return ms
}

/** A retention: `0` (forever) or a duration (see parseDuration). */
export function parseKeep (value: string): number {
  return value.trim() === '0' ? 0 : parseDuration(value)
}
