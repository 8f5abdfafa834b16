/**
 * Retention (docs/design.md §8): the expire phase, after merge and clean, when `--retention`
 * is set. Deciding uses the pass's listings of `metadata/` and `cleanup/` (orphan-sweep.ts: a
 * request per 1000 pods each), and costs nothing per pod whose last commit is newer than the retention.
 *   1. Candidates (isCandidate): a pod whose last commit is older than the retention, or a
 *      pod marked expired (still queued) once the cleanup interval has passed since its last write.
 *   2. A look without the lease: the metadata (a marked pod not due yet, or a recent commit or
 *      record time, stops here: one request), then every raw object of every container of the
 *      pod and the objects under `data/{pod}/`.
 *   3. Under the lease, on a fresh snapshot and a fresh clock (decide-expiry.ts):
 *      - expired, not marked: put `cleanup/{pod}` (a crash from here on is resumed by this
 *        phase), then commit the metadata with `expired_at`: reads fail from now on with
 *        LogExpiredError, reads already under way finish;
 *      - marked, no longer expired (a late upload, a commit, a record newer than the
 *        retention): commit the metadata without the mark;
 *      - marked and the cleanup interval passed since: delete the raw files of every
 *        container, the files the metadata lists (whatever their prefix) and everything under
 *        `data/{pod}/`, then the metadata (`If-Match`); then the lease, then `cleanup/{pod}`.
 * Only the snapshot's keys are deleted: a raw file uploaded after it stays and makes a new pod.
 */
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import {
  cleanupKey,
  mergedPodPrefix,
  mergedRawPredicate,
  metadataKey,
  parseRawKey,
  rawPodPrefix,
  type PodMetadata,
} from '@platform/log-reader/layout';
import {
  isPreconditionFailure,
  listObjects,
  loadMetadata,
  type Bucket,
  type ListedObject,
} from '@platform/log-reader/s3';
import { PodNamespaceConflictError } from '@platform/log-reader';
import { CompactorError, ConcurrentUpdateError } from '../errors.js';
import type { CommitStamp } from '../store/commits.js';
import { deleteObjects } from '../store/deletes.js';
import { readLease } from '../store/lease.js';
import { putCleanupEntry } from '../store/pod-state.js';
import { commit } from './commit.js';
import type { PodContext } from './context.js';
import { decideExpiry, isCandidate, markDue, withoutExpiryMark, type ExpirySnapshot } from './decide-expiry.js';
import type { BucketListing } from './orphan-sweep.js';
import { ZERO_COUNTS, type PodReport } from './report.js';

/** The pods worth a look this pass, with their listed commit. */
export function expiryCandidates(
  ctx: Pick<PodContext, 'clock'>,
  retention: { readonly retentionMs: number; readonly cleanupIntervalMs: number },
  selected: (pod: string) => boolean,
  listing: Pick<BucketListing, 'commits' | 'queued'>,
): Map<string, CommitStamp> {
  // The listings are from before the clean phase: a pod that has left the queue since may be
  // looked at once more for nothing; every decision is made again on what its look reads.
  const now = ctx.clock().getTime();
  const candidates = new Map<string, CommitStamp>();
  for (const [pod, stamp] of listing.commits)
    if (selected(pod) && isCandidate(stamp.lastModified, listing.queued.has(pod), now, retention))
      candidates.set(pod, stamp);
  return candidates;
}

/** A pod's expiry snapshot, as read: metadata first, then the listings. */
export interface ExpiryState extends ExpirySnapshot {
  readonly pod: string;
  readonly etag: string | undefined;
  readonly raw: readonly ListedObject[];
  readonly dataObjects: readonly ListedObject[];
}

type Leased = (work: (podCtx: PodContext) => Promise<PodReport>) => Promise<PodReport>;

/** Step 2 and 3 for one candidate; `leased` runs its work under the pod's lease (none in a dry run). */
export async function expirePod(ctx: PodContext, pod: string, listed: CommitStamp, leased: Leased): Promise<PodReport> {
  const retentionMs = ctx.config.retentionMs ?? Infinity;
  const loaded = await loadMetadata(ctx.store, pod);
  if (loaded.etag === undefined) return skipped(pod, 'no metadata any more');
  const meta = loaded.metadata;
  if (meta.expiredAt !== undefined && !markDue(meta, ctx.clock().getTime(), ctx.config.cleanupIntervalMs))
    return skipped(pod, `expired at ${meta.expiredAt}; deleted once the cleanup interval has passed since`);
  if (meta.expiredAt === undefined) {
    // The metadata alone may already show a recent commit or record: no listing then.
    const modified = loaded.etag === listed.etag ? listed.lastModified : undefined;
    const quick = { metadata: meta, metadataModified: modified, raw: [], unmerged: 0, dataObjects: [] };
    const first = decideExpiry(quick, ctx.clock().getTime(), retentionMs);
    if (!first.expired) return skipped(pod, `not expired: ${first.reason}`);
    const looked = decideExpiry(
      await completeSnapshot(ctx.store, pod, loaded, modified),
      ctx.clock().getTime(),
      retentionMs,
    );
    if (!looked.expired) return skipped(pod, `not expired: ${looked.reason}`);
  }
  const report = await leased((c) => expireLeased(c, pod, listed));
  if (report.status === 'expired' && !ctx.config.dryRun) await leaveQueue(ctx.store, pod);
  return report;
}

/**
 * The queue entry goes after the lease: a crash before it, or a release that failed, leaves the
 * entry, and the clean phase then takes the (empty) pod's lease once more and releases it,
 * rather than a lease left behind with nothing to find it. A pod that another compactor started again meanwhile (a new
 * upload, merged) gets its entry back.
 */
async function leaveQueue(store: Bucket, pod: string): Promise<void> {
  await store.client.send(new DeleteObjectCommand({ Bucket: store.bucket, Key: cleanupKey(pod) }));
  // A lease whose release failed (warned) is left too: the clean phase takes it once it expires.
  // A check that fails puts the entry back as well, then fails the pod.
  let left = true;
  try {
    left = (await loadMetadata(store, pod)).etag !== undefined || (await readLease(store, pod)) !== undefined;
  } finally {
    if (left) await putCleanupEntry({ store }, pod);
  }
}

/** Step 3, on a fresh snapshot under the lease. */
async function expireLeased(ctx: PodContext, pod: string, listed: CommitStamp): Promise<PodReport> {
  const started = Date.now();
  const loaded = await loadMetadata(ctx.store, pod);
  if (loaded.etag === undefined) return skipped(pod, 'no metadata any more');
  // A write since the listing that is not ours to judge (a commit, a fence): the next pass looks again.
  const modified = loaded.etag === listed.etag ? listed.lastModified : ctx.clock();
  const state = await completeSnapshot(ctx.store, pod, loaded, modified);
  const decision = decideExpiry(state, ctx.clock().getTime(), ctx.config.retentionMs ?? Infinity);
  const marked = state.metadata.expiredAt !== undefined;
  const counts = { ...ZERO_COUNTS, ...expiredCounts(state) };
  const report = (status: PodReport['status'], reason?: string): PodReport => ({
    pod,
    phase: 'expire',
    status,
    ...(reason === undefined ? {} : { reason }),
    ...(status === 'skipped' ? ZERO_COUNTS : counts),
    durationMs: Date.now() - started,
  });
  if (!decision.expired) {
    if (!marked) return report('skipped', `not expired: ${decision.reason}`);
    if (!ctx.config.dryRun) await commit(ctx, pod, state.etag, () => withoutExpiryMark(state.metadata));
    const kept = `no longer expired (${decision.reason}): ${ctx.config.dryRun ? 'would remove' : 'removed'} the mark`;
    return report('skipped', kept);
  }
  if (ctx.config.dryRun) return report('expired');
  if (!marked) {
    await putCleanupEntry(ctx, pod);
    await commit(ctx, pod, state.etag, (stamp) => ({ ...state.metadata, expiredAt: stamp }));
    return report('expiring', 'marked expired: reads fail from now on; deleted once the cleanup interval has passed');
  }
  if (!markDue(state.metadata, ctx.clock().getTime(), ctx.config.cleanupIntervalMs))
    return report('skipped', `expired at ${state.metadata.expiredAt ?? ''}; not due yet`);
  await deleteAll(ctx, state);
  return report('expired');
}

/** The pod's raw objects (every container) and objects under `data/{pod}/`, after its metadata. */
async function completeSnapshot(
  store: Bucket,
  pod: string,
  loaded: { readonly metadata: PodMetadata; readonly etag: string | undefined },
  metadataModified: Date | undefined,
): Promise<ExpiryState> {
  const raw: ListedObject[] = [];
  const namespaces = new Set<string>();
  const isMerged = mergedRawPredicate(loaded.metadata);
  let unmerged = 0;
  for await (const o of listObjects(store, rawPodPrefix(pod))) {
    const key = parseRawKey(o.key);
    // Pod names never hold `_`: the prefix `{pod}_` is this pod's alone.
    if (key !== undefined && key.pod !== pod) continue;
    raw.push(o);
    if (key === undefined) continue;
    namespaces.add(key.namespace);
    if (key.container === pod && !isMerged({ ...key, lastModified: o.lastModified })) unmerged += 1;
  }
  // Whose raw files would go is unclear: an error for the pod, nothing deleted (docs/design.md §1).
  if (namespaces.size > 1) throw new PodNamespaceConflictError(pod, [...namespaces].sort());
  const dataObjects: ListedObject[] = [];
  for await (const o of listObjects(store, mergedPodPrefix(pod))) dataObjects.push(o);
  return { pod, etag: loaded.etag, metadata: loaded.metadata, metadataModified, raw, unmerged, dataObjects };
}

/** Every key the expiry deletes (but the metadata): raw files, the files the metadata lists, data/{pod}/. */
function objectKeys(state: ExpiryState): string[] {
  const m = state.metadata;
  return [
    ...new Set([
      ...state.raw.map((o) => o.key),
      ...m.logFiles.map((f) => f.key),
      ...m.retiredFiles.map((p) => p.key),
      ...(m.mergedRawFiles ?? []).map((p) => p.key),
      ...state.dataObjects.map((o) => o.key),
    ]),
  ];
}

/** Objects (the metadata included) and the bytes of those listed; files outside data/{pod}/ add no bytes. */
function expiredCounts(state: ExpiryState): { expiredObjects: number; expiredBytes: number } {
  const bytes = [...state.raw, ...state.dataObjects].reduce((sum, o) => sum + o.size, 0);
  return { expiredObjects: objectKeys(state).length + 1, expiredBytes: bytes };
}

/** Deletes the pod's objects, then its metadata (only as read); the queue entry goes after the lease. */
async function deleteAll(ctx: PodContext, state: ExpiryState): Promise<void> {
  const { pod } = state;
  await ctx.lease?.confirm();
  const result = await deleteObjects(ctx.store, objectKeys(state));
  const first = result.failed[0];
  if (first !== undefined)
    throw new CompactorError(
      'ERR_DELETE_FAILED',
      `pod ${pod}: ${result.failed.length} delete(s) of the expired log failed, e.g. ${first.key}: ${first.message}`,
    );
  await ctx.lease?.confirm();
  try {
    await ctx.store.client.send(
      new DeleteObjectCommand({ Bucket: ctx.store.bucket, Key: metadataKey(pod), IfMatch: state.etag }),
    );
  } catch (error) {
    if (isPreconditionFailure(error)) throw new ConcurrentUpdateError(pod, metadataKey(pod));
    throw error;
  }
}

function skipped(pod: string, reason: string): PodReport {
  return { pod, phase: 'expire', status: 'skipped', reason, ...ZERO_COUNTS, durationMs: 0 };
}
