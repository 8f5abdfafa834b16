/**
 * Records → merged files: gzip of NDJSON, at most `maxFileSize` bytes of NDJSON each (a
 * larger record gets a file of its own), one container id per file. Each file is streamed
 * up with lib-storage's multipart `Upload` as it is written: memory stays at one part
 * (5 MiB) per open file, whatever the log size.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { Transform } from 'node:stream';
import { createGzip, type Gzip } from 'node:zlib';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import {
  encodeMergedLine,
  formatIsoMicros,
  parseTime,
  toEpochNs,
  type EpochNs,
  type LogFileEntry,
} from '@platform/log-reader/layout';
import { isNotFound, isPreconditionFailure, type Bucket } from '@platform/log-reader/s3';
import { type LogRecord } from '@platform/log-reader';
import { MergedKeyTakenError } from '../errors.js';

export const MERGED_CONTENT_TYPE = 'application/x-gzip';
/** User metadata (`x-amz-meta-…`) naming the write that created a merged file. */
const WRITER_METADATA = 'compactor-write';
/**
 * Lines are handed to gzip in chunks of about this many bytes: one zlib call (a thread-pool
 * round trip) per ~100-byte line cost more CPU than the compression itself.
 */
const GZIP_CHUNK_BYTES = 64 * 1024;
/**
 * Lines are encoded straight into a buffer of this size (UTF-8 once, where joining strings and
 * handing gzip the text measured each line's bytes, copied them and encoded them again), and
 * handed on from {@link GZIP_CHUNK_BYTES}: the rest is room for the next line.
 */
const PENDING_BUFFER_BYTES = 2 * GZIP_CHUNK_BYTES;
/** UTF-8 bytes of a JavaScript string, at most, per UTF-16 code unit. */
const MAX_UTF8_PER_UNIT = 3;
/** A line whose worst-case UTF-8 size would not fit an empty buffer: its bytes are counted. */
const LONG_LINE = PENDING_BUFFER_BYTES / MAX_UTF8_PER_UNIT;
/**
 * zlib's default level. Measured on realistic job logs (16 MB of merged NDJSON): level 6
 * stores 15.1% of the NDJSON in 0.21 CPU-s; level 3 stores 16.3% (+8%) in 0.11 s, level 1
 * 16.6% (+10%) in 0.10 s. Merged files are what the bucket keeps; the 0.1 CPU-s saved is
 * about 3% of a pass over those bytes, so the smaller files win.
 */
const GZIP_LEVEL = 6;

export interface MergeWriterOptions {
  readonly store: Bucket;
  /** Bytes of NDJSON before compression per file. */
  readonly maxFileSize: number;
  /** The key of the next file for a container id (unique and increasing within the pod). */
  readonly nextKey: (containerId: string) => string;
  /** Read for the time range of a file none of whose record times can be read. */
  readonly clock: () => Date;
  /** Count bytes and records, upload nothing. */
  readonly dryRun: boolean;
}

export interface WrittenFile extends LogFileEntry {
  readonly containerId: string;
  /** Bytes uploaded (gzip); 0 in a dry run. */
  readonly compressedSize: number;
}

interface OpenFile {
  readonly key: string;
  readonly containerId: string;
  readonly gzip: Gzip | undefined;
  readonly uploaded: Promise<void> | undefined;
  /** Settles to the upload's error, so a write waiting for `drain` is not left hanging. */
  readonly failed: Promise<unknown>;
  compressedSize: number;
  size: number;
  /** Lines not handed to gzip yet (UTF-8), and their bytes at its start. */
  pending: Buffer;
  pendingBytes: number;
  records: number;
  first: EpochNs | undefined;
  last: EpochNs | undefined;
  /** Records whose time does not parse: the range leaves them out, so it bounds nothing. */
  untimed: number;
}

const EMPTY = Buffer.alloc(0);

/** What a file just started has counted: nothing. */
function emptyCounts(): Pick<
  OpenFile,
  'compressedSize' | 'size' | 'pending' | 'pendingBytes' | 'records' | 'first' | 'last' | 'untimed'
> {
  return {
    compressedSize: 0,
    size: 0,
    pending: EMPTY,
    pendingBytes: 0,
    records: 0,
    first: undefined,
    last: undefined,
    untimed: 0,
  };
}

export class MergeWriter {
  private open: OpenFile | undefined;
  private readonly written: WrittenFile[] = [];

  constructor(private readonly options: MergeWriterOptions) {}

  async write(record: LogRecord): Promise<void> {
    await this.writeAll([record]);
  }

  /** Writes `records` in order; it waits only to finish a file or while gzip has too much to do. */
  async writeAll(records: readonly LogRecord[]): Promise<void> {
    for (const record of records) {
      const line = `${encodeMergedLine(record)}\n`;
      let file = this.open;
      if (file && (file.containerId !== record.containerId || this.full(file, line))) {
        await this.finish(file);
        file = undefined;
      }
      file ??= this.start(record.containerId);
      file.records += 1;
      const ns = parseTime(record.time);
      if (ns !== undefined) {
        if (file.first === undefined || ns < file.first) file.first = ns;
        if (file.last === undefined || ns > file.last) file.last = ns;
      } else {
        file.untimed += 1;
      }
      if (!file.gzip) {
        file.size += Buffer.byteLength(line);
        continue;
      }
      const room = roomFor(line);
      if (file.pending.length - file.pendingBytes < room) await this.flush(file, room);
      const bytes = file.pending.write(line, file.pendingBytes);
      file.size += bytes;
      file.pendingBytes += bytes;
      if (file.pendingBytes >= GZIP_CHUNK_BYTES) await this.flush(file);
    }
  }

  /** Whether `line` would take `file` past the size limit (a file's first line always fits). */
  private full(file: OpenFile, line: string): boolean {
    const limit = this.options.maxFileSize;
    // Its bytes are counted only near the limit: far from it, its length bounds them.
    if (file.size === 0 || file.size + line.length * MAX_UTF8_PER_UNIT <= limit) return false;
    return file.size + Buffer.byteLength(line) > limit;
  }

  /**
   * Hands the pending lines to gzip, waiting while it has too much to do. The file gets a new
   * buffer (gzip reads the old one later), of at least `room` bytes, when the next line needs one.
   */
  private async flush(file: OpenFile, room = 0): Promise<void> {
    if (!file.gzip) return;
    const chunk = file.pending.subarray(0, file.pendingBytes);
    file.pending = room > 0 ? Buffer.allocUnsafe(Math.max(PENDING_BUFFER_BYTES, room)) : EMPTY;
    file.pendingBytes = 0;
    if (chunk.length > 0 && !file.gzip.write(chunk)) {
      await Promise.race([once(file.gzip, 'drain'), file.failed.then((error) => Promise.reject(error))]);
    }
  }

  /** Finishes the open file and returns every file written, in order. */
  async close(): Promise<WrittenFile[]> {
    if (this.open) await this.finish(this.open);
    return [...this.written];
  }

  /** Stops the open upload (aborting its multipart upload); what was finished stays (an orphan until committed). */
  async abort(): Promise<void> {
    const file = this.open;
    this.open = undefined;
    if (file?.gzip) {
      file.gzip.destroy(new Error('merge aborted'));
      await file.uploaded?.catch(() => undefined);
    }
  }

  private start(containerId: string): OpenFile {
    const key = this.options.nextKey(containerId);
    let file: OpenFile;
    if (this.options.dryRun) {
      file = {
        key,
        containerId,
        gzip: undefined,
        uploaded: undefined,
        failed: new Promise(() => {}),
        ...emptyCounts(),
      };
    } else {
      const gzip = createGzip({ level: GZIP_LEVEL });
      // Counts the compressed bytes on their way to the upload; `pipe` keeps the backpressure.
      const counter = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          file.compressedSize += chunk.byteLength;
          done(null, chunk);
        },
      });
      gzip.on('error', (error) => counter.destroy(error));
      const { store } = this.options;
      // A random token in the object's user metadata tells our own write (a retry whose first
      // attempt landed) from another writer's when the store refuses the conditional write.
      const writer = randomUUID();
      const upload = new Upload({
        client: store.client,
        params: {
          Bucket: store.bucket,
          Key: key,
          Body: gzip.pipe(counter),
          ContentType: MERGED_CONTENT_TYPE,
          Metadata: { [WRITER_METADATA]: writer },
          // Never replace an object: a compactor that stalled past its lease could otherwise
          // overwrite a merged file that another one has committed since (same minute, same index).
          // Sent with PutObject, or with CompleteMultipartUpload for a multipart file.
          IfNoneMatch: '*',
        },
      });
      const uploaded = upload.done().then(
        () => undefined,
        async (error: unknown) => {
          if (mayHaveLanded(error) && (await writerOf(store, key)) === writer) return;
          throw isPreconditionFailure(error) ? new MergedKeyTakenError(key) : error;
        },
      );
      const failed = uploaded.then(
        () => new Promise(() => {}),
        (error: unknown) => error,
      );
      file = {
        key,
        containerId,
        gzip,
        uploaded,
        failed,
        ...emptyCounts(),
      };
    }
    this.open = file;
    return file;
  }

  private async finish(file: OpenFile): Promise<void> {
    this.open = undefined;
    if (file.gzip) {
      await this.flush(file);
      file.gzip.end();
      await file.uploaded;
    }
    const fallback = toEpochNs(this.options.clock());
    this.written.push({
      key: file.key,
      containerId: file.containerId,
      recordsCount: file.records,
      size: file.size,
      firstRecordTime: formatIsoMicros(file.first ?? fallback, 'floor'),
      lastRecordTime: formatIsoMicros(file.last ?? fallback, 'ceil'),
      // A record with a time our parser cannot read (a continued Python file may hold one) is
      // kept by every read: a range that leaves it out must never skip the file.
      exactRange: file.untimed === 0 && file.first !== undefined,
      compressedSize: file.compressedSize,
    });
  }
}

/**
 * An error a retry meets when its first attempt landed but its answer was lost: 412 (the object
 * now exists, and If-None-Match refuses it), or, for a completed multipart upload, 404
 * NoSuchUpload (the upload id is gone once completed: AWS and LocalStack answer so). Either way
 * the object's write token tells whether the landed write is ours.
 */
function mayHaveLanded(error: unknown): boolean {
  return isPreconditionFailure(error) || (error as { name?: unknown } | null)?.name === 'NoSuchUpload';
}

/** The write token of the object at `key`, if it has one. */
async function writerOf(store: Bucket, key: string): Promise<string | undefined> {
  try {
    const head = await store.client.send(new HeadObjectCommand({ Bucket: store.bucket, Key: key }));
    return head.Metadata?.[WRITER_METADATA];
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/**
 * The buffer bytes `line` may need: its worst case when that is small, its exact UTF-8 size
 * when long (three times its length would reserve 150 MB for a 50 MB line).
 */
export function roomFor(line: string): number {
  return line.length > LONG_LINE ? Buffer.byteLength(line) : line.length * MAX_UTF8_PER_UNIT;
}
