/**
 * ml/byte-codec: a growable byte buffer and its reader, with unsigned LEB128 varints, for
 * packed sums. Bytes only; a reader refuses truncated input and non-minimal varints.
 */

import { ExactSumFormatError } from './errors.ts'

/** A growable byte buffer with unsigned LEB128 varints. */
export class ByteWriter {
  private buf: Uint8Array
  private length = 0

  constructor (capacity = 64) {
    this.buf = new Uint8Array(Math.max(16, capacity))
  }

  byte (b: number): void {
    if (this.length === this.buf.length) {
      const grown = new Uint8Array(this.buf.length * 2)
      grown.set(this.buf)
      this.buf = grown
    }
    this.buf[this.length++] = b
  }

  varint (n: number): void {
    while (n >= 0x80) {
      this.byte((n % 0x80) | 0x80)
      n = Math.floor(n / 0x80)
    }
    this.byte(n)
  }

  bytes (): Uint8Array {
    return this.buf.slice(0, this.length)
  }
}

/** Reads what ByteWriter writes; throws ExactSumFormatError past the end or on a non-minimal varint. */
export class ByteReader {
  private readonly buf: Uint8Array
  private at = 0

  constructor (buf: Uint8Array) {
    this.buf = buf
  }

  varint (): number {
    let n = 0
    let weight = 1
    for (let i = 0; i < 7; i++) {
      if (this.at >= this.buf.length) throw new ExactSumFormatError('packed sums end inside a varint')
      const b = this.buf[this.at++]
      n += (b & 0x7f) * weight
      if (b < 0x80) {
        if (b === 0 && i > 0) throw new ExactSumFormatError('packed sums hold a non-minimal varint')
        return n
      }
      weight *= 0x80
    }
    throw new ExactSumFormatError('packed sums hold a varint longer than 7 bytes')
  }

  /** Moves past `length` bytes; returns where they start. */
  skip (length: number): number {
    if (this.at + length > this.buf.length) throw new ExactSumFormatError('packed sums end inside a sum')
    const start = this.at
    this.at += length
    return start
  }

  done (): boolean {
    return this.at === this.buf.length
  }

  remaining (): number {
    return this.buf.length - this.at
  }
}
