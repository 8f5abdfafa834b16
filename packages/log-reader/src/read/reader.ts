/**
 * LogReader: one pod's whole log, merged and not-yet-merged files read as one file.
 *
 * How a read works:
 *   1. Read the pod's metadata (the commit point), then list its raw files: in that order,
 *      so every raw file the metadata does not cover is still there to list. The listing goes
 *      on while the read does: merged files need only the metadata, and raw files are read in
 *      order as soon as the listing has passed them (raw-listing.ts).
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
 *   4. `tail: n` reads the records after the merged files into a ring of n, then only the
 *      last merged files that can hold the rest, by position (tail.ts). `follow` reads the
 *      archive up to where the live log takes over, then the live log (live/follow.ts).
 * Nothing is cached between reads; memory is bounded by one line and the stream buffers
 * (and by n records for `tail`).
 */
import { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import type { KubeConfig } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { keeps, dropsWholeFile, type ArchiveFilter } from './archive-filter.js';
import { CorruptObjectError, LogChangedError, MetadataError, ObjectMissingError, ObjectVanishedError, ReadAbortedError } from '../errors.js';
import { assertPodName, parseMergedKey, parseRawKey } from '../layout/keys.js';
import { mergedRawPredicate, recordsIn, unfinishedRange, type LogFileEntry, type PodMetadata } from '../layout/metadata.js';
import { DEFAULT_READ_AHEAD, readRawFiles, type UnfinishedPieces } from '../s3/raw-records.js';
import { objectLineBatches, type ByteCounter } from '../s3/object-lines.js';
import { decodeMergedLineFast } from '../layout/merged-line.js';
import type { LogRecord } from '../layout/records.js';
import { listRawFilesInOrder } from '../s3/raw-listing.js';
import { isBrokenBody, listRawFiles, loadMetadata, openInOrder, type Bucket, type RawFile } from '../s3/store.js';
import { isHandOff } from '../live/hand-off.js';
import { Ring, tailStart } from './tail.js';
import { toEpochNs } from '../layout/time.js';

/** Where the live log is: the cluster (a `KubeConfig`: in-cluster or from a kubeconfig file) and the pod's namespace. */
export interface FollowOptions {
  readonly kube: KubeConfig;
  readonly namespace: string;
  /** How long to wait for a pending pod or a restarting container. Milliseconds; default 5 minutes. */
  readonly waitTimeout?: number;
  /** How often the pod is asked about while waiting. Milliseconds; default 1 s. */
  readonly pollInterval?: number;
}

/** A record of a followed read: from the archive (S3) or from the live log (the Kubernetes API). */
export interface FollowedRecord extends LogRecord {
  readonly source: 'archive' | 'live';
}

export interface LogReaderOptions {
  /** An S3 client; give it `forcePathStyle: true` for a custom endpoint. */
  readonly client: S3Client;
  readonly bucket: string;
  /**
   * How many times in a row a read may re-plan (after an object vanished under it, or a body
   * broke) without passing a record in between before it fails. Default 5. A re-plan that
   * takes the read further starts the count again, so a read may outlast any number of passes.
   */
  readonly maxReplans?: number;
  /** GETs started ahead of the file being read (each holds a paused response). Default 4. */
  readonly readAhead?: number;
}

export interface ReadOptions {
  /** Only records at or after this time (nanosecond precision for strings). */
  readonly since?: Date | string;
  /**
   * Only the last `tail` records (of those at or after `since`). The metadata's
   * `records_count` says which merged files hold them: only those are fetched.
   */
  readonly tail?: number;
  /** Aborts the read: open S3 and Kubernetes requests are closed, the read ends with an `AbortError`. */
  readonly signal?: AbortSignal;
  /**
   * Continue into the pod's live log through the Kubernetes API once the archive is read, and
   * follow it (through container restarts) until the pod is terminated for good or deleted.
   */
  readonly follow?: FollowOptions;
}

export interface ReadStreamOptions extends ReadOptions {
  /** Prefix each line with its verbatim time string and a space. Default false. */
  readonly timestamps?: boolean;
  /**
   * With `follow`: the line written between the archive part and the live part when both
   * are non-empty. Default `=== Live logs === ` plus a random suffix; `false` for none.
   */
  readonly separator?: string | false;
}

/** The files of one read, in log order. */
export interface ReadPlan {
  readonly merged: readonly LogFileEntry[];
  readonly raw: readonly RawFile[];
  /** Lines the last commit left unfinished, read from the merged raw files that hold their pieces. */
  readonly unfinished: UnfinishedPieces;
}

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
    const { metadata } = await loadMetadata(this.store, pod);
    const raw = await listRawFiles(this.store, pod);
    const isMerged = mergedRawPredicate(metadata);
    const listed = new Map(raw.map((f) => [f.key, f]));
    // A piece file gone from the listing (deleted after the line was finished by a commit
    // this read did not see) is still planned: its GET fails and the read re-plans.
    const pieces = unfinishedRange(metadata).map((p) => listed.get(p.key) ?? unlistedRawFile(p.key));
    return { merged: metadata.logFiles, raw: raw.filter((file) => !isMerged(file)), unfinished: { lines: metadata.unfinishedLines, files: pieces } };
  }

  /** The pod's records in log order; with `follow`, then its live log, each record saying where it came from. */
  records(pod: string, options: ReadOptions & { readonly follow: FollowOptions }): AsyncGenerator<FollowedRecord>;
  records(pod: string, options?: ReadOptions): AsyncGenerator<LogRecord>;
  async *records(pod: string, options: ReadOptions = {}): AsyncGenerator<LogRecord> {
    for await (const batch of this.readBatches(pod, options)) for (const record of batch) yield record;
  }

  /** The pod's log as text: a line per record, optionally `"{time} {message}"`. */
  createReadStream(pod: string, options: ReadStreamOptions = {}): Readable {
    const batches = this.readBatches(pod, options);
    const timestamps = options.timestamps ?? false;
    const separator = options.separator;
    // A chunk per batch of records, not a write per line.
    async function* chunks(): AsyncGenerator<string> {
      let before = false;
      let handedOff = false;
      let separated = false;
      for await (const batch of batches) {
        if (isHandOff(batch)) {
          handedOff = true;
          continue;
        }
        if (batch.length === 0) continue;
        let text = '';
        if (!handedOff) before = true;
        else if (!separated) {
          separated = true;
          // Where the live log takes over, when lines come on both sides.
          if (before && separator !== false) text += `${separator ?? defaultSeparator()}\n`;
        }
        if (timestamps) for (const r of batch) text += `${r.time} ${r.message}\n`;
        else for (const r of batch) text += `${r.message}\n`;
        yield text;
      }
    }
    return Readable.from(chunks(), { objectMode: false });
  }

  /** A read's batches: the archive, or with `follow` the archive and then the live log. Ends with an AbortError once `signal` aborts. */
  private async *readBatches(pod: string, options: ReadOptions): AsyncGenerator<LogRecord[]> {
    assertPodName(pod);
    const signal = options.signal;
    signal?.throwIfAborted();
    const since = options.since === undefined ? undefined : toEpochNs(options.since);
    const tail = options.tail;
    if (tail !== undefined && (!Number.isSafeInteger(tail) || tail < 0)) throw new RangeError(`tail must be a whole number, at least 0 (got ${tail})`);
    const store: Bucket = { ...this.store, signal };
    try {
      if (options.follow !== undefined) {
        const { followBatches } = await import('../live/follow.js');
        yield* followBatches({ archive: (filter, n) => this.archiveBatches(store, pod, filter, n), pod, since, tail, follow: options.follow, signal });
      } else {
        yield* this.archiveBatches(store, pod, { since }, tail);
      }
    } catch (error) {
      if (signal?.aborted) throw new ReadAbortedError(pod, { cause: signal.reason });
      throw error;
    }
  }

  /** The archived records that `filter` keeps, in log order, or only the last `tail` of them. */
  private archiveBatches(store: Bucket, pod: string, filter: ArchiveFilter, tail: number | undefined): AsyncGenerator<LogRecord[]> {
    return tail === undefined ? this.batches(store, pod, filter) : this.tailBatches(store, pod, filter, tail);
  }

  /**
   * The last `n` records: first those after the merged files, kept in a ring; if they are
   * fewer than `n`, the rest from the merged files that can hold them (tail.ts). Positions in
   * the log are stable (the sequence only grows at its end), so the two parts meet exactly
   * even if a pass commits between them.
   */
  private async *tailBatches(store: Bucket, pod: string, filter: ArchiveFilter, n: number): AsyncGenerator<LogRecord[]> {
    if (n === 0) return;
    const { metadata } = await loadMetadata(store, pod);
    const merged = recordsIn(metadata.logFiles);
    const after = new Ring<LogRecord>(n);
    for await (const batch of this.batches(store, pod, filter, { from: merged, metadata })) after.push(batch);
    if (after.size < n) {
      const need = n - after.size;
      const before = new Ring<LogRecord>(need);
      for await (const batch of this.batches(store, pod, filter, { from: tailStart(metadata.logFiles, need, filter), to: merged, metadata })) before.push(batch);
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
  private async *batches(store: Bucket, pod: string, filter: ArchiveFilter, window: ReadWindow = {}): AsyncGenerator<LogRecord[]> {
    const cursor: Cursor = { position: window.from ?? 0, last: undefined };
    // Re-plans in a row that passed no record: a long read overlapping many deleting passes
    // re-plans often and is fine as long as each plan takes it further.
    let stalled = 0;
    let metadata = window.metadata;
    for (;;) {
      const plan = await this.openPlan(store, pod, metadata, window.to);
      metadata = undefined;
      const from = cursor.position;
      try {
        yield* this.readPlan(store, pod, plan, filter, cursor, window.to);
        return;
      } catch (error) {
        // The listing failing ends the read, as it did when the listing came before the first file.
        if (plan.raw.failed(error) || store.signal?.aborted) throw error;
        const missing = error instanceof ObjectMissingError;
        if (!missing && !isBrokenBody(error)) throw error;
        stalled = cursor.position > from ? 0 : stalled + 1;
        if (stalled > this.maxReplans) throw missing ? new ObjectVanishedError(pod, error.key) : error;
      } finally {
        plan.raw.close();
      }
    }
  }

  /** {@link plan}, with the raw files still being listed. */
  private async openPlan(store: Bucket, pod: string, loaded: PodMetadata | undefined, to: number | undefined): Promise<OpenPlan> {
    const metadata = loaded ?? (await loadMetadata(store, pod)).metadata;
    const isMerged = mergedRawPredicate(metadata);
    // A read that ends within the merged files needs no listing.
    const listing = to !== undefined && to <= recordsIn(metadata.logFiles) ? noFiles() : listRawFilesInOrder(store, pod);
    const raw = new ReadAhead(unmerged(listing, (file) => !isMerged(file)));
    // A piece file is planned whether it is listed or not (see plan()): its key is all a read needs.
    const pieces = unfinishedRange(metadata).map((p) => unlistedRawFile(p.key));
    return { merged: metadata.logFiles, raw, unfinished: { lines: metadata.unfinishedLines, files: pieces } };
  }

  private async *readPlan(store: Bucket, pod: string, plan: OpenPlan, filter: ArchiveFilter, cursor: Cursor, to: number | undefined): AsyncGenerator<LogRecord[]> {
    // Nothing is returned before the listing has found the pod in one namespace only.
    await plan.raw.ready();
    let index = 0;
    // After a re-plan: the record passed last, until it is found again further on.
    let seeking: LogRecord | undefined;
    // The window's end is reached: nothing further is taken or fetched.
    let ended = false;
    const take = (record: LogRecord): boolean => {
      const at = index++;
      if (to !== undefined && at >= to) {
        ended = true;
        return false;
      }
      if (seeking !== undefined) {
        if (sameRecord(record, seeking)) seeking = undefined;
        return false;
      }
      if (at < cursor.position - 1) return false;
      if (at === cursor.position - 1) {
        if (cursor.last !== undefined && !sameRecord(record, cursor.last)) seeking = cursor.last;
        return false;
      }
      cursor.position = index;
      cursor.last = record;
      return keeps(filter, record);
    };
    // A merged file is fetched unless it was passed already (after a re-plan the one holding
    // the last record passed is read again to check it), lies beyond the window, or the
    // filter drops all of it (before `since`, or all in a live log).
    const fetch = new Set<LogFileEntry>();
    let end = 0;
    for (const entry of plan.merged) {
      const start = end;
      end += entry.recordsCount;
      const passed = cursor.last === undefined ? end <= cursor.position : end < cursor.position;
      if (!passed && !(to !== undefined && start >= to) && !dropsWholeFile(filter, entry)) fetch.add(entry);
    }
    const bodies = openInOrder(store, [...fetch].map((e) => e.key), this.readAhead);
    try {
      for (const entry of plan.merged) {
        if (!fetch.has(entry)) {
          index += entry.recordsCount;
          if (index > cursor.position) {
            // Passed unread (before `since`): no record to check the place by.
            cursor.position = index;
            cursor.last = undefined;
          }
          continue;
        }
        const opened = await bodies.next();
        if (opened.done) break;
        for await (const batch of mergedRecordBatches(entry.key, opened.value.body, undefined, pod)) {
          const taken = batch.filter(take);
          if (taken.length > 0) yield taken;
          if (ended) break;
        }
        if (ended) return;
      }
    } finally {
      await bodies.return(undefined);
    }
    if (to !== undefined && index >= to) return;
    // Raw records come one by one: batched up to the end of each file.
    let taken: LogRecord[] = [];
    try {
      for await (const event of readRawFiles(store, plan.raw, { readAhead: this.readAhead, unfinished: plan.unfinished })) {
        if (event.kind === 'record') {
          if (take(event.record)) taken.push(event.record);
          if (ended) break;
          if (taken.length < RAW_BATCH) continue;
        }
        if (taken.length > 0) yield taken;
        taken = [];
      }
    } catch (error) {
      // The cursor is past these already: hand them over before the read re-plans.
      if (taken.length > 0) yield taken;
      throw error;
    }
    if (taken.length > 0) yield taken;
    // The last record returned is nowhere after its place: ending quietly would drop the rest.
    if (seeking !== undefined) throw new LogChangedError(pod);
  }
}

/**
 * The records of one merged file. Throws {@link CorruptObjectError} on a line that is not
 * one, and {@link ObjectMissingError} when the file is gone; both name `pod` (by default the
 * pod of a merged key of this layout) and the key.
 */
export async function* readMergedRecords(
  store: Bucket,
  key: string,
  counter?: ByteCounter,
  pod: string | undefined = parseMergedKey(key)?.pod,
): AsyncGenerator<LogRecord> {
  const bodies = openInOrder(store, [key], 0);
  try {
    const opened = await bodies.next().catch((error: unknown) => {
      if (error instanceof ObjectMissingError && error.pod === undefined) throw new ObjectMissingError(key, { cause: error.cause, pod });
      throw error;
    });
    if (opened.done) return;
    for await (const batch of mergedRecordBatches(key, opened.value.body, counter, pod)) for (const record of batch) yield record;
  } finally {
    await bodies.return(undefined);
  }
}

/** The records of one merged file, a batch per chunk of its body. */
async function* mergedRecordBatches(key: string, body: AsyncIterable<Uint8Array>, counter: ByteCounter | undefined, pod: string | undefined): AsyncGenerator<LogRecord[]> {
  const containerId = parseMergedKey(key)?.containerId ?? '';
  let line = 0;
  for await (const lines of objectLineBatches(key, body, counter, pod)) {
    const records: LogRecord[] = [];
    for (const text of lines) {
      line += 1;
      const record = decodeMergedLineFast(text, containerId);
      if (record === undefined) {
        // The records before the damage first, as a record-by-record read would give them.
        if (records.length > 0) yield records;
        throw new CorruptObjectError(key, `line ${line} is not a merged log record`, { pod });
      }
      records.push(record);
    }
    if (records.length > 0) yield records;
  }
}

/** A read's files: the merged ones from the metadata, the raw ones as the listing goes on. */
interface OpenPlan {
  readonly merged: readonly LogFileEntry[];
  readonly raw: ReadAhead<readonly RawFile[]>;
  readonly unfinished: UnfinishedPieces;
}

/** The batches of `listing` that `keep` leaves; the first, maybe empty, comes as the listing's does. */
async function* unmerged(listing: AsyncIterable<RawFile[]>, keep: (file: RawFile) => boolean): AsyncGenerator<readonly RawFile[]> {
  for await (const batch of listing) yield batch.filter(keep);
}

/**
 * A source drained as fast as it gives items, whatever the caller's pace: the caller takes
 * them in order from a queue. A raw listing has to be read within a cleanup interval of the
 * metadata read before it (from then on a raw file the metadata does not cover may be deleted,
 * and would be neither listed nor met as missing: its records would be skipped), while a slow
 * reader may take hours over the merged files before it. The queue holds at most the whole
 * listing, as a listing read before the first file did. Its own failures are told apart from
 * the caller's.
 */
class ReadAhead<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private ended = false;
  private failure: { error: unknown } | undefined;
  private closed = false;
  private wake: (() => void) | undefined;

  constructor(private readonly source: AsyncGenerator<T>) {
    void this.drain();
  }

  /** Settles once the first item is there (or the source ended); throws the source's failure if it came first. */
  async ready(): Promise<void> {
    while (this.items.length === 0 && !this.ended) await this.changed();
    if (this.items.length === 0 && this.failure !== undefined) throw this.failure.error;
  }

  /** Whether `error` is this source's failure. */
  failed(error: unknown): boolean {
    return this.failure !== undefined && this.failure.error === error;
  }

  /** Stops the source (after the item being produced, if any). */
  close(): void {
    this.closed = true;
    this.source.return(undefined).catch(() => undefined);
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for (;;) {
      while (this.items.length === 0 && !this.ended) await this.changed();
      if (this.items.length > 0) {
        yield this.items.shift() as T;
        continue;
      }
      if (this.failure !== undefined) throw this.failure.error;
      return;
    }
  }

  private async drain(): Promise<void> {
    try {
      while (!this.closed) {
        const item = await this.source.next();
        if (item.done || this.closed) break;
        this.items.push(item.value);
        this.signal();
      }
    } catch (error) {
      this.failure = { error };
    }
    this.ended = true;
    this.signal();
  }

  private changed(): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }

  private signal(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

/** Raw records handed over at once, at most (a raw file's records come one by one). */
const RAW_BATCH = 512;

/** Where a read is: records of the full sequence passed (returned or filtered by `since`), and the last of them. */
interface Cursor {
  position: number;
  last: LogRecord | undefined;
}

function sameRecord(a: LogRecord, b: LogRecord): boolean {
  return a.time === b.time && a.message === b.message && a.stream === b.stream && a.containerId === b.containerId;
}

/** Positions [from, to) of the whole log; `metadata` is used for the first plan instead of reading it again. */
interface ReadWindow {
  readonly from?: number;
  readonly to?: number;
  readonly metadata?: PodMetadata;
}

async function* noFiles(): AsyncGenerator<RawFile[]> {}

/** A line that log output is unlikely to contain by chance: a client can find the hand-off by it. */
function defaultSeparator(): string {
  return `=== Live logs === ${randomBytes(6).toString('hex')}`;
}

function unlistedRawFile(key: string): RawFile {
  const parsed = parseRawKey(key);
  // The metadata's decoder only admits raw keys of the pod's own container here.
  if (parsed === undefined) throw new MetadataError(key, 'unfinished_lines names a key that is not a raw file');
  return { ...parsed, size: 0, lastModified: new Date(0) };
}
