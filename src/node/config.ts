/**
 * The repo's `config.json`: its schema, defaults and validation.
 *
 * Owns the one JSON file an operator edits. Every section is validated here,
 * once, with a message that names the bad field; the rest of edgeswarm only
 * sees a typed `EdgeConfig`.
 */
import { z } from 'zod'
import { multiaddr } from '@multiformats/multiaddr'
import {
  DEFAULT_API, DEFAULT_INBOUND_CONNECTION_THRESHOLD, DEFAULT_LISTEN,
  DEFAULT_MAX_CONNECTIONS, DEFAULT_TARGET_PEERS
} from './constants.ts'

export class InvalidConfigError extends Error {
  override name = 'InvalidConfigError'
}

const multiaddrString = z.string().refine(s => {
  try { multiaddr(s); return s.startsWith('/') } catch { return false }
}, { message: 'not a valid multiaddr' })

const hostPort = z.string().regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]+):\d{1,5}$/, 'must be HOST:PORT')

export const ConfigSchema = z.object({
  version: z.literal(1).default(1),
  identity: z.object({ peerId: z.string() }),
  addresses: z.object({
    listen: z.array(multiaddrString).default(DEFAULT_LISTEN),
    /** HOST:PORT of the RPC API; must be loopback. */
    api: hostPort.default(DEFAULT_API)
  }).prefault({}),
  bootstrap: z.array(multiaddrString).default([]),
  discovery: z.object({
    mdns: z.boolean().default(true),
    targetPeers: z.number().int().min(0).default(DEFAULT_TARGET_PEERS)
  }).prefault({}),
  limits: z.object({
    maxConnections: z.number().int().min(1).default(DEFAULT_MAX_CONNECTIONS),
    inboundConnectionThreshold: z.number().min(1).default(DEFAULT_INBOUND_CONNECTION_THRESHOLD),
    /** Bytes this peer stores for others at most; the data layer's default when absent. */
    storageMax: z.number().int().min(0).optional()
  }).prefault({}),
  data: z.object({
    replicas: z.number().int().min(1).max(20).optional(),
    repairIntervalMs: z.number().int().min(100).optional(),
    chunkSize: z.number().int().optional()
  }).prefault({}),
  scheduler: z.object({
    slots: z.number().int().min(0).optional(),
    labels: z.array(z.string()).default([]),
    gpu: z.boolean().default(false)
  }).prefault({})
})

export type EdgeConfig = z.infer<typeof ConfigSchema>

/** Parses and validates config JSON text; throws InvalidConfigError naming the field. */
export function parseConfig (text: string, source = 'config.json'): EdgeConfig {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (err) {
    throw new InvalidConfigError(`${source} is not valid JSON: ${(err as Error).message}`)
  }
  const result = ConfigSchema.safeParse(raw)
  if (!result.success) {
    const issue = result.error.issues[0]
    throw new InvalidConfigError(`${source}: ${issue.path.join('.') || '(root)'}: ${issue.message}`)
  }
  return result.data
}

/** A fresh config for a new repo. */
export function defaultConfig (peerId: string, overrides: { listen?: string[], bootstrap?: string[], api?: string } = {}): EdgeConfig {
  return ConfigSchema.parse({
    identity: { peerId },
    addresses: { listen: overrides.listen ?? DEFAULT_LISTEN, api: overrides.api ?? DEFAULT_API },
    bootstrap: overrides.bootstrap ?? []
  })
}
