/**
 * jobs/result-batch: the block of a result fact's inline results, dag-cbor
 * `{job, results: [{task, data}]}` in the fact's order, so every peer that
 * holds the fact makes the same bytes, and the fact's `batch` CID names them. The author
 * keeps it and the peers closest to that CID keep it from the fact (see
 * DataService.adoptBlock): results are stored in the swarm under a CID with
 * no transfer beyond the fact itself. Pure: never stores anything.
 */
import * as dagCbor from '@ipld/dag-cbor'

/** The batch block of these results' inline entries; undefined when none is inline. */
export function encodeResultBatch (job: string, results: ReadonlyArray<{ task: number, data?: Uint8Array }>): Uint8Array | undefined {
  const inline: Array<{ task: number, data: Uint8Array }> = []
  for (const r of results) if (r.data != null) inline.push({ task: r.task, data: r.data })
  return inline.length > 0 ? dagCbor.encode({ job, results: inline }) : undefined
}
