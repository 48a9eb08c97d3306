/**
 * data/listing: what `ls --all` shows of the blocks held here — grouped by
 * the root their puts name (and its putter), by whether they are held for
 * others, and by why they are kept or will be collected. Pure; never reads a
 * store or the network.
 */
import type { BlockVerdict } from './collector.ts'
import type { RecordStore } from './record-store.ts'
import type { HeldBlock } from './shard-store.ts'
import type { HeldGroup } from './types.ts'

/** The groups of `blocks`, largest first. */
export function groupHeld (blocks: Iterable<HeldBlock>, verdict: (block: HeldBlock) => BlockVerdict, records: Pick<RecordStore, 'claimsOf'>): HeldGroup[] {
  const groups = new Map<string, HeldGroup>()
  for (const block of blocks) {
    const v = verdict(block)
    const reason: HeldGroup['reason'] = v.reason === 'live' ? 'root' : v.reason
    // the root a live put of the block names, else any its puts name
    let claim = records.claimsOf(block.puts.find(p => records.claimsOf(p).length > 0) ?? '')[0]
    for (const p of block.puts) {
      const c = records.claimsOf(p)[0]
      if (c != null && reason === 'root') { claim = c; break }
    }
    const key = `${reason}/${claim?.root ?? ''}/${claim?.author ?? ''}/${block.forOthers ? 1 : 0}`
    let group = groups.get(key)
    if (group == null) {
      group = { reason, root: claim?.root ?? null, putter: claim?.author ?? null, forOthers: block.forOthers, blocks: 0, bytes: 0 }
      groups.set(key, group)
    }
    group.blocks++
    group.bytes += block.size
  }
  return [...groups.values()].sort((a, b) => b.bytes - a.bytes)
}
