/**
 * What is due for deletion, and idempotent batched deletes.
 *
 * Due, once the cleanup interval has passed (the time a reader gets to finish what it listed):
 *   - a raw file merged by a commit, counted from that commit — unless it holds pieces of a
 *     line still unfinished (it is counted from the commit that finishes the line);
 *   - a merged file a commit stopped listing, counted from that commit;
 *   - an object under `data/{pod}/` that no commit lists (a crashed pass's leftover, or a
 *     file another pass is writing right now), counted from its LastModified.
 * Only keys of this snapshot are deleted, never a fresh listing's.
 */
import { DeleteObjectsCommand } from '@aws-sdk/client-s3';
import { parseMergedKey, parseTime, toEpochNs, unfinishedRange, type Bucket, type ListedObject, type PendingDeletion, type PodMetadata } from '@platform/log-reader';
import { MergedFileMissingError } from './errors.js';

/** S3 deletes at most this many keys per DeleteObjects request. */
const MAX_KEYS_PER_DELETE = 1000;

export interface DuePlan {
  readonly raw: readonly string[];
  readonly retired: readonly string[];
  readonly orphans: readonly string[];
  /** Objects that will be due later: while any remain, the pod stays in the cleanup queue. */
  readonly later: number;
}

/**
 * Throws {@link MergedFileMissingError} when a merged file the metadata lists is missing from
 * `dataObjects` (the listing of `data/{pod}/`, taken after the metadata was read: a listed
 * file is only deleted a cleanup interval after a later commit stopped listing it, so it
 * cannot vanish in between). Files of another layout (the Python service's) are not checked.
 */
export function assertListedFilesPresent(meta: PodMetadata, dataObjects: readonly ListedObject[]): void {
  const present = new Set(dataObjects.map((o) => o.key));
  for (const file of meta.logFiles) {
    const merged = parseMergedKey(file.key);
    if (merged !== undefined && !present.has(file.key)) throw new MergedFileMissingError(merged.pod, file.key);
  }
}

/** What is due now; throws {@link MergedFileMissingError} first when a listed merged file is gone. */
export function planDeletions(meta: PodMetadata, dataObjects: readonly ListedObject[], nowMs: number, cleanupIntervalMs: number): DuePlan {
  assertListedFilesPresent(meta, dataObjects);
  const cutoff = toEpochNs(new Date(nowMs - cleanupIntervalMs));
  const isDue = (p: PendingDeletion): boolean => (parseTime(p.since) ?? cutoff + 1n) <= cutoff;
  const merged = meta.mergedRawFiles ?? [];
  const listed = new Set([...meta.logFiles.map((f) => f.key), ...meta.retiredFiles.map((p) => p.key)]);
  const unlisted = dataObjects.filter((o) => !listed.has(o.key));
  const orphans = unlisted.filter((o) => o.lastModified.getTime() <= nowMs - cleanupIntervalMs).map((o) => o.key);
  const holding = new Set(unfinishedRange(meta).map((p) => p.key));
  const raw = merged.filter((p) => !holding.has(p.key) && isDue(p)).map((p) => p.key);
  const retired = meta.retiredFiles.filter(isDue).map((p) => p.key);
  const later = merged.length - raw.length + meta.retiredFiles.length - retired.length + unlisted.length - orphans.length;
  return { raw, retired, orphans, later };
}

export function dueCount(plan: DuePlan): number {
  return plan.raw.length + plan.retired.length + plan.orphans.length;
}

/** The metadata without the pending entries of objects now deleted. */
export function withoutDeleted(meta: PodMetadata, deleted: ReadonlySet<string>): PodMetadata {
  return {
    ...meta,
    mergedRawFiles: meta.mergedRawFiles?.filter((p) => !deleted.has(p.key)),
    retiredFiles: meta.retiredFiles.filter((p) => !deleted.has(p.key)),
  };
}

export interface DeleteResult {
  readonly deleted: readonly string[];
  readonly failed: readonly { readonly key: string; readonly message: string }[];
}

/** Deletes `keys` in batches; a key that is already gone counts as deleted. */
export async function deleteObjects(store: Bucket, keys: readonly string[]): Promise<DeleteResult> {
  const deleted: string[] = [];
  const failed: { key: string; message: string }[] = [];
  for (let i = 0; i < keys.length; i += MAX_KEYS_PER_DELETE) {
    const batch = keys.slice(i, i + MAX_KEYS_PER_DELETE);
    const response = await store.client.send(
      new DeleteObjectsCommand({ Bucket: store.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: false } }),
    );
    const errors = new Map<string, string>();
    for (const e of response.Errors ?? []) {
      if (e.Key !== undefined && e.Code !== 'NoSuchKey') errors.set(e.Key, `${e.Code ?? 'Error'}: ${e.Message ?? ''}`.trim());
    }
    for (const key of batch) {
      const message = errors.get(key);
      if (message === undefined) deleted.push(key);
      else failed.push({ key, message });
    }
  }
  return { deleted, failed };
}
