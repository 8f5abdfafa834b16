/**
 * One pod's merge:
 *   1. Load the pod's snapshot (pod-state.ts). Skip it when it was compacted less than the
 *      compact interval ago, or when every raw file is merged already.
 *   2. Put `cleanup/{pod}`, before anything is written for the pod: a crash from here on
 *      leaves objects that the clean phase finds.
 *   3. Delete what is due (clean.ts).
 *   4. Merge the raw files not merged yet, in raw-file order, into new merged files,
 *      continuing the last merged file when it has room and the same container (it is
 *      rewritten under a new key; the old key is retired). A raw file that ends inside a
 *      line whose rest has not arrived is held back with every file after it, unless the
 *      pod has been quiet for longer than the cleanup interval.
 *   5. Commit: confirm the pod's lease, then write the metadata, conditional on the ETag
 *      read in step 1. Only now do readers see the new files; the raw files they replace
 *      are deleted by a later pass.
 * The pass holds the pod's lease (lease.ts) around all of this.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import {
  cleanupKey,
  compareRawKeys,
  formatIsoMicros,
  formatSlice,
  listRawFiles,
  mergedKey,
  parseMergedKey,
  parseRawKey,
  parseTime,
  readMergedRecords,
  readRawFiles,
  toEpochNs,
  type ByteCounter,
  type LogFileEntry,
  type LogRecord,
  type PodMetadata,
  type RawFile,
} from '@platform/log-reader';
import { deleteDue, type PodContext } from './clean.js';
import { MergeWriter, type WrittenFile } from './merge-writer.js';
import { commitMetadata, loadPodState, type PodState } from './pod-state.js';
import { ZERO_COUNTS, type PodReport } from './report.js';

export async function mergePod(ctx: PodContext, pod: string): Promise<PodReport> {
  const started = Date.now();
  const log = ctx.logger.child({ pod });
  const state = await loadPodState(ctx.store, pod, ctx.now);
  const skip = skipReason(ctx, state);
  if (skip !== undefined) {
    return { pod, phase: 'merge', status: 'skipped', reason: skip, ...ZERO_COUNTS, durationMs: Date.now() - started };
  }
  if (!ctx.config.dryRun) {
    await ctx.store.client.send(new PutObjectCommand({ Bucket: ctx.store.bucket, Key: cleanupKey(pod), Body: '', ContentLength: 0 }));
  }
  const due = await deleteDue(ctx, state);
  const merge = await mergeRawFiles(ctx, state, due.metadata, log);
  if (merge.endedAsIs && (await newRawFiles(ctx, state))) {
    // The rest of the line arrived while this pass merged it as it is: committing would split
    // a line that reads have already returned joined. The next pass merges it joined; what
    // this pass wrote is an orphan, deleted later.
    return {
      pod, phase: 'merge', status: 'skipped', reason: 'new raw files arrived while an unfinished line was being merged as it is; merged next pass',
      ...ZERO_COUNTS, ...due.counts, rawFilesRead: merge.read, bytesRead: merge.bytesRead, durationMs: Date.now() - started,
    };
  }
  const nowIso = formatIsoMicros(toEpochNs(ctx.now), 'floor');
  if (!ctx.config.dryRun && (merge.merged.length > 0 || due.changed)) {
    const metadata = merge.merged.length > 0 ? committed(due.metadata, merge, nowIso) : due.metadata;
    await ctx.lease?.confirm();
    await commitMetadata(ctx.store, pod, metadata, state.etag);
  }
  return {
    pod,
    phase: 'merge',
    status: merge.merged.length > 0 ? 'merged' : 'skipped',
    ...(merge.merged.length > 0 ? {} : { reason: 'every new raw file ends inside an unfinished line' }),
    ...ZERO_COUNTS,
    ...due.counts,
    rawFilesRead: merge.read,
    rawFilesMerged: merge.merged.length,
    rawFilesHeldBack: state.unmerged.length - merge.merged.length,
    bytesRead: merge.bytesRead,
    recordsWritten: merge.files.reduce((n, f) => n + f.recordsCount, 0),
    mergedFilesWritten: merge.files.length,
    bytesWritten: merge.files.reduce((n, f) => n + f.compressedSize, 0),
    invalidLines: merge.invalidLines,
    durationMs: Date.now() - started,
  };
}

function skipReason(ctx: PodContext, state: PodState): string | undefined {
  const last = state.metadata.lastCompactionTime === null ? undefined : parseTime(state.metadata.lastCompactionTime);
  if (last !== undefined && toEpochNs(new Date(ctx.now.getTime() - ctx.config.compactIntervalMs)) < last) {
    return `compacted at ${state.metadata.lastCompactionTime}, less than the compact interval ago`;
  }
  if (state.unmerged.length === 0) return 'no new raw files';
  return undefined;
}

interface MergeResult {
  readonly merged: readonly RawFile[];
  readonly files: readonly WrittenFile[];
  /** The merged file that was continued (its key is retired by the commit). */
  readonly continued: LogFileEntry | undefined;
  readonly read: number;
  readonly bytesRead: number;
  readonly invalidLines: number;
  /** An unfinished line was merged as it is (the pod had been quiet). */
  readonly endedAsIs: boolean;
}

async function mergeRawFiles(ctx: PodContext, state: PodState, metadata: PodMetadata, log: PodContext['logger']): Promise<MergeResult> {
  const { config, store } = ctx;
  const counter: ByteCounter = { bytes: 0 };
  const writer = new MergeWriter({ store, maxFileSize: config.maxFileSize, nextKey: keyAllocator(state, ctx.now), now: ctx.now, dryRun: config.dryRun });
  const last = metadata.logFiles.at(-1);
  const lastKey = last === undefined ? undefined : parseMergedKey(last.key);
  let continued: LogFileEntry | undefined;
  let started = false;

  const write = async (record: LogRecord): Promise<void> => {
    if (!started) {
      started = true;
      if (last && lastKey?.pod === state.pod && lastKey.containerId === record.containerId && last.size < config.maxFileSize) {
        for await (const old of readMergedRecords(store, last.key, counter)) await writer.write(old);
        continued = last;
      }
    }
    await writer.write(record);
  };

  // Records since the last file that ended outside a line: written only once a file closes it.
  let pending: LogRecord[] = [];
  let pendingFiles: RawFile[] = [];
  const merged: RawFile[] = [];
  let read = 0;
  let invalidLines = 0;
  try {
    for await (const event of readRawFiles(store, state.unmerged, { counter })) {
      if (event.kind === 'record') {
        pending.push(event.record);
        continue;
      }
      read += 1;
      pendingFiles.push(event.file);
      if (event.invalidLines > 0) {
        invalidLines += event.invalidLines;
        log.warn('lines that are not JSON kept whole as messages', { key: event.file.key, lines: event.invalidLines });
      }
      if (!event.insideLine) {
        for (const record of pending) await write(record);
        merged.push(...pendingFiles);
        pending = [];
        pendingFiles = [];
      }
    }
    const endedAsIs = pendingFiles.length > 0 && isQuiet(ctx, state);
    if (endedAsIs) {
      for (const record of pending) await write(record);
      merged.push(...pendingFiles);
    }
    const files = await writer.close();
    return { merged, files, continued, read, bytesRead: counter.bytes, invalidLines, endedAsIs };
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

/** True when the pod has raw files that the pass's snapshot did not list. */
async function newRawFiles(ctx: PodContext, state: PodState): Promise<boolean> {
  const known = new Set(state.raw.map((f) => f.key));
  return (await listRawFiles(ctx.store, state.pod)).some((f) => !known.has(f.key));
}

/** No raw upload for longer than the cleanup interval: an unfinished line will not be finished. */
function isQuiet(ctx: PodContext, state: PodState): boolean {
  const newest = Math.max(...state.raw.map((f) => f.lastModified.getTime()));
  return ctx.now.getTime() - newest > ctx.config.cleanupIntervalMs;
}

/** Merged keys: this run's minute, and an index above every merged key the pod has. */
function keyAllocator(state: PodState, now: Date): (containerId: string) => string {
  const known = [...state.metadata.logFiles, ...state.metadata.retiredFiles, ...state.dataObjects].map((o) => parseMergedKey(o.key)?.index ?? 0);
  let next = Math.max(0, ...known) + 1;
  const slice = formatSlice(now);
  return (containerId) => mergedKey({ pod: state.pod, containerId, slice, index: next++ });
}

function committed(metadata: PodMetadata, merge: MergeResult, nowIso: string): PodMetadata {
  const kept = merge.continued ? metadata.logFiles.slice(0, -1) : metadata.logFiles;
  const newFiles: LogFileEntry[] = merge.files.map(({ key, recordsCount, size, firstRecordTime, lastRecordTime }) => ({
    key,
    recordsCount,
    size,
    firstRecordTime,
    lastRecordTime,
  }));
  return {
    ...metadata,
    logFiles: [...kept, ...newFiles],
    lastCompactionTime: nowIso,
    lastMergedKey: lastInRawOrder(metadata.lastMergedKey, merge.merged),
    mergedRawFiles: [...(metadata.mergedRawFiles ?? []), ...merge.merged.map((f) => ({ key: f.key, since: nowIso }))],
    retiredFiles: merge.continued ? [...metadata.retiredFiles, { key: merge.continued.key, since: nowIso }] : metadata.retiredFiles,
  };
}

/** `last_merged_key` only moves forward in raw order (what the Python service reads). */
function lastInRawOrder(previous: string | null, merged: readonly RawFile[]): string | null {
  let best = previous === null ? undefined : parseRawKey(previous);
  for (const file of merged) if (best === undefined || compareRawKeys(file, best) > 0) best = file;
  return best?.key ?? previous;
}
