/**
 * cli/args: parsing and validation of CLI argument values, at the CLI boundary,
 * once. Pure; never reads files or the network.
 */
import { multiaddr } from '@multiformats/multiaddr'
import { InvalidArgumentError } from 'commander'

/** Commander collector for repeatable options. */
export function collect (value: string, previous: string[] = []): string[] {
  return [...previous, value]
}

/** Validates a multiaddr argument. */
export function parseMultiaddr (value: string, what = 'multiaddr'): string {
  try {
    if (!value.startsWith('/')) throw new Error('must start with /')
    return multiaddr(value).toString()
  } catch (err) {
    throw new InvalidArgumentError(`bad ${what} "${value}": ${(err as Error).message}`)
  }
}

/** A bootstrap address must name its peer. */
export function parseBootstrap (value: string): string {
  const ma = parseMultiaddr(value, 'bootstrap multiaddr')
  if (!ma.includes('/p2p/')) throw new InvalidArgumentError(`bad bootstrap multiaddr "${value}": it must end with /p2p/<peer id>`)
  return ma
}

export function parseHostPort (value: string): string {
  if (!/^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/.test(value)) {
    throw new InvalidArgumentError(`bad address "${value}": expected HOST:PORT, e.g. 127.0.0.1:5001`)
  }
  return value
}

export function parsePositiveInt (value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError(`"${value}" is not a positive whole number`)
  }
  return Number(value)
}
