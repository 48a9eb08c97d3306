/**
 * node/swarm-key: the pre-shared key that makes a private swarm. Owns the
 * `swarm.key` file format (`/key/swarm/psk/1.0.0/`, `/base16/`, 64 hex digits,
 * as IPFS/Kubo write it) and the connection gate derived from it: a Noise
 * prologue (docs/decisions/node-private-swarm-noise-prologue.md). Never logs or
 * returns the key bytes anywhere but to the gate.
 */
import { randomBytes } from 'node:crypto'
import { sha256 } from 'multiformats/hashes/sha2'
import { fromString, toString, concat } from 'uint8arrays'

/** Length in bytes of a swarm key (a 256-bit secret). */
const SWARM_KEY_LENGTH = 32

const HEADER = '/key/swarm/psk/1.0.0/'
const ENCODING = '/base16/'
/** Domain separator so the prologue can never collide with another use of the key. */
const PROLOGUE_DOMAIN = fromString('edgeswarm/private-swarm/v1\n')

export class InvalidSwarmKeyError extends Error {
  override name = 'InvalidSwarmKeyError'
}

/** Generates a new swarm key in `swarm.key` text form. */
export function generateSwarmKey (): string {
  return `${HEADER}\n${ENCODING}\n${toString(randomBytes(SWARM_KEY_LENGTH), 'base16')}\n`
}

/** Parses `swarm.key` text; throws InvalidSwarmKeyError saying what is wrong. */
export function parseSwarmKey (text: string): Uint8Array {
  const lines = text.split(/\r?\n/).map(l => l.trim()).filter(l => l !== '')
  if (lines[0] !== HEADER) {
    throw new InvalidSwarmKeyError(`swarm key must start with "${HEADER}"`)
  }
  if (lines[1] !== ENCODING) {
    throw new InvalidSwarmKeyError(`swarm key encoding must be "${ENCODING}" (got "${lines[1] ?? ''}")`)
  }
  const hex = lines[2] ?? ''
  if (!/^[0-9a-fA-F]{64}$/.test(hex) || lines.length !== 3) {
    throw new InvalidSwarmKeyError('swarm key must have exactly 64 hex digits after the header')
  }
  return fromString(hex.toLowerCase(), 'base16')
}

/**
 * The Noise prologue for a private swarm: both ends of a handshake must use
 * the same prologue or the handshake fails, so peers without the key (or with
 * another one) cannot connect at all. The key itself never goes on the wire.
 */
export async function swarmPrologue (key: Uint8Array): Promise<Uint8Array> {
  const digest = await sha256.digest(concat([PROLOGUE_DOMAIN, key]))
  return digest.digest
}
