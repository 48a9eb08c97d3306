/**
 * jobs/passes: how an iterative job numbers its work. Pass p's task i is
 * one task index, k = p·T + i (T: the tasks of a pass), so claims, leases,
 * results, votes and attempts work per (pass, task) exactly as for a job of
 * one pass; the digest that names the results a pass was reduced from; and
 * the CID that names a pass's state.
 * Pure; never reads anything but its arguments.
 */
import { createHash } from 'node:crypto'
import * as dagCbor from '@ipld/dag-cbor'
import type { CID } from 'multiformats/cid'
import { cidOf } from '../data/index.ts'
import { taskCount, taskShards, type JobDocument, type TaskShards } from './spec.ts'

/** Whether the document's job is iterative (its function has `passes`). */
export function isIterative (doc: JobDocument): boolean {
  return doc.passes != null
}

/** Passes the job runs: its document's, or 1. */
export function passCount (doc: JobDocument): number {
  return doc.passes ?? 1
}

/** Task indices of the whole job: every task once per pass. */
export function taskIndexCount (doc: JobDocument): number {
  return taskCount(doc) * passCount(doc)
}

/** The pass of task index `k` of a job of `tasks` tasks per pass. */
export function passOf (k: number, tasks: number): number {
  return Math.floor(k / tasks)
}

/** The task within its pass (see spec.ts taskShards) of task index `k` of a job of `tasks` tasks per pass. */
export function taskOf (k: number, tasks: number): number {
  return k % tasks
}

/** The shards task index `k` of `doc` reads (its task's, in whichever pass). */
export function shardsOfTaskIndex (doc: JobDocument, k: number): TaskShards {
  return taskShards(doc, taskOf(k, taskCount(doc)))
}

/** The task index of task `task` of pass `pass`. */
export function taskIndex (pass: number, task: number, tasks: number): number {
  return pass * tasks + task
}

/**
 * The CID of a pass's state, a block as IPLD names it (CIDv1, sha2-256): dag-cbor when the
 * bytes are dag-cbor (a model block), raw otherwise. dag-cbor's decoder accepts only its one
 * canonical encoding, so the codec is a property of the bytes, the same on every peer.
 */
export function stateCid (bytes: Uint8Array): CID {
  try {
    dagCbor.decode(bytes)
    return cidOf(bytes, dagCbor.code)
  } catch {
    return cidOf(bytes)
  }
}

/**
 * The digest of a pass's accepted results, in task order: what a `pass` fact
 * names it was reduced from, so a peer whose view of the results differs
 * waits instead of judging the state (base64url sha-256 of the hashes, one a line).
 */
export function resultsDigest (hashes: readonly string[]): string {
  const h = createHash('sha256')
  for (const hash of hashes) h.update(hash).update('\n')
  return h.digest('base64url')
}
