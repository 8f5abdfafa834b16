/**
 * A look at a pod before its lease is taken: is there anything to do? Most pods of a pass have
 * nothing to do (compacted less than an hour ago, nothing due yet), and a lease costs a PUT
 * and a DELETE, a full snapshot three reads more. The look takes no lease and reads little:
 *   - merge phase: the metadata (compacted recently: nothing to merge), then the pod's raw
 *     files (nothing new to merge, no open line that can end, nothing due now: done);
 *   - clean phase: what the merge phase's look saw waiting for deletion (else the metadata):
 *     something waits and none of it is due now: done.
 * A look only ever decides to do nothing now, or hands what it read on: the merge phase's
 * work starts from the look's metadata and raw listing once a HEAD under the lease shows the
 * metadata unchanged (else it reads both again); the clean phase's work, whose look may be
 * minutes old, reads afresh under the lease. A stale look can only delay work by a pass.
 *
 * Objects under `data/{pod}/` that no commit lists (a crashed pass's) are not looked for:
 * only a listing shows them. They are found, and deleted when due, by the next snapshot: a
 * pod with any is in the cleanup queue, and has work again once what its metadata names is
 * due, once nothing is left there (it may then leave the queue), or while nothing it names
 * will be due by time alone (raw files held by an unfinished line).
 */
import { listRawFiles, loadMetadata } from '@platform/log-reader/s3';
import { toEpochNs, type EpochNs, type PodMetadata } from '@platform/log-reader/layout';
import { podState, type FirstReads } from '../store/pod-state.js';
import type { PodContext } from './context.js';
import { recentlyCompacted, skipReason } from './decide.js';
import { pendingDeletions } from './deletions.js';

export type Triage =
  /** `first`: what the merge phase's look read, for the pod's work to start from. */
  { readonly work: true; readonly first?: FirstReads } | { readonly work: false; readonly reason: string };

/**
 * What waits for deletion, as a look saw it: all the clean phase needs to decide (a few numbers,
 * whatever the pod's size).
 */
export interface Waiting {
  /** Objects the metadata names as waiting for deletion. */
  readonly objects: number;
  /** When the first of them is due; undefined when none will be by time alone (held by an unfinished line). */
  readonly nextDueAt: EpochNs | undefined;
  /** False for a Python service document: which raw files it merged takes a listing to know. */
  readonly exact: boolean;
}

const WORK: Triage = { work: true };

/** The merge phase's look; `seen` keeps what waits for deletion, for the clean phase's look. */
export async function triageMerge(ctx: PodContext, pod: string, seen: Map<string, Waiting>): Promise<Triage> {
  const loaded = await loadMetadata(ctx.store, pod);
  seen.set(pod, waitingOf(loaded.metadata, ctx.config.cleanupIntervalMs));
  const recent = recentlyCompacted(ctx, loaded.metadata);
  if (recent !== undefined) return { work: false, reason: recent };
  const first = { loaded, raw: await listRawFiles(ctx.store, pod) };
  const state = podState(pod, loaded, first.raw, [], ctx.clock);
  const skip = await skipReason(ctx, state);
  if (skip === undefined) return { work: true, first };
  // Nothing to merge, but something the metadata names may be due now. (A Python service
  // document is exact from here on: the listing tells which raw files it merged.)
  const waiting = waitingOf(state.metadata, ctx.config.cleanupIntervalMs);
  seen.set(pod, waiting);
  return dueNow(waiting, ctx.clock) ? { work: true, first } : { work: false, reason: skip.reason };
}

/** The clean phase's look at a pod of the cleanup queue; `seen` is what the merge phase's look saw, if it looked. */
export async function triageClean(ctx: PodContext, pod: string, seen: Waiting | undefined): Promise<Triage> {
  const waiting = seen ?? waitingOf((await loadMetadata(ctx.store, pod)).metadata, ctx.config.cleanupIntervalMs);
  return cleanLook(waiting, ctx.clock);
}

/** The clean phase's decision from what waits for deletion; `clock` is read only when it matters. */
export function cleanLook(waiting: Waiting, clock: () => Date): Triage {
  // Nothing waiting: the pod may leave the queue (a write, under the lease). Nothing that will
  // be due by time (held by an unfinished line, maybe for as long as its container runs): only
  // a snapshot finds what else is due under data/.
  if (!waiting.exact || waiting.objects === 0 || waiting.nextDueAt === undefined || dueNow(waiting, clock)) return WORK;
  return { work: false, reason: `${waiting.objects} object(s) not due yet` };
}

export function waitingOf(metadata: PodMetadata, cleanupIntervalMs: number): Waiting {
  let nextDueAt: EpochNs | undefined;
  const pending = pendingDeletions(metadata, [], cleanupIntervalMs);
  for (const p of pending)
    if (p.dueAt !== undefined && (nextDueAt === undefined || p.dueAt < nextDueAt)) nextDueAt = p.dueAt;
  return { objects: pending.length, nextDueAt, exact: metadata.mergedRawFiles !== undefined };
}

/** Read the clock now: the pass may have run for a while since the look. */
function dueNow(waiting: Waiting, clock: () => Date): boolean {
  return waiting.nextDueAt !== undefined && waiting.nextDueAt <= toEpochNs(clock());
}
