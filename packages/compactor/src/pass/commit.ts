/**
 * The commit: the metadata write that is the only point where a pass's work becomes what
 * readers see. It is stamped with the clock read right before the PUT (never the start of
 * a pass that may have run for minutes): what a commit makes unneeded is due one cleanup
 * interval after that stamp, so an early stamp would delete it while readers still need it.
 */
import { randomUUID } from 'node:crypto';
import { DeleteObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  compareRawKeysAsPython,
  encodeMetadata,
  formatIsoMicros,
  formatSlice,
  metadataKey,
  parseRawKey,
  rawOrderSlice,
  toEpochNs,
  unfinishedRange,
  type LogFileEntry,
  type PodMetadata,
  type RawKey,
  type UnfinishedLine,
  withUnreadable,
} from '@platform/log-reader/layout';
import {
  isNotFound,
  isPreconditionFailure,
  readMetadataText,
  type Bucket,
  type RawFile,
} from '@platform/log-reader/s3';
import { ConcurrentUpdateError } from '../errors.js';
import type { PodContext } from './context.js';
import { withoutExpiryMark } from './decide-expiry.js';

/** What one merge adds to the metadata. */
export interface MergedWork {
  /** Raw files merged, in merge order. */
  readonly merged: readonly RawFile[];
  /** The new merged files, in log order. */
  readonly files: readonly LogFileEntry[];
  /** The merged file that was continued: its key is retired by the commit. */
  readonly continued: LogFileEntry | undefined;
  /** Lines still open after the merged raw files: their pieces stay in those files. */
  readonly unfinished: readonly UnfinishedLine[];
  /**
   * Objects found unreadable by this merge (docs/design.md §8): recorded with the commit's
   * stamp; a raw one among them counts as merged (`last_merged_key` moves over it too).
   */
  readonly unreadable: readonly UnreadableFound[];
}

/** An object that arrived whole but could not be decoded, as a merge found it. */
export interface UnreadableFound {
  readonly key: string;
  readonly reason: string;
}

/**
 * Confirms the pod's lease, reads the clock, builds the document with that instant (an ISO
 * string with microseconds) and writes it conditionally on `etag`, with a new `commit_id`.
 * Returns the new ETag.
 */
export async function commit(
  ctx: PodContext,
  pod: string,
  etag: string | undefined,
  build: (stampIso: string) => PodMetadata,
): Promise<string | undefined> {
  await ctx.lease?.confirm();
  const stamp = formatIsoMicros(toEpochNs(ctx.clock()), 'floor');
  const built = build(stamp);
  // The log's id stays for its life, so a read can tell this log from one started after an expiry.
  return commitMetadata(ctx.store, pod, { ...built, ...logIdOf(built), commitId: randomUUID() }, etag);
}

/**
 * The log's id: kept once given; given by the first commit that lists anything. A document that
 * lists nothing (the fence on a pod without metadata, which is deleted again) starts no log: a
 * read that planned on it must not take its removal for a new log.
 */
function logIdOf(metadata: PodMetadata): Pick<PodMetadata, 'logId'> {
  if (metadata.logId !== undefined) return { logId: metadata.logId };
  const empty = metadata.logFiles.length === 0 && (metadata.mergedRawFiles ?? []).length === 0;
  return empty ? {} : { logId: randomUUID() };
}

/**
 * Rewrites the metadata as it is, but for a new `commit_id` (so its ETag changes), before
 * deleting objects that no commit lists. A compactor that stalled between its lease check and
 * its commit may still be about to commit exactly those objects (its merged files, which look
 * like a crashed pass's leftovers once they are old): its commit is conditional on the ETag it
 * read, so after this fence it fails instead of listing what is about to be deleted.
 * Returns the new ETag.
 */
export async function fence(
  ctx: PodContext,
  pod: string,
  metadata: PodMetadata,
  etag: string | undefined,
): Promise<string | undefined> {
  return commit(ctx, pod, etag, () => metadata);
}

/**
 * Deletes the document a fence created for a pod that had no metadata (an orphan landing after
 * retention deleted the pod), once its orphans are gone: the pod then leaves no trace. Only on a
 * store that enforces If-Match on DELETE (clean.ts asks): the delete is conditional on the fence's
 * ETag, so a compactor that took the pod over while this one stalled keeps its commit. A document
 * that is no longer the fence's is left alone. Returns the metadata's ETag afterwards
 * (undefined: deleted).
 */
export async function unfence(ctx: PodContext, pod: string, etag: string): Promise<string | undefined> {
  const key = metadataKey(pod);
  const target = { Bucket: ctx.store.bucket, Key: key };
  await ctx.lease?.confirm();
  let current: string | undefined;
  try {
    current = (await ctx.store.client.send(new HeadObjectCommand(target))).ETag;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
  if (current !== etag) return current;
  try {
    await ctx.store.client.send(new DeleteObjectCommand({ ...target, IfMatch: etag }));
  } catch (error) {
    if (!isPreconditionFailure(error)) throw error;
    throw new ConcurrentUpdateError(pod, key);
  }
  return undefined;
}

/**
 * The metadata after a merge committed at `stampIso`. Raw files that held pieces of a line
 * left unfinished before are needed by readers until this commit: they are stamped with it.
 */
export function withMerge(metadata: PodMetadata, work: MergedWork, stampIso: string): PodMetadata {
  const heldPieces = new Set(unfinishedRange(metadata).map((p) => p.key));
  const mergedRawFiles = [
    ...(metadata.mergedRawFiles ?? []).map((p) => (heldPieces.has(p.key) ? { key: p.key, since: stampIso } : p)),
    ...work.merged.map((f) => ({ key: f.key, since: stampIso })),
  ];
  const kept = work.continued ? metadata.logFiles.slice(0, -1) : metadata.logFiles;
  const newFiles: LogFileEntry[] = work.files.map(
    ({ key, recordsCount, size, firstRecordTime, lastRecordTime, exactRange }) => ({
      key,
      recordsCount,
      size,
      firstRecordTime,
      lastRecordTime,
      ...(exactRange === true ? { exactRange } : {}),
    }),
  );
  return {
    // New records: whatever an expiry marked, the log is kept (decide-expiry.ts).
    ...withoutExpiryMark(metadata),
    logFiles: [...kept, ...newFiles],
    lastCompactionTime: stampIso,
    lastMergedKey: lastMergedKey(metadata.lastMergedKey, mergedRawFiles, work, stampIso),
    mergedRawFiles,
    retiredFiles: work.continued
      ? [...metadata.retiredFiles, { key: work.continued.key, since: stampIso }]
      : metadata.retiredFiles,
    unfinishedLines: work.unfinished,
    unreadableObjects: withUnreadable(
      metadata.unreadableObjects,
      work.unreadable.map((u) => ({ key: u.key, reason: u.reason, foundAt: stampIso })),
    ),
  };
}

/** How many merged raw files `withMerge` keeps for the pieces of lines it leaves unfinished. */
export function piecesKept(work: Pick<MergedWork, 'unfinished'>): number {
  return new Set(work.unfinished.flatMap((u) => u.files.map((f) => f.key))).size;
}

/**
 * `last_merged_key`, what the Python service reads: it takes every raw key up to it as
 * merged (and would delete those files). It moves forward over what this merge merged, but
 * stays below every file that holds pieces of a line still open — even if that means moving
 * back (the Python service may then read some merged raw files again, never lose pieces).
 * It stays below a file of a restart's first minute too ({@link uploadMayStillComeBefore}).
 */
function lastMergedKey(
  previous: string | null,
  mergedRawFiles: readonly { readonly key: string }[],
  work: MergedWork,
  stampIso: string,
): string | null {
  // An unreadable raw file counts as merged: the Python service must not read it as new.
  const moved: RawKey[] = [...work.merged];
  for (const u of work.unreadable) {
    const raw = parseRawKey(u.key);
    if (raw !== undefined) moved.push(raw);
  }
  let firstHolding: RawKey | undefined;
  const holds = (raw: RawKey | undefined): void => {
    if (raw !== undefined && (firstHolding === undefined || compareRawKeysAsPython(raw, firstHolding) < 0))
      firstHolding = raw;
  };
  for (const u of work.unfinished) for (const f of u.files) holds(parseRawKey(f.key));
  const listed = mergedRawFiles.map((p) => parseRawKey(p.key));
  // Every merged raw file still listed, not only this merge's: an earlier commit of the same minute.
  for (const raw of [...moved, ...listed]) if (raw !== undefined && uploadMayStillComeBefore(raw, stampIso)) holds(raw);
  const last = previous === null ? undefined : parseRawKey(previous);
  const candidates =
    firstHolding === undefined || (last !== undefined && compareRawKeysAsPython(last, firstHolding) >= 0)
      ? [...moved, ...listed]
      : moved;
  let best =
    last !== undefined && (firstHolding === undefined || compareRawKeysAsPython(last, firstHolding) < 0)
      ? last
      : undefined;
  for (const file of candidates) {
    if (file === undefined || (firstHolding !== undefined && compareRawKeysAsPython(file, firstHolding) >= 0)) continue;
    if (best === undefined || compareRawKeysAsPython(file, best) > 0) best = file;
  }
  if (best !== undefined) return best.key;
  return firstHolding === undefined ? previous : null;
}

/**
 * How long after a restart's first minute (a lifted order minute, rawOrderSlice) its first new
 * file may still be uploaded: Fluent Bit uploads each file within its upload_timeout (1 minute
 * in fluent-bit.conf), retries included, well inside this.
 */
const RESTART_UPLOADS_SETTLE_MS = 10 * 60_000;

/**
 * A raw file of a restarted Fluent Bit's first minute, committed before that minute has
 * settled: the first new file of that restart, keyed by its first record's earlier minute, may
 * still be uploaded. It is ordered after this one here, but before it in the Python service's
 * order, which would take it for merged if `last_merged_key` named this file or a later one.
 */
function uploadMayStillComeBefore(raw: RawKey, stampIso: string): boolean {
  const orderMinute = rawOrderSlice(raw);
  if (orderMinute === raw.slice) return false;
  return formatSlice(new Date(Date.parse(stampIso) - RESTART_UPLOADS_SETTLE_MS)) <= orderMinute;
}

/**
 * Writes the metadata only if nobody else wrote it since `etag` was read (`If-None-Match: *`
 * for a pod without metadata yet). Throws {@link ConcurrentUpdateError} otherwise.
 */
export async function commitMetadata(
  store: Bucket,
  pod: string,
  metadata: PodMetadata,
  etag: string | undefined,
): Promise<string | undefined> {
  const key = metadataKey(pod);
  const body = encodeMetadata(metadata);
  try {
    const response = await store.client.send(
      new PutObjectCommand({
        Bucket: store.bucket,
        Key: key,
        Body: body,
        ContentType: 'application/json',
        ...(etag === undefined ? { IfNoneMatch: '*' } : { IfMatch: etag }),
      }),
    );
    return response.ETag;
  } catch (error) {
    if (!isPreconditionFailure(error)) throw error;
    // A retry whose first attempt landed (its answer was lost) meets its own write: the
    // document is then byte for byte ours (commit times carry microseconds), and committed.
    const stored = await readMetadataText(store, pod);
    if (stored?.text === body) return stored.etag;
    throw new ConcurrentUpdateError(pod, key);
  }
}
