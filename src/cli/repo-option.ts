/**
 * cli/repo-option: the `--repo` option every command shares and the client of
 * that repo's daemon. Imports node/repo.ts, not the node layer's front door,
 * so the short client commands never load the peer stack.
 */
import { Option } from 'commander'
import { resolveRepoPath } from '../node/repo.ts'
import { ApiClient } from '../api/client.ts'

/** `--repo <dir>`: a new Option each time (commander keeps one per command). */
export function repoOption (): Option {
  return new Option('--repo <dir>', 'repo directory (default: $EDGESWARM_REPO or ~/.edgeswarm)')
}

/** The client of the daemon running on the repo `--repo` names (or the default repo). */
export async function daemonClient (opts: { repo?: string }): Promise<ApiClient> {
  return await ApiClient.forRepo(resolveRepoPath(opts.repo))
}
