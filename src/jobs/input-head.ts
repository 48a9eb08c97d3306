/**
 * jobs/input-head: what submit reads of a job's input before anything is
 * stored or started: the first input's header line and first record (a
 * function checks its params against them: a label column, a training's
 * features), and the blocks a function's `blockParams` name (a model),
 * each bounded and verified by the data layer. Never reads a whole input.
 */
import { NotFoundError } from '../data/index.ts'
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
export async function readParamBlocks (data: Pick<JobServiceData, 'get'>, names: readonly string[], params: Readonly<Record<string, string>>, options: { signal?: AbortSignal } = {}): Promise<Record<string, Uint8Array>> {
  const blocks: Record<string, Uint8Array> = {}
  for (const name of names) {
    const cid = params[name]
    if (cid == null || cid === '') throw new InvalidParamsError(`missing param "${name}" (a CID)`)
    const parts: Uint8Array[] = []
    let size = 0
    try {
      for await (const chunk of data.get(cid, options)) {
        size += chunk.length
        if (size > MAX_PARAM_BLOCK_BYTES) throw new InvalidParamsError(`param ${name}=${cid}: larger than ${MAX_PARAM_BLOCK_BYTES} bytes`)
        parts.push(chunk)
      }
    } catch (err) {
      if (err instanceof InvalidParamsError || options.signal?.aborted === true) throw err
      const why = err instanceof NotFoundError ? 'no peer has it' : (err as Error).message
      throw new InvalidParamsError(`param ${name}=${cid}: ${why}`)
    }
    blocks[name] = Buffer.concat(parts)
  }
  return blocks
}
