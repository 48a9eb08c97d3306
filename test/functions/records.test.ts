import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { alignRecords, decodeLines, firstLine, RecordTooLargeError } from '../../src/functions/index.ts'
import { alignAll, cutAt, decode, encode } from './partition.ts'

const none = async (): Promise<null> => null

describe('alignRecords', () => {
  it('drops the partial first line of a non-first range and completes the last line', async () => {
    const file = encode('aa\nbb\ncc\ndd\n')
    const ranges = cutAt(file, [4, 8]) // "aa\nb" "b\ncc" "\ndd\n"
    expect((await alignAll(ranges)).map(decode)).toEqual(['aa\nbb\n', 'cc\n', 'dd\n'])
  })

  it('gives a range without a newline to the previous task', async () => {
    const ranges = cutAt(encode('abcdefgh\nx\n'), [3, 6])
    expect((await alignAll(ranges)).map(decode)).toEqual(['abcdefgh\n', '', 'x\n'])
  })

  it('owns the line that starts exactly at the start of its range, not the one at its end', async () => {
    const ranges = cutAt(encode('a\nb\nc'), [2, 4])
    expect((await alignAll(ranges)).map(decode)).toEqual(['a\n', 'b\n', 'c'])
  })

  it('reads no other range when its start begins a line and it ends with one', async () => {
    let calls = 0
    const next = async (): Promise<Uint8Array | null> => { calls++; return encode('x\n') }
    expect(decode(await alignRecords(encode('a\nb\n'), true, next))).toBe('a\nb\n')
    expect(decode(await alignRecords(encode('a\nb\n'), false, next))).toBe('b\n')
    expect(decode(await alignRecords(encode('a\n'), false, next))).toBe('')
    expect(calls).toBe(0)
    expect(decode(await alignRecords(encode('a\nb'), false, next))).toBe('bx\n')
    expect(calls).toBe(1)
  })

  it('refuses to extend past maxRecordBytes', async () => {
    let calls = 0
    const next = async (): Promise<Uint8Array | null> => ++calls < 100 ? encode('xxxxxxxxxx') : null
    await expect(alignRecords(encode('a'), true, next, 50)).rejects.toThrow(RecordTooLargeError)
  })

  it('property: concatenating all aligned ranges gives back the file, each a run of whole lines', async () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'b', 'é', '\n', '\r', ' ', '😀'), maxLength: 300 })
    await fc.assert(fc.asyncProperty(text, fc.array(fc.nat(400), { maxLength: 20 }), async (s, cuts) => {
      const file = encode(s)
      const aligned = await alignAll(cutAt(file, cuts))
      expect(decode(Buffer.concat(aligned))).toBe(s)
      aligned.forEach((part, i) => {
        const isLastNonEmpty = aligned.slice(i + 1).every(p => p.length === 0)
        if (part.length > 0 && !isLastNonEmpty) expect(part[part.length - 1]).toBe(0x0a)
        // a part never starts inside a line: the byte before it in the file is '\n' (or it is at 0)
        const offset = aligned.slice(0, i).reduce((n, p) => n + p.length, 0)
        if (part.length > 0 && offset > 0) expect(file[offset - 1]).toBe(0x0a)
      })
    }), { numRuns: 500 })
  })
})

describe('firstLine', () => {
  it('reads the header across ranges', async () => {
    const ranges = cutAt(encode('device,temp\r\nd1,20\n'), [3, 7])
    let j = 1
    expect(await firstLine(ranges[0], async () => ranges[j++] ?? null)).toBe('device,temp\r')
  })
  it('returns null for an empty file and the whole file without a newline', async () => {
    expect(await firstLine(new Uint8Array(0), none)).toBeNull()
    expect(await firstLine(encode('a,b'), none)).toBe('a,b')
    expect(await firstLine(encode('\nx'), none)).toBe('')
  })
})

describe('decodeLines', () => {
  it('splits on newlines without a phantom last line', () => {
    expect(decodeLines(encode('a\nb\n'))).toEqual(['a', 'b'])
    expect(decodeLines(encode('a\n\nb'))).toEqual(['a', '', 'b'])
    expect(decodeLines(new Uint8Array(0))).toEqual([])
  })
})
