/**
 * jobs/input-head: what submit reads of a job's input before anything is
 * stored or started: the first input's header line and first record (a
 * function checks its params against them: a label column, a training's
 * features), and the blocks a function's `blockParams` name (a model),
 * each bounded and verified by the data layer. A CID names a file (its
 * root) or a single block: a pass's state is a block (a model), and a user
 * may `put` one as a file. Never reads a whole input.
 */
import * as dagCbor from '@ipld/dag-cbor'
import { NotFoundError, decodeManifest, parseCid } from '../data/index.ts'
import { InvalidParamsError, RecordTooLargeError } from '../functions/index.ts'
import { MAX_HEADER_LINE_BYTES } from '../functions/constants.ts'
import { MAX_PARAM_BLOCK_BYTES } from './constants.ts'
import type { JobServiceData } from './data-access.ts'
import type { InputLayout } from './spec.ts'

const NEWLINE = 0x0a

/** The first two lines of an input: its header and its first record (null where the input ends first). */
export interface InputHead {
  header: string | null
  firstRecord: string | null
}

/**
 * The header line and first record of the input laid out as `layout`, reading its shards in
 * order until both are read; each line is at most MAX_HEADER_LINE_BYTES (RecordTooLargeError).
 */
export async function readInputHead (data: Pick<JobServiceData, 'getShard'>, layout: InputLayout, options: { signal?: AbortSignal } = {}): Promise<InputHead> {
  const parts: Uint8Array[] = []
  let size = 0
  let newlines = 0
  for (const shard of layout.shards) {
    const bytes = await data.getShard(shard.cid.toString(), options)
    parts.push(bytes)
    size += bytes.length
    for (let i = bytes.indexOf(NEWLINE); i !== -1 && newlines < 2; i = bytes.indexOf(NEWLINE, i + 1)) newlines++
    if (newlines >= 2 || size > 2 * MAX_HEADER_LINE_BYTES) break
  }
  const text = new TextDecoder().decode(Buffer.concat(parts).subarray(0, 2 * MAX_HEADER_LINE_BYTES + 2))
  const lines = text.split('\n')
  const line = (n: number): string | null => {
    if (n >= lines.length || (n === lines.length - 1 && lines[n] === '' )) return null
    if (Buffer.byteLength(lines[n]) > MAX_HEADER_LINE_BYTES) throw new RecordTooLargeError(`line ${n + 1} of the input is longer than ${MAX_HEADER_LINE_BYTES} bytes`)
    return lines[n]
  }
  const header = line(0)
  return { header, firstRecord: header == null ? null : line(1) }
}

/**
 * The blocks named by `names` in `params` (a function's `blockParams`), each read whole and
 * verified; InvalidParamsError naming the param when one is missing, not a CID, not found, or
 * larger than MAX_PARAM_BLOCK_BYTES.
 */
export async function readParamBlocks (data: Pick<JobServiceData, 'get' | 'getShard'>, names: readonly string[], params: Readonly<Record<string, string>>, options: { signal?: AbortSignal } = {}): Promise<Record<string, Uint8Array>> {
  const blocks: Record<string, Uint8Array> = {}
  for (const name of names) {
    const cid = params[name]
    if (cid == null || cid === '') throw new InvalidParamsError(`missing param "${name}" (a CID)`)
    try {
      blocks[name] = await readNamed(data, cid, MAX_PARAM_BLOCK_BYTES, options)
    } catch (err) {
      if (options.signal?.aborted === true) throw err
      const why = err instanceof NotFoundError ? 'no peer has it' : (err as Error).message
      throw new InvalidParamsError(`param ${name}=${cid}: ${why}`)
    }
  }
  return blocks
}

/**
 * The bytes `cid` names, verified: a single block (raw, or a dag-cbor block that is not a file
 * root, such as a model), or a whole file read from its root; RangeError past `max` bytes.
 */
export async function readNamed (data: Pick<JobServiceData, 'get' | 'getShard'>, cid: string, max: number, options: { signal?: AbortSignal } = {}): Promise<Uint8Array> {
  if (parseCid(cid).code === dagCbor.code) {
    const block = await data.getShard(cid, options)
    let isFile = true
    try { decodeManifest(block) } catch { isFile = false }
    if (!isFile) {
      if (block.length > max) throw new RangeError(`larger than ${max} bytes`)
      return block
    }
  }
  const parts: Uint8Array[] = []
  let size = 0
  for await (const chunk of data.get(cid, options)) {
    size += chunk.length
    if (size > max) throw new RangeError(`larger than ${max} bytes`)
    parts.push(chunk)
  }
  return Buffer.concat(parts)
}
