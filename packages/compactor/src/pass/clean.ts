/**
 * Deleting what is due for one pod (see deletions.ts for what "due" means), and the clean
 * phase's step for a pod in the cleanup queue:
 *   1. load the pod's snapshot (metadata, raw files, objects under data/{pod}/);
 *   2. delete what is due, then commit the metadata without those entries (delete first: an
 *      entry dropped before its object is gone would make a merged raw file look unmerged);
 *   3. when nothing is left to delete later and nothing waits to be merged, leave the queue.
 */
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { cleanupKey, type PodMetadata } from '@platform/log-reader/layout';
import { CompactorError } from '../errors.js';
import { deleteObjects } from '../store/deletes.js';
import { loadPodState, putCleanupEntry, type PodState } from '../store/pod-state.js';
import { commit, fence, unfence } from './commit.js';
import type { PodContext } from './context.js';
import { dueCount, planDeletions, unlistedObjects, withoutDeleted } from './deletions.js';
import { ZERO_COUNTS, type PodCounts, type PodReport } from './report.js';

export interface DeletedDue {
  /** The metadata without the entries of deleted objects. */
  readonly metadata: PodMetadata;
  /** True when entries were dropped: the metadata needs a commit. */
  readonly changed: boolean;
  readonly counts: Pick<PodCounts, 'deletedRaw' | 'deletedMerged' | 'deletedOrphans'>;
  /** Objects that will be due in a later pass. */
  readonly later: number;
  /** The metadata's ETag now: the next commit is conditional on it. */
  readonly etag: string | undefined;
}

export async function deleteDue(ctx: PodContext, state: PodState): Promise<DeletedDue> {
  // A fresh reading: the pass may have been running for a while.
  const plan = planDeletions(state.metadata, state.dataObjects, ctx.clock().getTime(), ctx.config.cleanupIntervalMs);
  const counts = {
    deletedRaw: plan.raw.length,
    deletedMerged: plan.retired.length,
    deletedOrphans: plan.orphans.length,
  };
  if (ctx.config.dryRun || dueCount(plan) === 0) {
    return {
      metadata: state.metadata,
      changed: false,
      counts,
      later: plan.later + (ctx.config.dryRun ? dueCount(plan) : 0),
      etag: state.etag,
    };
  }
  // Objects no commit lists may be a stalled compactor's, about to be committed: fence it off first.
  const etag = plan.orphans.length > 0 ? await fence(ctx, state.pod, state.metadata, state.etag) : state.etag;
  await ctx.lease?.confirm();
  const result = await deleteObjects(ctx.store, [...plan.raw, ...plan.retired, ...plan.orphans]);
  if (result.failed.length > 0) {
    const first = result.failed[0];
    throw new CompactorError(
      'ERR_DELETE_FAILED',
      `pod ${state.pod}: ${result.failed.length} delete(s) failed, e.g. ${first?.key}: ${first?.message}`,
    );
  }
  const deleted = new Set(result.deleted);
  const metadata = withoutDeleted(state.metadata, deleted);
  const changed = plan.raw.length + plan.retired.length > 0;
  // A pod without metadata had it only for the fence: it goes with the orphans (commit.ts unfence),
  // on a store that enforces conditional deletes (else the empty document stays, for retention).
  const unfencing = state.etag === undefined && etag !== undefined && ctx.conditionalDeletes === true;
  const left = unfencing ? await unfence(ctx, state.pod, etag) : etag;
  return { metadata, changed, counts, later: plan.later, etag: left };
}

/** The clean phase for one pod of the cleanup queue. */
export async function cleanPod(ctx: PodContext, pod: string): Promise<PodReport> {
  return cleanLoaded(ctx, await loadPodState(ctx.store, pod, ctx.clock), 'clean', Date.now());
}

/**
 * Deletes what is due for a pod already loaded, and leaves the queue when nothing is left.
 * The merge phase does this too for a pod it has nothing to merge for, so that a pod with raw
 * files is cleaned even if its `cleanup/{pod}` entry was lost (a compactor killed at the wrong
 * moment). `why` is the reason given when nothing was done.
 */
export async function cleanLoaded(
  ctx: PodContext,
  state: PodState,
  phase: PodReport['phase'],
  started: number,
  why?: string,
): Promise<PodReport> {
  const pod = state.pod;
  // A pod marked expired is the expire phase's (expire.ts): it deletes all of it, and finds it
  // by its queue entry, which must stay until then.
  if (state.metadata.expiredAt !== undefined)
    return { pod, phase, status: 'skipped', reason: 'marked expired', ...ZERO_COUNTS, durationMs: 0 };
  const due = await deleteDue(ctx, state);
  const etag = due.changed ? await commit(ctx, pod, due.etag, () => due.metadata) : due.etag;
  const done = due.later === 0 && state.unmerged.length === 0;
  if (done && !ctx.config.dryRun) await leaveQueue(ctx, pod, etag);
  // Leftovers not due yet, seen by the merge phase: a pod it found by its raw files may have
  // lost its entry, and once those are deleted nothing would look at it again (§8 Orphans).
  else if (phase === 'merge' && !ctx.config.dryRun && keepsLeftovers(state, due)) await putCleanupEntry(ctx, pod);
  const counts: PodCounts = { ...ZERO_COUNTS, ...due.counts };
  const deletedAny = counts.deletedRaw + counts.deletedMerged + counts.deletedOrphans > 0;
  return {
    pod,
    phase,
    status: deletedAny || done ? 'cleaned' : 'skipped',
    ...(deletedAny || done ? {} : { reason: why ?? `${due.later} object(s) not due yet` }),
    ...counts,
    durationMs: Date.now() - started,
  };
}

/**
 * Removes `cleanup/{pod}`, then checks that nobody gave the pod new work meanwhile: a
 * compactor that took the pod over while this one stalled (past its lease) may have put the
 * entry back for raw files it is merging, and without it their deletion would never come.
 * New work shows as a changed metadata ETag (a commit), raw files not merged yet (a merge
 * on its way to its commit), or an object under `data/{pod}/` that no commit lists (a stalled
 * compactor's merged file that landed after this pass's snapshot: docs/design.md §8 Orphans):
 * then the entry is put back.
 */
async function leaveQueue(ctx: PodContext, pod: string, etag: string | undefined): Promise<void> {
  await ctx.lease?.confirm();
  await ctx.store.client.send(new DeleteObjectCommand({ Bucket: ctx.store.bucket, Key: cleanupKey(pod) }));
  const now = await loadPodState(ctx.store, pod, ctx.clock);
  if (now.etag !== etag || now.unmerged.length > 0 || unlistedObjects(now.metadata, now.dataObjects).length > 0)
    await putCleanupEntry(ctx, pod);
}

/** True when the snapshot holds objects no commit lists that this pass did not delete. */
function keepsLeftovers(state: PodState, due: DeletedDue): boolean {
  return unlistedObjects(state.metadata, state.dataObjects).length > due.counts.deletedOrphans;
}
