/**
 * config.json's validation as properties over every field: each valid value is
 * accepted as given, each bad one (out of bounds, wrong type, a bad address, an
 * unknown key at any level) is refused with one line naming the file and the
 * field; durations stay below Node's timer limit.
 */
import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import { parseConfig, InvalidConfigError, defaultConfig, listenAddressProblem, bootstrapAddressProblem, apiAddressProblem } from '../../src/node/index.ts'
import { CONFIG_FIELD_BOUNDS } from '../../src/edge-node.ts'
import { DURATION_FIELDS, MAX_TIMER_DELAY_MS, NUMERIC_FIELDS, SOME_PEER_ID, badField, validSettings, withValue } from './config-fields.ts'

const SOURCE = '/repo/config.json'
const base = (): Record<string, unknown> => ({ ...defaultConfig(SOME_PEER_ID, { listen: ['/ip4/127.0.0.1/tcp/0'] }) })
const parse = (config: unknown): ReturnType<typeof parseConfig> => parseConfig(JSON.stringify(config), SOURCE, CONFIG_FIELD_BOUNDS)

function refusal (config: unknown): InvalidConfigError {
  try {
    parse(config)
  } catch (err) {
    if (err instanceof InvalidConfigError) return err
    throw err
  }
  throw new Error(`accepted ${JSON.stringify(config)}`)
}

describe('config.json validation', () => {
  it('accepts every value within bounds, as given', () => {
    fc.assert(fc.property(validSettings, settings => {
      const config = parse({ ...base(), ...settings })
      for (const f of NUMERIC_FIELDS) {
        const [section, key] = f.path.split('.')
        const given = (settings[section] as Record<string, unknown> | undefined)?.[key]
        if (given !== undefined) expect((config as unknown as Record<string, Record<string, unknown>>)[section][key]).toBe(given)
      }
    }), { numRuns: 200 })
  })

  it('refuses every bad value with one line naming the file and the field', () => {
    fc.assert(fc.property(validSettings, badField, (settings, bad) => {
      const err = refusal(withValue({ ...base(), ...settings }, bad.field, bad.value))
      // list entries are named by index: addresses.listen.0
      expect(err.field === bad.field || err.field.startsWith(`${bad.field}.`), `${err.message} (expected ${bad.field})`).toBe(true)
      expect(err.message.startsWith(`${SOURCE}: ${err.field}: `)).toBe(true)
      expect(err.message).not.toContain('\n')
      if (bad.unknownKey === true) expect(err.message).toMatch(/unknown field$/)
    }), { numRuns: 500 })
  })

  it('bounds every duration below Node\'s timer limit', () => {
    expect(DURATION_FIELDS.length).toBeGreaterThan(3)
    for (const f of DURATION_FIELDS) {
      expect(refusal(withValue(base(), f.path, MAX_TIMER_DELAY_MS + 1)).field).toBe(f.path)
      expect(refusal(withValue(base(), f.path, 1e12)).message).toContain(`${f.path}: must be a whole number of ms from ${f.min} to ${f.max}`)
    }
  })

  it('names the data layer\'s own bounds for its fields', () => {
    expect(refusal(withValue(base(), 'data.chunkSize', 0)).message).toBe(`${SOURCE}: data.chunkSize: must be a whole number from ${CONFIG_FIELD_BOUNDS['data.chunkSize'].min} to ${CONFIG_FIELD_BOUNDS['data.chunkSize'].max}, got 0`)
    expect(refusal(withValue(base(), 'data.replicas', 21)).field).toBe('data.replicas')
    // without the layers' bounds the node layer still refuses nonsense
    expect(() => parseConfig(JSON.stringify(withValue(base(), 'data.chunkSize', 0)))).toThrow(/data\.chunkSize/)
  })

  it('keeps targetPeers within maxConnections', () => {
    const err = refusal(withValue(withValue(base(), 'limits.maxConnections', 5), 'discovery.targetPeers', 6))
    expect(err.field).toBe('discovery.targetPeers')
    expect(err.message).toContain('limits.maxConnections (5)')
  })

  it('refuses what is not a JSON object, and unknown keys by name at every level', () => {
    expect(() => parseConfig('{', SOURCE)).toThrow(`${SOURCE} is not valid JSON`)
    expect(refusal([]).message).toBe(`${SOURCE}: (root): must be a JSON object, got []`)
    expect(refusal({ ...base(), extra: true }).message).toBe(`${SOURCE}: extra: unknown field`)
    expect(refusal(withValue(base(), 'data.chunksize', 4096)).message).toBe(`${SOURCE}: data.chunksize: unknown field`)
    expect(refusal(withValue(base(), 'identity.key', 'x')).message).toBe(`${SOURCE}: identity.key: unknown field`)
  })

  it('checks listen, bootstrap and API addresses', () => {
    expect(listenAddressProblem('/ip4/0.0.0.0/tcp/4010')).toBeUndefined()
    expect(listenAddressProblem('/ip6/::1/tcp/0')).toBeUndefined()
    expect(listenAddressProblem('/ip4/127.0.0.1/udp/4010')).toMatch(/tcp/)
    expect(listenAddressProblem('/ip4/127.0.0.1/tcp/4010/p2p/' + SOME_PEER_ID)).toMatch(/listen address is/)
    expect(listenAddressProblem('127.0.0.1:4010')).toMatch(/starts with \//)
    expect(bootstrapAddressProblem(`/ip4/192.0.2.7/tcp/4010/p2p/${SOME_PEER_ID}`)).toBeUndefined()
    expect(bootstrapAddressProblem(`/dns4/example.org/tcp/4010/p2p/${SOME_PEER_ID}`)).toBeUndefined()
    expect(bootstrapAddressProblem('/ip4/192.0.2.7/tcp/4010')).toMatch(/must end with \/p2p\//)
    expect(bootstrapAddressProblem('/ip4/192.0.2.7/tcp/4010/p2p/QmNotAPeer')).toBe('"QmNotAPeer" is not a peer id')
    expect(bootstrapAddressProblem('/ip4/192.0.2.7/tcp/4010/p2p/xyz')).toBe('"xyz" is not a peer id')
    expect(bootstrapAddressProblem('/ip4/1.2.3.4/tcp/x')).toMatch(/not a valid multiaddr/)
    expect(apiAddressProblem('127.0.0.1:5001')).toBeUndefined()
    expect(apiAddressProblem('[::1]:0')).toBeUndefined()
    expect(apiAddressProblem('localhost:5001')).toBeUndefined()
    expect(apiAddressProblem('0.0.0.0:5001')).toMatch(/loopback/)
    expect(apiAddressProblem('127.0.0.1:65536')).toMatch(/0\.\.65535/)
  })
})
