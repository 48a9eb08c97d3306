/**
 * ml/file-shards: a whole CSV file seen as the swarm sees it: its header line, and the input
 * of each task when the file is cut into fixed-size chunks (a task owns the lines that start
 * in its chunk). For single-machine references; pure byte logic.
 */

/** The header line of a file (without '\n'), or null for an empty file. */
export function headerOf (file: Uint8Array): string | null {
  if (file.length === 0) return null
  const nl = file.indexOf(0x0a)
  return new TextDecoder().decode(nl === -1 ? file : file.subarray(0, nl))
}

/**
 * The input of each task of a file cut into chunks of `chunkSize` bytes: the lines that start
 * in the chunk, whole (a task owns the lines whose first byte is in its range).
 */
export function ownedRanges (file: Uint8Array, chunkSize: number): Uint8Array[] {
  if (!(Number.isSafeInteger(chunkSize) && chunkSize >= 1)) throw new RangeError(`chunk size must be a positive integer, got ${chunkSize}`)
  const starts: number[] = [0]
  for (let at = file.indexOf(0x0a); at !== -1 && at + 1 < file.length; at = file.indexOf(0x0a, at + 1)) starts.push(at + 1)
  const shards = Math.ceil(file.length / chunkSize)
  const ranges: Uint8Array[] = []
  let line = 0
  for (let s = 0; s < shards; s++) {
    const end = (s + 1) * chunkSize
    const first = line
    while (line < starts.length && starts[line] < end) line++
    ranges.push(first === line ? new Uint8Array(0) : file.subarray(starts[first], line < starts.length ? starts[line] : file.length))
  }
  return ranges
}
