/**
 * LogReader: one pod's whole log, merged and not-yet-merged files read as one file.
 *
 * How a read works:
 *   1. Read the pod's metadata (the commit point), then list its raw files: in that order,
 *      so every raw file the metadata does not cover is still there to list. The listing goes
 *      on while the read does: merged files need only the metadata, and raw files are read in
 *      order as soon as the listing has passed them (s3/raw-listing.ts).
 *   2. The log is the merged files the metadata lists, in its order, then the raw files it
 *      does not cover, in raw-file order. Merged files whose time range ends before `since`
 *      are not fetched; raw records are filtered one by one (key times bound nothing).
 *   3. If an object has gone (a reader slower than the cleanup interval), or a response body
 *      broke half-way (the SDK retries only until the headers arrive), re-read the
 *      metadata and carry on after the last record passed: the sequence only grows at its
 *      end, so counting records finds the place again. The record at that place must be the
 *      last one passed; if it is not (a node uploaded a late raw file keyed before raw files
 *      not merged yet, which inserts records before the place), the read moves on to where
 *      that record is now, so nothing is returned twice. A read fails only after `maxReplans`
 *      re-plans in a row that passed no record.
 *   Objects that arrived whole but cannot be decoded (recorded in the metadata, or met) are
 *      reported once and read around, or fail a strict read (unreadable.ts, §8).
 *   4. `tail: n` reads the records after the merged files into a ring of n, then only the
 *      last merged files that can hold the rest, by position (tail.ts). `follow` reads the
 *      archive up to where the live log takes over, then the live log (live/follow.ts).
 * Nothing is cached between reads; memory is bounded by one line and the stream buffers
 * (and by n records for `tail`).
 */
import { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import {
  isBrokenBody,
  LogChangedError,
  ObjectMissingError,
  ObjectVanishedError,
  PodNotFoundError,
  ReadAbortedError,
  UnreadableObjectError,
} from '../errors.js';
import { assertPodName } from '../layout/keys.js';
import { recordsIn, type LogFileEntry, type PodMetadata } from '../layout/metadata.js';
import type { LogRecord } from '../layout/records.js';
import { toEpochNs } from '../layout/time.js';
import { isHandOff } from '../live/hand-off.js';
import { mergedRecordBatches } from '../s3/merged-records.js';
import { DEFAULT_READ_AHEAD, readRawFiles } from '../s3/raw-records.js';
import { openInOrder, type Bucket } from '../s3/store.js';
import { filesToFetch, PlanWalk, type Cursor } from './cursor.js';
import { loadReadableMetadata } from './expiry.js';
import { holdsNothingOf, openPlan, planRead, type OpenPlan } from './plan.js';
import { formatBatch } from './format.js';
import { Ring, tailStart } from './tail.js';
import { UnreadableReport } from './unreadable.js';
import type {
  ArchiveFilter,
  FollowedRecord,
  FollowOptions,
  LogReaderOptions,
  ReadOptions,
  ReadPlan,
  ReadStreamOptions,
} from './types.js';

export class LogReader {
  private readonly store: Bucket;
  private readonly maxReplans: number;
  private readonly readAhead: number;

  constructor(options: LogReaderOptions) {
    this.store = { client: options.client, bucket: options.bucket };
    this.maxReplans = options.maxReplans ?? 5;
    this.readAhead = options.readAhead ?? DEFAULT_READ_AHEAD;
  }

  /** The files a read of `pod` would go through now. */
  async plan(pod: string): Promise<ReadPlan> {
    assertPodName(pod);
    return planRead(this.store, pod);
  }

  /** The pod's records in log order; with `follow`, then its live log, each record saying where it came from. */
  records(pod: string, options: ReadOptions & { readonly follow: FollowOptions }): AsyncGenerator<FollowedRecord>;
  records(pod: string, options?: ReadOptions): AsyncGenerator<LogRecord>;
  async *records(pod: string, options: ReadOptions = {}): AsyncGenerator<LogRecord> {
    const signal = options.signal;
    for await (const batch of this.readBatches(pod, options)) {
      for (const record of batch) {
        // The rest of the batch is dropped: the next batch's turn ends the read with an AbortError.
        if (signal?.aborted) break;
        yield record;
      }
    }
  }

  /** The pod's log as text: a line per record, optionally `"{time} {message}"`. */
  createReadStream(pod: string, options: ReadStreamOptions = {}): Readable {
    // Merged records as bytes, copied out rather than decoded and encoded again; a followed
    // read hands its records to the hand-off code, which copies them by spreading (live/placed.ts).
    const batches = this.readBatches(pod, options, options.follow === undefined);
    const timestamps = options.timestamps ?? false;
    const separator = options.separator;
    // A chunk per batch of records, not a write per line.
    async function* chunks(): AsyncGenerator<string | Buffer> {
      let before = false;
      let handedOff = false;
      let separated = false;
      for await (const batch of batches) {
        if (isHandOff(batch)) {
          handedOff = true;
          continue;
        }
        if (batch.length === 0) continue;
        let head = '';
        if (!handedOff) before = true;
        else if (!separated) {
          separated = true;
          // Where the live log takes over, when lines come on both sides.
          if (before && separator !== false) head = `${separator ?? defaultSeparator()}\n`;
        }
        yield formatBatch(batch, timestamps, head);
      }
    }
    return Readable.from(chunks(), { objectMode: false });
  }

  /**
   * A read's batches: the archive, or with `follow` the archive and then the live log. Ends with an
   * AbortError once `signal` aborts.
   */
  private async *readBatches(pod: string, options: ReadOptions, views = false): AsyncGenerator<LogRecord[]> {
    assertPodName(pod);
    const signal = options.signal;
    signal?.throwIfAborted();
    const since = options.since === undefined ? undefined : toEpochNs(options.since);
    const tail = options.tail;
    if (tail !== undefined && (!Number.isSafeInteger(tail) || tail < 0))
      throw new RangeError(`tail must be a whole number, at least 0 (got ${tail})`);
    const store: Bucket = { ...this.store, signal };
    const report = new UnreadableReport(pod, options);
    try {
      let batches: AsyncGenerator<LogRecord[]>;
      if (options.follow !== undefined) {
        const { followBatches } = await import('../live/follow.js');
        // Nothing of the pod in the bucket is an error only when it is not in the cluster either.
        const archive = (filter: ArchiveFilter, n: number | undefined, mustExist = false) =>
          this.archiveBatches({ store, pod, report, mustExist, views: false }, filter, n);
        batches = followBatches({ archive, pod, since, tail, follow: options.follow, signal });
      } else {
        batches = this.archiveBatches({ store, pod, report, mustExist: true, views }, { since }, tail);
      }
      for await (const batch of batches) {
        yield batch;
        // An abort fails the read even when what is left came read ahead (no request left to abort).
        signal?.throwIfAborted();
      }
    } catch (error) {
      if (signal?.aborted) throw new ReadAbortedError(pod, { cause: signal.reason });
      throw error;
    }
  }

  /** The archived records that `filter` keeps, in log order, or only the last `tail` of them. */
  private archiveBatches(
    read: ReadScope,
    filter: ArchiveFilter,
    tail: number | undefined,
  ): AsyncGenerator<LogRecord[]> {
    return tail === undefined ? this.batches(read, filter) : this.tailBatches(read, filter, tail);
  }

  /**
   * The last `n` records: first those after the merged files, kept in a ring; if they are
   * fewer than `n`, the rest from the merged files that can hold them (tail.ts). Positions in
   * the log are stable (the sequence only grows at its end), so the two parts meet exactly
   * even if a pass commits between them.
   */
  private async *tailBatches(read: ReadScope, filter: ArchiveFilter, n: number): AsyncGenerator<LogRecord[]> {
    if (n === 0) {
      // No record to fetch, but a typo still reads as one (as kubectl's --tail=0 does).
      if (read.mustExist && (await holdsNothingOf(read.store, read.pod)))
        throw new PodNotFoundError(read.pod, read.store.bucket);
      return;
    }
    const metadata = await loadReadableMetadata(read.store, read.pod);
    const merged = recordsIn(metadata.logFiles);
    const after = new Ring<LogRecord>(n);
    for await (const batch of this.batches(read, filter, { from: merged, metadata })) after.push(batch);
    if (after.size < n) {
      const need = n - after.size;
      const before = new Ring<LogRecord>(need);
      for await (const batch of this.batches(read, filter, {
        from: tailStart(metadata.logFiles, need, filter),
        to: merged,
        metadata,
      }))
        before.push(batch);
      if (before.size > 0) yield before.toArray();
    }
    if (after.size > 0) yield after.toArray();
  }

  /**
   * The pod's records in log order, a non-empty batch at a time (those of a chunk of a body):
   * the hot path awaits once per batch, not per record. A batch is handed over whole before
   * the next is read, so the cursor (advanced by batch) is where the caller is when a read breaks.
   * `window` limits the read to positions [from, to) of the whole log.
   */
  private async *batches(read: ReadScope, filter: ArchiveFilter, window: ReadWindow = {}): AsyncGenerator<LogRecord[]> {
    const { store, pod, report } = read;
    const cursor: Cursor = { position: window.from ?? 0, last: undefined };
    // Re-plans in a row that passed no record: a long read overlapping many deleting passes
    // re-plans often and is fine as long as each plan takes it further.
    let stalled = 0;
    let metadata = window.metadata;
    let afterMissing = false;
    // The log the first plan reads: a re-plan that finds another one (deleted by retention and
    // started again) fails the read rather than go on in the new log (expiry.ts).
    let logId: string | undefined;
    for (;;) {
      const plan = await openPlan(store, pod, metadata, window.to, afterMissing, logId);
      logId ??= plan.logId;
      metadata = undefined;
      const from = cursor.position;
      try {
        report.recorded(plan.unreadable);
        yield* this.readPlan(read, plan, filter, cursor, window.to);
        // A typo or another bucket reads as an error, not as an empty log (kubectl: pod not found).
        if (read.mustExist && cursor.position === 0 && plan.nothingOfPod())
          throw new PodNotFoundError(pod, store.bucket);
        return;
      } catch (error) {
        // The listing failing ends the read, as it did when the listing came before the first file.
        if (plan.raw.failed(error) || store.signal?.aborted) throw error;
        const missing = error instanceof ObjectMissingError;
        if (!missing && !isBrokenBody(error)) throw error;
        afterMissing = missing;
        stalled = cursor.position > from ? 0 : stalled + 1;
        if (stalled > this.maxReplans) throw missing ? new ObjectVanishedError(pod, error.key) : error;
      } finally {
        plan.raw.close();
      }
    }
  }

  /** One plan's records from where `cursor` is, up to `to`. */
  private async *readPlan(
    read: ReadScope,
    plan: OpenPlan,
    filter: ArchiveFilter,
    cursor: Cursor,
    to: number | undefined,
  ): AsyncGenerator<LogRecord[]> {
    // Nothing is returned before the listing has found the pod in one namespace only.
    await plan.raw.ready();
    const walk = new PlanWalk(cursor, filter, to);
    yield* this.mergedBatches(read, plan.merged, walk, filesToFetch(plan.merged, cursor, filter, to));
    if (walk.atEnd) return;
    yield* this.rawBatches(read, plan, walk);
    // The last record returned is nowhere after its place: ending quietly would drop the rest.
    if (walk.lost) throw new LogChangedError(read.pod);
  }

  /** The records `walk` takes from the merged files; only those in `fetch` are fetched, the others go by unread. */
  private async *mergedBatches(
    { store, pod, report, views }: ReadScope,
    merged: readonly LogFileEntry[],
    walk: PlanWalk,
    fetch: Set<LogFileEntry>,
  ): AsyncGenerator<LogRecord[]> {
    const bodies = openInOrder(
      store,
      [...fetch].map((e) => e.key),
      this.readAhead,
    );
    try {
      for (const entry of merged) {
        if (!fetch.has(entry)) {
          walk.skip(entry.recordsCount);
          continue;
        }
        const opened = await bodies.next();
        if (opened.done) break;
        let passed = 0;
        try {
          for await (const batch of mergedRecordBatches(entry.key, opened.value, undefined, pod, views)) {
            passed += batch.length;
            const taken = batch.filter((record) => walk.take(record));
            if (taken.length > 0) yield taken;
            if (walk.ended) break;
          }
        } catch (error) {
          if (!(error instanceof UnreadableObjectError)) throw error;
          report.met(error);
          // Its records after the damage go by unread: the positions after it stay the log's.
          walk.skip(Math.max(0, entry.recordsCount - passed));
        }
        if (walk.ended) return;
      }
    } finally {
      await bodies.return(undefined);
    }
  }

  /** The records `walk` takes from the raw files, as the listing finds them. */
  private async *rawBatches({ store, report }: ReadScope, plan: OpenPlan, walk: PlanWalk): AsyncGenerator<LogRecord[]> {
    for await (const event of readRawFiles(store, plan.raw, {
      readAhead: this.readAhead,
      unfinished: plan.unfinished,
    })) {
      if (event.kind === 'unreadable') report.met(event.error);
      if (event.kind !== 'records') continue;
      const taken = event.records.filter((record) => walk.take(record));
      if (taken.length > 0) yield taken;
      if (walk.ended) break;
    }
  }
}

/** What every step of one read shares: the store (with the read's signal), the pod, where unreadable objects go. */
interface ReadScope {
  readonly store: Bucket;
  readonly pod: string;
  readonly report: UnreadableReport;
  /** A pod the bucket holds nothing of fails the read ({@link PodNotFoundError}); not one followed in the cluster. */
  readonly mustExist: boolean;
  /** Merged records may come as MergedRecordView (createReadStream without `follow`). */
  readonly views: boolean;
}

/** Positions [from, to) of the whole log; `metadata` is used for the first plan instead of reading it again. */
interface ReadWindow {
  readonly from?: number;
  readonly to?: number;
  readonly metadata?: PodMetadata;
}

/** A line that log output is unlikely to contain by chance: a client can find the hand-off by it. */
function defaultSeparator(): string {
  return `=== Live logs === ${randomBytes(6).toString('hex')}`;
}
