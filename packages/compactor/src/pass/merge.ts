/**
 * One pod's merge:
 *   1. Load the pod's snapshot (pod-state.ts). Skip it when it was compacted less than the
 *      compact interval ago. With nothing to merge (every raw file merged, no open line that
 *      can end now), only delete what is due (clean.ts) and stop.
 *   2. Put `cleanup/{pod}`, before anything is written for the pod: a crash from here on
 *      leaves objects that the clean phase finds.
 *   3. Delete what is due (clean.ts; a fence write first when leftovers are deleted).
 *   4. Merge the raw files not merged yet into new merged files, in raw-file order together
 *      with the pieces of the lines the last commit left open (raw-records.ts), continuing
 *      the last merged file when it has room and the same container (it is rewritten under
 *      a new key; the old key is retired). Every record is written as it comes; a line still
 *      open at the end stays out (its pieces stay in their raw files, `unfinished_lines`)
 *      unless it can no longer be finished: the pod has been quiet for longer than the
 *      cleanup interval, or with --kube its container has ended (line-end.ts).
 *   5. Commit (commit.ts): confirm the pod's lease, read the clock, write the metadata,
 *      conditional on the ETag read in step 1 (or written by the fence). Only now do readers
 *      see the new files; the raw files they replace are deleted by a later pass.
 * The pass holds the pod's lease (lease.ts) around all of this.
 */
import {
  formatSlice,
  mergedKey,
  parseMergedKey,
  unfinishedRange,
  type LogFileEntry,
  type PodMetadata,
} from '@platform/log-reader/layout';
import { listRawFiles, readMergedRecords, readRawFiles, type ByteCounter, type RawFile } from '@platform/log-reader/s3';
import { UnreadableObjectError, type LogRecord } from '@platform/log-reader';
import { UnfinishedPiecesMissingError } from '../errors.js';
import { MergeWriter, type WrittenFile } from '../store/merge-writer.js';
import {
  completePodState,
  confirmFirstReads,
  loadPodState,
  putCleanupEntry,
  type FirstReads,
  type PodState,
} from '../store/pod-state.js';
import { cleanLoaded, deleteDue } from './clean.js';
import { commit, piecesKept, withMerge, type MergedWork, type UnreadableFound } from './commit.js';
import type { PodContext } from './context.js';
import { lineCanEnd, skipReason } from './decide.js';
import { ZERO_COUNTS, type PodReport } from './report.js';

/**
 * `first`: the metadata and raw listing the pass's look read just before it took the lease
 * (triage.ts): reused when the metadata has not changed since (one HEAD), so that a pod with
 * work reads neither twice.
 */
export async function mergePod(ctx: PodContext, pod: string, first?: FirstReads): Promise<PodReport> {
  const started = Date.now();
  const log = ctx.logger.child({ pod });
  const state =
    first === undefined
      ? await loadPodState(ctx.store, pod, ctx.clock)
      : await completePodState(ctx.store, pod, await confirmFirstReads(ctx.store, pod, first), ctx.clock);
  const skip = await skipReason(ctx, state);
  if (skip?.recent === true) {
    return {
      pod,
      phase: 'merge',
      status: 'skipped',
      reason: skip.reason,
      ...ZERO_COUNTS,
      durationMs: Date.now() - started,
    };
  }
  if (skip !== undefined) {
    // Nothing to merge: what is waiting for deletion is still deleted here when due, not left
    // to the cleanup queue alone (its entry may have been lost).
    const waiting = (state.metadata.mergedRawFiles ?? []).length + state.metadata.retiredFiles.length > 0;
    if (waiting) return cleanLoaded(ctx, state, 'merge', started, skip.reason);
    return {
      pod,
      phase: 'merge',
      status: 'skipped',
      reason: skip.reason,
      ...ZERO_COUNTS,
      durationMs: Date.now() - started,
    };
  }
  if (!ctx.config.dryRun) await putCleanupEntry(ctx, pod);
  const due = await deleteDue(ctx, state);
  const merge = await mergeAround(ctx, state, due.metadata, log);
  if (merge.endedAsIs && (await newRawFiles(ctx, state))) {
    // The rest of the line arrived while this pass merged it as it is: committing would split
    // a line that reads have already returned joined. The next pass merges it joined; what
    // this pass wrote is an orphan, deleted later.
    return {
      pod,
      phase: 'merge',
      status: 'skipped',
      reason: 'new raw files arrived while an unfinished line was being merged as it is; merged next pass',
      ...ZERO_COUNTS,
      ...due.counts,
      rawFilesRead: merge.read,
      bytesRead: merge.bytesRead,
      durationMs: Date.now() - started,
    };
  }
  const progressed = merge.merged.length > 0 || merge.endedAsIs || merge.unreadable.length > 0;
  if (!ctx.config.dryRun && (progressed || due.changed)) {
    await commitOrRequeue(ctx, pod, merge.files.length, () =>
      commit(ctx, pod, due.etag, (stamp) => (progressed ? withMerge(due.metadata, merge, stamp) : due.metadata)),
    );
  }
  return {
    pod,
    phase: 'merge',
    status: progressed ? 'merged' : 'skipped',
    ...ZERO_COUNTS,
    ...due.counts,
    rawFilesRead: merge.read,
    rawFilesMerged: merge.merged.length,
    rawFilesHeldBack: progressed ? piecesKept(merge) : unfinishedRange(due.metadata).length,
    bytesRead: merge.bytesRead,
    recordsWritten: merge.files.reduce((n, f) => n + f.recordsCount, 0),
    mergedFilesWritten: merge.files.length,
    bytesWritten: merge.files.reduce((n, f) => n + f.compressedSize, 0),
    invalidLines: merge.invalidLines,
    unreadableObjects: merge.unreadable.length,
    ...(merge.unreadable.length > 0 ? { unreadable: merge.unreadable } : {}),
    ...(merge.endedAsIs ? { endedBy: ctx.liveness === undefined ? 'quiet' : 'kubernetes' } : {}),
    durationMs: Date.now() - started,
  };
}

/**
 * A commit that fails (the lease lost to a compactor that took the pod over while this one
 * stalled, the metadata changed) leaves the merged files this pass wrote listed by no commit.
 * The one that took over may have cleaned the pod and left the queue meanwhile: the entry is
 * put back so that a later pass's snapshot finds them (docs/design.md §8, orphans).
 */
async function commitOrRequeue(
  ctx: PodContext,
  pod: string,
  written: number,
  work: () => Promise<unknown>,
): Promise<void> {
  try {
    await work();
  } catch (error) {
    if (written > 0) await putCleanupEntry(ctx, pod).catch(() => undefined);
    throw error;
  }
}

interface MergeResult extends MergedWork {
  readonly files: readonly WrittenFile[];
  readonly read: number;
  readonly bytesRead: number;
  readonly invalidLines: number;
  /** An unfinished line was merged as it is (it could not be finished any more). */
  readonly endedAsIs: boolean;
}

/**
 * {@link mergeRawFiles}; when the last merged file it would continue turns out unreadable
 * (docs/design.md §8), that merge is dropped and done again starting a new file instead: the
 * unreadable one stays listed (its readable records where they are), and is recorded.
 */
async function mergeAround(
  ctx: PodContext,
  state: PodState,
  metadata: PodMetadata,
  log: PodContext['logger'],
): Promise<MergeResult> {
  try {
    return await mergeRawFiles(ctx, state, metadata, log, []);
  } catch (error) {
    if (!(error instanceof UnreadableObjectError) || error.key !== metadata.logFiles.at(-1)?.key) throw error;
    const found = { key: error.key, reason: error.reason };
    warnUnreadable(log, found);
    return mergeRawFiles(ctx, state, metadata, log, [found]);
  }
}

function warnUnreadable(log: PodContext['logger'], found: UnreadableFound): void {
  log.warn('object arrived whole but cannot be decoded: merged around it, kept, and recorded in the metadata', {
    key: found.key,
    reason: found.reason,
  });
}

/**
 * Writes every record of the raw files not merged yet, in order, as it comes: only the
 * pieces of a line still open at the end stay out, kept in the raw files that hold them
 * (metadata `unfinished_lines`). Memory: the open line, and one part per open upload.
 * A raw file that cannot be decoded is merged around (none of its records: it is checked whole
 * first, as reads do) and comes back in `unreadable`, after `found`.
 */
async function mergeRawFiles(
  ctx: PodContext,
  state: PodState,
  metadata: PodMetadata,
  log: PodContext['logger'],
  found: readonly UnreadableFound[],
): Promise<MergeResult> {
  const { config, store } = ctx;
  const counter: ByteCounter = { bytes: 0 };
  const writer = new MergeWriter({
    store,
    maxFileSize: config.maxFileSize,
    nextKey: keyAllocator(state, ctx.clock),
    clock: ctx.clock,
    dryRun: config.dryRun,
  });
  const unreadable: UnreadableFound[] = [...found];
  const known = new Set([...metadata.unreadableObjects, ...found].map((u) => u.key));
  const output = continuingLastFile(ctx, state, metadata, writer, counter, known);
  const write = output.write;

  const files = state.unmerged;
  const merged: RawFile[] = [];
  let unfinished = metadata.unfinishedLines;
  let ended = false;
  // After the last file: the lines still open there, as they are.
  const openLines: LogRecord[] = [];
  let invalidLines = 0;
  try {
    const pieces = { lines: metadata.unfinishedLines, files: unfinishedFiles(state, metadata) };
    for await (const event of readRawFiles(store, files, { counter, unfinished: pieces })) {
      if (event.kind === 'records') {
        if (ended) openLines.push(...event.records);
        else await write(event.records);
      } else if (event.kind === 'open-lines') {
        ended = true;
        unfinished = event.unfinished;
      } else if (event.kind === 'unreadable') {
        unreadable.push({ key: event.file.key, reason: event.error.reason });
      } else {
        merged.push(event.file);
        if (event.invalidLines > 0) {
          invalidLines += event.invalidLines;
          log.warn('lines that are not JSON kept whole as messages', {
            key: event.file.key,
            lines: event.invalidLines,
          });
        }
      }
    }
    const endedAsIs = unfinished.length > 0 && (await lineCanEnd(ctx, state, unfinished));
    if (endedAsIs) {
      if (openLines.length > 0) await write(openLines);
      unfinished = [];
    }
    const written = await writer.close();
    // Warned once the merge stands: a merge done again (mergeAround) does not warn twice.
    for (const u of unreadable.slice(found.length)) warnUnreadable(log, u);
    return {
      merged,
      files: written,
      continued: output.continued(),
      unfinished,
      read: merged.length + pieces.files.length,
      bytesRead: counter.bytes,
      invalidLines,
      unreadable,
      endedAsIs,
    };
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

/**
 * Where the pass's records go: into `writer`, after the records of the pod's last merged file
 * when the first record can continue it (same pod and container, room left), which the new
 * file then replaces. `continued()` says which file that was, once the writing is done.
 */
function continuingLastFile(
  ctx: PodContext,
  state: PodState,
  metadata: PodMetadata,
  writer: MergeWriter,
  counter: ByteCounter,
  unreadable: ReadonlySet<string>,
): { write: (records: readonly LogRecord[]) => Promise<void>; continued: () => LogFileEntry | undefined } {
  const last = metadata.logFiles.at(-1);
  const lastKey = last === undefined ? undefined : parseMergedKey(last.key);
  let continued: LogFileEntry | undefined;
  let started = false;
  const write = async (records: readonly LogRecord[]): Promise<void> => {
    const first = records[0];
    if (!started && first !== undefined) {
      started = true;
      if (
        last &&
        !unreadable.has(last.key) &&
        lastKey?.pod === state.pod &&
        lastKey.containerId === first.containerId &&
        last.size < ctx.config.maxFileSize
      ) {
        for await (const old of readMergedRecords(ctx.store, last.key, counter)) await writer.writeAll(old);
        continued = last;
      }
    }
    await writer.writeAll(records);
  };
  return { write, continued: () => continued };
}

/** The merged raw files that hold the pieces of the lines the last commit left unfinished. */
function unfinishedFiles(state: PodState, metadata: PodMetadata): RawFile[] {
  const listed = new Map(state.raw.map((f) => [f.key, f]));
  return unfinishedRange(metadata).map((p) => {
    const file = listed.get(p.key);
    if (file === undefined) throw new UnfinishedPiecesMissingError(state.pod, p.key);
    return file;
  });
}

/** True when the pod has raw files that the pass's snapshot did not list. */
async function newRawFiles(ctx: PodContext, state: PodState): Promise<boolean> {
  const known = new Set(state.raw.map((f) => f.key));
  return (await listRawFiles(ctx.store, state.pod)).some((f) => !known.has(f.key));
}

/** Merged keys: the minute the file is started, and an index above every merged key the pod has. */
export function keyAllocator(
  state: Pick<PodState, 'pod' | 'metadata' | 'dataObjects'>,
  clock: () => Date,
): (containerId: string) => string {
  let highest = 0;
  for (const list of [state.metadata.logFiles, state.metadata.retiredFiles, state.dataObjects]) {
    for (const o of list) highest = Math.max(highest, parseMergedKey(o.key)?.index ?? 0);
  }
  let next = highest + 1;
  return (containerId) => mergedKey({ pod: state.pod, containerId, slice: formatSlice(clock()), index: next++ });
}
