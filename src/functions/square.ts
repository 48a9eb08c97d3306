/**
 * functions/square: the `square` built-in. One number per line in, its square per line out,
 * in input order. Pure; never touches the network or the filesystem.
 */

import { concat } from 'uint8arrays/concat'
import { InvalidTaskInputError, InvalidTaskResultError } from './errors.ts'
import { decodeLines } from './records.ts'
import type { TaskFunction } from './types.ts'

/** Longest line quoted back in an error message. */
const MAX_QUOTED_LINE = 80

export const square: TaskFunction = {
  name: 'square',
  description: 'Squares numbers: each non-empty line is a number (JavaScript Number syntax, surrounding whitespace ignored); outputs one line per number with its square, in input order.',
  lineOriented: true,
  needsHeader: false,

  async run (input, _params, ctx) {
    const out: string[] = []
    for (const line of decodeLines(input)) {
      ctx.signal?.throwIfAborted()
      const text = line.trim()
      if (text === '') continue
      const x = Number(text)
      if (Number.isNaN(x)) {
        const quoted = text.length > MAX_QUOTED_LINE ? `${text.slice(0, MAX_QUOTED_LINE)}…` : text
        throw new InvalidTaskInputError(`square: line is not a number: ${JSON.stringify(quoted)}`)
      }
      out.push(`${String(x * x)}\n`)
    }
    return new TextEncoder().encode(out.join(''))
  },

  async reduce (results) {
    let length = 0
    for (const r of results) {
      if (r.length > 0 && r[r.length - 1] !== 0x0a) throw new InvalidTaskResultError('square: task result does not end in a newline')
      length += r.length
    }
    return concat(results, length)
  }
}
