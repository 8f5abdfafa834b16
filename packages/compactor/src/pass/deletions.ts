/**
 * What is due for deletion (pure: the deletes themselves are store/deletes.ts).
 *
 * Due, once the cleanup interval has passed (the time a reader gets to finish what it listed):
 *   - a raw file merged by a commit, counted from that commit — unless it holds pieces of a
 *     line still unfinished (it is counted from the commit that finishes the line);
 *   - a merged file a commit stopped listing, counted from that commit;
 *   - an object under `data/{pod}/` that no commit lists (a crashed pass's leftover, or a
 *     file another pass is writing right now), counted from its LastModified.
 * Only keys of this snapshot are deleted, never a fresh listing's.
 */
import {
  parseMergedKey,
  parseTime,
  toEpochNs,
  unfinishedRange,
  type EpochNs,
  type PodMetadata,
} from '@platform/log-reader/layout';
import { type ListedObject } from '@platform/log-reader/s3';
import { MergedFileMissingError } from '../errors.js';

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

/** What waits for deletion: a merged raw file, a merged file a commit stopped listing, or an object no commit lists. */
export type PendingKind = 'merged-raw' | 'retired' | 'orphan';

/** An object waiting for deletion, and when it becomes due (the one rule the pass and `compactor inspect` share). */
export interface PendingObject {
  readonly key: string;
  readonly kind: PendingKind;
  /** What the wait counts from (ISO 8601): the commit that made the object unneeded, or an orphan's LastModified. */
  readonly since: string;
  /**
   * When it is due, in ns since the epoch; `undefined` while it holds pieces of an unfinished
   * line (it is then counted from the commit that finishes the line).
   */
  readonly dueAt: EpochNs | undefined;
}

const NS_PER_MS = 1_000_000n;

/**
 * Every object of the snapshot that waits for deletion: merged raw files, retired files, orphans, each
 * in listing order.
 */
export function pendingDeletions(
  meta: PodMetadata,
  dataObjects: readonly ListedObject[],
  cleanupIntervalMs: number,
): PendingObject[] {
  const interval = BigInt(Math.round(cleanupIntervalMs)) * NS_PER_MS;
  // A time that cannot be read never makes anything due.
  const after = (since: string): EpochNs | undefined => {
    const at = parseTime(since);
    return at === undefined ? undefined : at + interval;
  };
  const holding = new Set(unfinishedRange(meta).map((p) => p.key));
  const listed = new Set([...meta.logFiles.map((f) => f.key), ...meta.retiredFiles.map((p) => p.key)]);
  return [
    ...(meta.mergedRawFiles ?? []).map((p): PendingObject => ({
      key: p.key,
      kind: 'merged-raw',
      since: p.since,
      dueAt: holding.has(p.key) ? undefined : after(p.since),
    })),
    ...meta.retiredFiles.map((p): PendingObject => ({
      key: p.key,
      kind: 'retired',
      since: p.since,
      dueAt: after(p.since),
    })),
    ...dataObjects
      .filter((o) => !listed.has(o.key))
      .map((o): PendingObject => ({
        key: o.key,
        kind: 'orphan',
        since: o.lastModified.toISOString(),
        dueAt: toEpochNs(o.lastModified) + interval,
      })),
  ];
}

/** Objects under `data/{pod}/` that no commit lists (a leftover, or a file being written right now). */
export function unlistedObjects(meta: PodMetadata, dataObjects: readonly ListedObject[]): string[] {
  const listed = new Set([...meta.logFiles.map((f) => f.key), ...meta.retiredFiles.map((p) => p.key)]);
  return dataObjects.filter((o) => !listed.has(o.key)).map((o) => o.key);
}

/** True once `p` is due at `nowMs`. */
export function isDue(p: PendingObject, nowMs: number): boolean {
  return p.dueAt !== undefined && p.dueAt <= toEpochNs(new Date(nowMs));
}

/** What is due now; throws {@link MergedFileMissingError} first when a listed merged file is gone. */
export function planDeletions(
  meta: PodMetadata,
  dataObjects: readonly ListedObject[],
  nowMs: number,
  cleanupIntervalMs: number,
): DuePlan {
  assertListedFilesPresent(meta, dataObjects);
  const pending = pendingDeletions(meta, dataObjects, cleanupIntervalMs);
  const due = (kind: PendingKind): string[] =>
    pending.filter((p) => p.kind === kind && isDue(p, nowMs)).map((p) => p.key);
  const raw = due('merged-raw');
  const retired = due('retired');
  const orphans = due('orphan');
  return { raw, retired, orphans, later: pending.length - raw.length - retired.length - orphans.length };
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
