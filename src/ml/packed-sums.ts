/**
 * ml/packed-sums: the wire form of exact sums (see ExactBank.pack): per sum a varint tag
 * (0 zero; 1 NaN; 2 +Infinity; 3 -Infinity; else 4 + 2·zigzag(z − 128) + sign, z the index of
 * the lowest non-zero byte of the exact integer in units of 2^-1074), then for a non-zero
 * finite sum a varint byte count and the integer's bytes from byte z up, little-endian,
 * without leading or trailing zero bytes. One encoding per value. Writes sums; reading them
 * into bins is the bank's.
 */

import { ByteWriter } from './byte-codec.ts'

/** A packed sum's magnitude spans at most this many bytes (sums of up to 2^53 doubles). */
export const MAX_SUM_BYTES = 280
/** Packed sums count their lowest byte from here, so typical sums (near 2^-50) get a one-byte tag. */
export const BYTE_BIAS = 128
/** Multipliers of the bytes of a 32-bit digit. */
export const BYTE_WEIGHT = [1, 2 ** 8, 2 ** 16, 2 ** 24]

/** The tag of a packed sum: the position of its lowest byte and its sign. */
export function sumTag (z: number, negative: boolean): number {
  return 4 + 2 * zigzag(z - BYTE_BIAS) + (negative ? 1 : 0)
}

/** The position of the lowest byte and the sign a tag of 4 or more says. */
export function readTag (tag: number): { z: number, negative: boolean } {
  const zz = Math.floor((tag - 4) / 2)
  return { z: ((zz & 1) === 1 ? -(zz + 1) / 2 : zz / 2) + BYTE_BIAS, negative: ((tag - 4) & 1) === 1 }
}

function zigzag (n: number): number {
  return n >= 0 ? 2 * n : -2 * n - 1
}

/** Writes a sum from its canonical digits (base 2^32, non-negative, indices `first` to `last`) and sign. */
export function packDigits (out: ByteWriter, digits: Float64Array, first: number, last: number, sign: number): void {
  if (sign === 0) {
    out.varint(0)
    return
  }
  let top = last
  while (digits[top] === 0) top--
  let low = first
  while (digits[low] === 0) low++
  // the lowest and highest non-zero bytes
  let z = low * 4
  while (byteOf(digits, z) === 0) z++
  let end = top * 4 + 3
  while (byteOf(digits, end) === 0) end--
  out.varint(sumTag(z, sign < 0))
  out.varint(end - z + 1)
  for (let p = z; p <= end; p++) out.byte(byteOf(digits, p))
}

function byteOf (digits: Float64Array, p: number): number {
  return (digits[p >> 2] >>> (8 * (p & 3))) & 0xff
}

/** Writes an exact integer (units of 2^-1074) the slow way, in the same format as packDigits. */
export function packUnits (out: ByteWriter, units: bigint): void {
  if (units === 0n) {
    out.varint(0)
    return
  }
  const negative = units < 0n
  let m = negative ? -units : units
  let z = 0
  while ((m & 0xffn) === 0n) { m >>= 8n; z++ }
  const bytes: number[] = []
  while (m > 0n) { bytes.push(Number(m & 0xffn)); m >>= 8n }
  if (z + bytes.length > MAX_SUM_BYTES) throw new RangeError('an exact sum outgrew its packed form')
  out.varint(sumTag(z, negative))
  out.varint(bytes.length)
  for (const b of bytes) out.byte(b)
}

