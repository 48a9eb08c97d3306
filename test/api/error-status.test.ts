/**
 * The API answers the caller's mistakes with a 4xx (or 507) by the class of the
 * error a command threw, and anything else with 500.
 */
import { describe, it, expect } from 'vitest'
import { statusOf } from '../../src/api/error-status.ts'
import { ApiError, InvalidArgumentError } from '../../src/api/errors.ts'
import { ChunkSizeError, InvalidCidError, InvalidRangeError, NotFoundError, ReplicasError, StorageFullError, TooManyShardsError } from '../../src/data/index.ts'
import { FunctionRegistrationError, InvalidParamsError, UnknownFunctionError } from '../../src/functions/index.ts'
import { InvalidJobError, JobFailedError, JobNotFoundError } from '../../src/jobs/index.ts'
import { InvalidWasmError } from '../../src/sandbox/index.ts'

describe('API error status', () => {
  it('maps each layer\'s client errors to their status, by class', () => {
    const cases: Array<[Error, number]> = [
      [new InvalidArgumentError('x'), 400],
      [new InvalidCidError('x'), 400],
      [new ChunkSizeError('x'), 400],
      [new TooManyShardsError('x'), 400],
      [new ReplicasError('x'), 400],
      [new InvalidRangeError('x'), 400],
      [new InvalidParamsError('x'), 400],
      [new UnknownFunctionError('x'), 400],
      [new FunctionRegistrationError('x'), 400],
      [new InvalidJobError('x'), 400],
      [new InvalidWasmError('x'), 400],
      [new NotFoundError('x'), 404],
      [new JobNotFoundError('x'), 404],
      [new JobFailedError('x'), 422],
      [new StorageFullError('x'), 507]
    ]
    for (const [err, status] of cases) expect(statusOf(err), err.name).toBe(status)
  })

  it('gives an ApiError its own status and everything else 500, whatever its name', () => {
    expect(statusOf(new ApiError('refused', 403, 'ForbiddenError'))).toBe(403)
    expect(statusOf(new Error('boom'))).toBe(500)
    const impostor = new Error('not ours')
    impostor.name = 'NotFoundError'
    expect(statusOf(impostor)).toBe(500)
  })
})
