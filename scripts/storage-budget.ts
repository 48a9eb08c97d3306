/**
 * storage-budget: the space a peer would give other peers on a filesystem,
 * by the data layer's rule (spaceForOthers: half of the free-or-theirs space
 * less the kept free space), for each DIR given, and, with `--tmpfs SIZES`
 * (root only), on fresh tmpfs mounts of those sizes (a tmpfs allocates only
 * what is written, so 100g costs nothing), each unmounted afterwards. Also
 * starts a real repo on each mount and prints what its peer reports.
 * `--json` prints an array of {"where","totalBytes","freeBytes","keepFreeBytes","forOthersBytes","reportedBytes"}.
 *
 * Usage: npx node scripts/storage-budget.ts [--json] [--tmpfs 1g,100g] [DIR...]
 */
import { execFileSync } from 'node:child_process'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { keepFreeOf, spaceForOthers, statfsDiskSpace } from '../src/data/index.ts'
import { createEdgeNode } from '../src/edge-node.ts'
import { initRepo } from '../src/node/repo.ts'

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    json: { type: 'boolean', default: false },
    tmpfs: { type: 'string' }
  }
})
const gib = (n: number): string => `${(n / 1024 ** 3).toFixed(2)} GiB`

interface Row { where: string, totalBytes: number, freeBytes: number, keepFreeBytes: number, forOthersBytes: number, reportedBytes?: number }
const rows: Row[] = []

async function measure (where: string, dir: string, startPeer: boolean): Promise<void> {
  const usage = await statfsDiskSpace.read(dir)
  const row: Row = { where, totalBytes: usage.total, freeBytes: usage.free, keepFreeBytes: keepFreeOf(usage.total), forOthersBytes: spaceForOthers(usage, 0) }
  if (startPeer) {
    const repo = join(dir, 'repo')
    await initRepo(repo)
    const node = await createEdgeNode({ repo, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: false })
    row.reportedBytes = node.data.storage().forOthersMax
    await node.stop()
  }
  rows.push(row)
  process.stderr.write(`${where}: ${gib(row.totalBytes)} filesystem, ${gib(row.freeBytes)} free, ${gib(row.keepFreeBytes)} kept free -> ${gib(row.forOthersBytes)} for other peers${row.reportedBytes != null ? ` (a peer on it reports ${gib(row.reportedBytes)})` : ''}\n`)
}

for (const dir of positionals) await measure(dir, dir, false)
for (const size of values.tmpfs?.split(',') ?? []) {
  const dir = await mkdtemp(join(tmpdir(), 'edgeswarm-budget-'))
  const mnt = join(dir, 'disk')
  await mkdir(mnt)
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', mnt])
  try {
    await measure(`tmpfs ${size}`, mnt, true)
  } finally {
    execFileSync('umount', ['-l', mnt])
    await rm(dir, { recursive: true, force: true })
  }
}
if (values.json) process.stdout.write(JSON.stringify(rows) + '\n')
