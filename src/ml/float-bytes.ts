/**
 * ml/float-bytes: float64 arrays as little-endian bytes and back, so weights and statistics
 * keep every bit (a -0, the last ulp) in blocks and task results on any host. Pure.
 */

/** The float64 values as 8 little-endian bytes each. */
export function floatsToBytes (values: ArrayLike<number>): Uint8Array {
  const bytes = new Uint8Array(values.length * 8)
  const view = new DataView(bytes.buffer)
  for (let i = 0; i < values.length; i++) view.setFloat64(i * 8, values[i], true)
  return bytes
}

/** The float64 values of little-endian bytes; undefined when the length is not a multiple of 8. */
export function bytesToFloats (bytes: Uint8Array): Float64Array | undefined {
  if (bytes.length % 8 !== 0) return undefined
  const values = new Float64Array(bytes.length / 8)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  for (let i = 0; i < values.length; i++) values[i] = view.getFloat64(i * 8, true)
  return values
}

/** Whether two float64 arrays hold the same bits (a -0 differs from 0; NaNs are never equal). */
export function sameFloats (a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) {
    if (!Object.is(a[i], b[i])) return false
  }
  return true
}
