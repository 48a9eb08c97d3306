/**
 * The sandbox never detaches the caller's memory: transferring the buffer
 * behind a Node Buffer view to the worker (Buffer#slice is a view, not a copy)
 * would empty pooled Buffers and cached shards in the main thread.
 */
import { describe, it, expect } from 'vitest'
import { runWasm } from '../../src/sandbox/index.ts'
import { echo } from './wasm-fixtures.ts'

describe('runWasm input ownership', () => {
  it('leaves a Buffer view, its siblings and its parent intact', async () => {
    const parent = Buffer.from('0123456789abcdefghij')
    const view = parent.subarray(2, 12)
    const sibling = parent.subarray(12)
    // small Buffers share Node's pool slab: another allocation from the same slab
    const pooled = Buffer.from('pooled bytes')
    const out = await runWasm(echo, view, ['echo'])
    expect(Buffer.from(out).toString()).toBe('23456789ab')
    expect(view.byteLength).toBe(10)
    expect(parent.toString()).toBe('0123456789abcdefghij')
    expect(sibling.toString()).toBe('cdefghij')
    expect(pooled.toString()).toBe('pooled bytes')
    // and the same view can be run again
    expect(Buffer.from(await runWasm(echo, view, ['echo'])).toString()).toBe('23456789ab')
  })
})
