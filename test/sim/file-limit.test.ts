import { describe, expect, it } from 'vitest'
import { checkFileLimit, filesNeeded, openFileLimit, SimLimitError } from '../../src/sim/index.ts'

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            1024                 524288               files
Max locked memory         8388608              8388608              bytes
`

describe('sim file-descriptor check', () => {
  it('reads the soft open-files limit from /proc/self/limits text', () => {
    expect(openFileLimit(LIMITS)).toBe(1024)
    expect(openFileLimit(LIMITS.replace('1024 ', 'unlimited'))).toBe(Infinity)
    expect(openFileLimit('no such line')).toBeUndefined()
  })

  it('needs connections (bounded by the swarm) plus per-peer files, per host', () => {
    // 12 peers: at most 11 connections each
    expect(filesNeeded(12, 300, 12)).toBe(12 * (11 + 12))
    // 100 peers of 200, at most 40 connections (+25% overshoot) each
    expect(filesNeeded(100, 40, 200)).toBe(100 * (50 + 12))
  })

  it('lets the default run through a 1024 limit and stops a 200-peer run with the ulimit to set', () => {
    expect(() => { checkFileLimit(12, 1, 300, 1024) }).not.toThrow()
    expect(() => { checkFileLimit(200, 2, 40, 20_000) }).not.toThrow()
    let err: unknown
    try { checkFileLimit(200, 2, 40, 1024) } catch (e) { err = e }
    expect(err).toBeInstanceOf(SimLimitError)
    expect((err as Error).message).toMatch(/need about 6200 open files per process.*allows 1024.*ulimit -n 7440/)
  })
})
