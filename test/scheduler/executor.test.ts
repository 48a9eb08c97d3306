/**
 * The executor's input assembly: a task's lines are the same whether or not
 * the job document says where the input's shards end lines, and when it says
 * so a task reads only the shards it must (its own alone for a shard that ends
 * with '\n' and starts a line). Real functions registry, an in-memory store.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { concat } from 'uint8arrays/concat'
import type { CID } from 'multiformats/cid'
import { cidOf, endsWithNewline } from '../../src/data/index.ts'
import { FunctionRegistry } from '../../src/functions/index.ts'
import { buildDocument, InvalidJobError, taskCount, validateSpec, type JobDataAccess, type JobDocument } from '../../src/jobs/index.ts'
import { TaskExecutor } from '../../src/scheduler/executor.ts'

const encode = (s: string): Uint8Array => new TextEncoder().encode(s)
const decode = (b: Uint8Array): string => new TextDecoder().decode(b)

/** Shards by CID, and the CIDs asked for, in order. */
function memoryData (): { data: JobDataAccess, blocks: Map<string, Uint8Array>, reads: string[] } {
  const blocks = new Map<string, Uint8Array>()
  const reads: string[] = []
  const unused = async (): Promise<never> => { throw new Error('not used by the executor here') }
  const data: JobDataAccess = {
    put: unused,
    keepBlock: unused,
    adoptBlock: unused,
    cidFor: unused,
    manifest: unused,
    get: async function * () { yield * [] as Uint8Array[]; throw new Error('not used') },
    getShard: async (cid: CID | string) => {
      const key = cid.toString()
      reads.push(key)
      const bytes = blocks.get(key)
      if (bytes === undefined) throw new Error(`no block ${key}`)
      return bytes
    },
    hasLocal: async (cid: CID | string) => blocks.has(cid.toString())
  }
  return { data, blocks, reads }
}

/** A trusted line-oriented function that returns its input: the task's lines exactly. */
function catRegistry (): FunctionRegistry {
  const functions = new FunctionRegistry()
  functions.register({
    name: 'cat',
    description: 'the task input, unchanged',
    lineOriented: true,
    needsHeader: false,
    run: async (input) => input,
    reduce: async (results) => concat(results)
  })
  return functions
}

/** `text` cut every `size` bytes into shards stored in `blocks`; a one-input job over them, with or without line ends, `group` shards a task. */
function job (text: Uint8Array, size: number, blocks: Map<string, Uint8Array>, sayLineEnds: boolean, group = 1): JobDocument {
  const shards: Array<{ cid: CID, nl?: boolean }> = []
  for (let at = 0; at < text.length || at === 0; at += size) {
    const bytes = text.subarray(at, at + size)
    const cid = cidOf(bytes)
    blocks.set(cid.toString(), bytes)
    shards.push(sayLineEnds ? { cid, nl: endsWithNewline(bytes) } : { cid })
    if (text.length === 0) break
  }
  const root = cidOf(encode('root')).toString()
  return buildDocument(validateSpec({ fn: 'cat', inputs: [root], shardsPerTask: group }), [{ shards }], 'me', 1)
}

async function runAll (executor: TaskExecutor, doc: JobDocument): Promise<Uint8Array[]> {
  const out: Uint8Array[] = []
  for (let i = 0; i < taskCount(doc); i++) out.push(await executor.run(doc, i))
  return out
}

describe('TaskExecutor input assembly', () => {
  it('property: every task gets whole lines and together they are the file, with or without line ends in the document, one or several shards a task', async () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'é', '\n', ' ', '😀'), maxLength: 200 })
    await fc.assert(fc.asyncProperty(text, fc.integer({ min: 1, max: 40 }), fc.boolean(), fc.integer({ min: 1, max: 5 }), async (s, size, sayLineEnds, group) => {
      const { data, blocks } = memoryData()
      const file = encode(s)
      const doc = job(file, size, blocks, sayLineEnds, group)
      expect(taskCount(doc)).toBe(Math.ceil(doc.tasks.length / group))
      const parts = await runAll(new TaskExecutor({ data, functions: catRegistry() }), doc)
      expect(decode(concat(parts))).toBe(s)
      parts.forEach((part, i) => {
        const last = parts.slice(i + 1).every(p => p.length === 0)
        if (part.length > 0 && !last) expect(part[part.length - 1]).toBe(0x0a)
      })
    }), { numRuns: 300 })
  })

  it('reads only a task\'s own shard when the document says its shards end lines', async () => {
    const lines = Array.from({ length: 6 }, (_, i) => `${String(i).padStart(7, ' ')}\n`).join('') // 8 bytes a line
    for (const sayLineEnds of [true, false]) {
      const { data, blocks, reads } = memoryData()
      const doc = job(encode(lines), 8, blocks, sayLineEnds)
      const executor = new TaskExecutor({ data, functions: catRegistry() })
      const parts = await runAll(executor, doc)
      expect(parts.map(decode)).toEqual(lines.match(/.{8}/gs))
      if (sayLineEnds) {
        expect(reads).toEqual(doc.tasks.map(t => t.cid))
      } else {
        // without line ends, each task but the first also reads the shard before it, to see whether a line starts its own
        expect(reads).toEqual(doc.tasks.flatMap((t, i) => i === 0 ? [t.cid] : [t.cid, doc.tasks[i - 1].cid]))
      }
    }
  })

  it('reads ahead only a task\'s own shard when the document says its shards end lines', async () => {
    const lines = Array.from({ length: 6 }, (_, i) => `${String(i).padStart(7, ' ')}\n`).join('')
    const { data, blocks, reads } = memoryData()
    const doc = job(encode(lines), 8, blocks, true)
    const executor = new TaskExecutor({ data, functions: catRegistry() })
    executor.prefetch(doc, 2)
    expect(reads).toEqual([doc.tasks[2].cid])
    expect(decode(await executor.run(doc, 2))).toBe('      2\n')
    expect(reads).toEqual([doc.tasks[2].cid]) // the run used the shard read ahead
  })

  it('reads on into the next shard to finish a line the document says its shard cuts', async () => {
    const { data, blocks, reads } = memoryData()
    const doc = job(encode('ab\ncd\nef\n'), 4, blocks, true) // "ab\nc" "d\nef" "\n"
    const parts = await runAll(new TaskExecutor({ data, functions: catRegistry() }), doc)
    expect(parts.map(decode)).toEqual(['ab\ncd\n', 'ef\n', ''])
    expect(reads).toEqual([doc.tasks[0].cid, doc.tasks[1].cid, doc.tasks[1].cid, doc.tasks[2].cid, doc.tasks[2].cid])
  })

  it('fails a task whose shard contradicts the line ends of the document', async () => {
    const { data, blocks } = memoryData()
    const doc = job(encode('ab\ncd\n'), 3, blocks, true)
    const lying = { ...doc, lineEnds: ['10'] }
    await expect(new TaskExecutor({ data, functions: catRegistry() }).run(lying, 1)).rejects.toThrow(InvalidJobError)
    await expect(new TaskExecutor({ data, functions: catRegistry() }).run(lying, 1)).rejects.toThrow(/shard 1 of input 0 ends with a newline, the job document says otherwise/)
  })
})
