/**
 * The metadata document of a pod (`metadata/{pod}.json`), the only commit point.
 *
 * Field names and meanings are the platform-monitoring Python service's (`log_files`,
 * `last_compaction_time`, `last_merged_key`), so a bucket can move between the two. The
 * compactor adds two lists of its own, which the Python service ignores:
 *   - `merged_raw_files`: raw keys merged by a commit and not deleted yet, with the time of
 *     that commit. Present means "merged" is decided by this exact set; a document without
 *     it (written by the Python service) means every raw key up to `last_merged_key`.
 *   - `retired_files`: merged files a commit stopped listing, not deleted yet.
 *   - `commit_id`: a random id, new with every commit of the compactor, so that every write
 *     changes the document's ETag (see the compactor's commit.ts: a fence before deleting).
 *   - `unfinished_lines` (only while there are some): lines whose last piece has not arrived.
 *     Every record before and around such a line is merged; the line's own pieces stay in
 *     the merged raw files it names (`files`), which are kept (not due) until it is finished,
 *     and reads and the next merge take the pieces from there.
 *   - `log_id`: a random id the compactor gives a pod's log at its first commit, then keeps; a
 *     log started again after an expiry gets another, which a re-planning read notices (read/expiry.ts).
 *   - `unreadable_objects` (only while there are some): objects that arrived whole but cannot
 *     be decoded (unreadable.ts). A raw file listed there counts as merged.
 * Unknown top-level fields are kept as they are when the document is rewritten.
 */
import { MetadataError } from '../errors.js';
import { compareRawKeysAsPython, parseMergedKey, parseMetadataKey, parseRawKey, type RawKey } from './keys.js';
import type { Stream } from './records.js';
import { parseTime, toEpochNs, type EpochNs } from './time.js';
import { decodeUnreadable, encodeUnreadable, UNREADABLE_FIELD, type UnreadableEntry } from './unreadable.js';

/** One merged file, in log order. */
export interface LogFileEntry {
  readonly key: string;
  /** Lines (records) in the file. */
  readonly recordsCount: number;
  /** Bytes of NDJSON before compression. */
  readonly size: number;
  /** Earliest record time, rounded down to the microsecond (ISO 8601); see `exactRange`. */
  readonly firstRecordTime: string;
  /** Latest record time, rounded up to the microsecond (ISO 8601); see `exactRange`. */
  readonly lastRecordTime: string;
  /**
   * True (`"exact_range": true`) when the two times are the earliest and latest of the file's
   * records, as this compactor writes them, so a read may skip the file by its range. The
   * Python service wrote the first and the last record it wrote instead, and records are not
   * in time order (a backlog upload): its entries (no such field) are never skipped by time.
   */
  readonly exactRange?: boolean;
}

/** An object that a commit made unneeded, and when: it is deleted once the cleanup interval has passed. */
export interface PendingDeletion {
  readonly key: string;
  /** ISO 8601 time of the commit that made the object unneeded. */
  readonly since: string;
}

/** A line whose last piece has not arrived yet; its pieces are in merged raw files. */
export interface UnfinishedLine {
  readonly stream: Stream;
  /** The raw file (an entry of `merged_raw_files`) that holds the line's first piece. */
  readonly key: string;
  /** The line number of that piece in the file, from 1. */
  readonly line: number;
  /**
   * Every raw file that holds pieces of the line, in raw-file order, the start first: in each,
   * every line of `stream` from `line` on is one of its pieces.
   */
  readonly files: readonly PieceFile[];
}

/** A raw file holding pieces of an unfinished line, from line `line` (counted from 1) on. */
export interface PieceFile {
  readonly key: string;
  readonly line: number;
}

export interface PodMetadata {
  readonly logFiles: readonly LogFileEntry[];
  readonly lastCompactionTime: string | null;
  readonly lastMergedKey: string | null;
  /** `undefined` for a document written by the Python service (see the module comment). */
  readonly mergedRawFiles: readonly PendingDeletion[] | undefined;
  readonly retiredFiles: readonly PendingDeletion[];
  /** At most one per stream; their pieces are in {@link unfinishedRange}. */
  readonly unfinishedLines: readonly UnfinishedLine[];
  /** New with every commit of the compactor; `null` in a document of the Python service. */
  readonly commitId: string | null;
  /** Objects that arrived whole but cannot be decoded (`unreadable_objects`, unreadable.ts). */
  readonly unreadableObjects: readonly UnreadableEntry[];
  /** Fields this version does not know, kept verbatim. */
  readonly extra: Readonly<Record<string, unknown>>;
  /**
   * `expired_at` (ISO 8601), set by the compactor when the pod's log expired (retention): reads fail
   * from then on; everything of the pod is deleted a cleanup interval later (reads in flight finish).
   */
  readonly expiredAt?: string;
  /** `log_id`: which log this is (see the top); absent in a document no compactor commit wrote. */
  readonly logId?: string;
}

export const EMPTY_METADATA: PodMetadata = {
  logFiles: [],
  lastCompactionTime: null,
  lastMergedKey: null,
  mergedRawFiles: undefined,
  retiredFiles: [],
  unfinishedLines: [],
  commitId: null,
  unreadableObjects: [],
  extra: {},
};

const KNOWN_FIELDS = new Set([
  'log_files',
  'last_compaction_time',
  'last_merged_key',
  'merged_raw_files',
  'retired_files',
  'unfinished_lines',
  'commit_id',
  'expired_at',
  'log_id',
  UNREADABLE_FIELD,
]);

/** Decodes a metadata document; throws {@link MetadataError} naming `key` when it is not one. */
export function decodeMetadata(key: string, text: string): PodMetadata {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new MetadataError(key, `not JSON (${(error as Error).message})`, { cause: error });
  }
  const fields = expectObject(key, doc, 'the document');
  const logFiles = expectArray(key, fields['log_files'] ?? [], 'log_files').map((item, i) =>
    decodeLogFile(key, item, i),
  );
  const extra: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(fields)) if (!KNOWN_FIELDS.has(name)) extra[name] = value;
  const mergedRawFiles =
    fields['merged_raw_files'] === undefined
      ? undefined
      : decodePending(key, fields['merged_raw_files'], 'merged_raw_files', 'committed_at', isOwnRawKey(key));
  const expiredAt = optionalTime(key, fields['expired_at'], 'expired_at');
  const logId = optionalString(key, fields['log_id'], 'log_id');
  return {
    ...(expiredAt === null ? {} : { expiredAt }),
    ...(logId === null ? {} : { logId }),
    logFiles,
    lastCompactionTime: optionalTime(key, fields['last_compaction_time'], 'last_compaction_time'),
    lastMergedKey: optionalString(key, fields['last_merged_key'], 'last_merged_key'),
    mergedRawFiles,
    retiredFiles: decodePending(key, fields['retired_files'] ?? [], 'retired_files', 'retired_at', isOwnMergedKey(key)),
    unfinishedLines: decodeUnfinished(key, fields['unfinished_lines'] ?? [], mergedRawFiles ?? []),
    commitId: optionalString(key, fields['commit_id'], 'commit_id'),
    unreadableObjects: decodeUnreadable(key, fields[UNREADABLE_FIELD]),
    extra,
  };
}

function decodeUnfinished(key: string, value: unknown, merged: readonly PendingDeletion[]): UnfinishedLine[] {
  const keys = new Set(merged.map((p) => p.key));
  const streams = new Set<Stream>();
  return expectArray(key, value, 'unfinished_lines').map((item, i) => {
    const where = `unfinished_lines[${i}]`;
    const u = expectObject(key, item, where);
    const stream = u['stream'];
    if ((stream !== 'stdout' && stream !== 'stderr') || streams.has(stream))
      throw new MetadataError(key, `${where}.stream is not stdout or stderr (once each)`);
    streams.add(stream);
    const file = expectString(key, u['key'], `${where}.key`);
    // Its pieces must be where the reader will look for them: in a merged raw file.
    if (!keys.has(file))
      throw new MetadataError(key, `${where}.key ${JSON.stringify(file)} is not in merged_raw_files`);
    const line = expectCount(key, u['line'], `${where}.line`);
    if (line < 1) throw new MetadataError(key, `${where}.line is not a line number`);
    const files = expectArray(key, u['files'], `${where}.files`).map((item, j): PieceFile => {
      const f = expectObject(key, item, `${where}.files[${j}]`);
      const piece = {
        key: expectString(key, f['key'], `${where}.files[${j}].key`),
        line: expectCount(key, f['line'], `${where}.files[${j}].line`),
      };
      if (!keys.has(piece.key))
        throw new MetadataError(
          key,
          `${where}.files[${j}].key ${JSON.stringify(piece.key)} is not in merged_raw_files`,
        );
      if (piece.line < 1) throw new MetadataError(key, `${where}.files[${j}].line is not a line number`);
      return piece;
    });
    if (files[0]?.key !== file || files[0].line !== line)
      throw new MetadataError(key, `${where}.files does not start with ${where}.key at ${where}.line`);
    return { stream, key: file, line, files };
  });
}

/** The entries of `merged_raw_files` that hold pieces of unfinished lines (kept until those lines end). */
export function unfinishedRange(meta: PodMetadata): readonly PendingDeletion[] {
  const holding = new Set(meta.unfinishedLines.flatMap((u) => u.files.map((f) => f.key)));
  return (meta.mergedRawFiles ?? []).filter((p) => holding.has(p.key));
}

export function encodeMetadata(meta: PodMetadata): string {
  const doc: Record<string, unknown> = {
    ...meta.extra,
    log_files: meta.logFiles.map((f) => ({
      key: f.key,
      records_count: f.recordsCount,
      size: f.size,
      first_record_time: f.firstRecordTime,
      last_record_time: f.lastRecordTime,
      ...(f.exactRange === true ? { exact_range: true } : {}),
    })),
    last_compaction_time: meta.lastCompactionTime,
    last_merged_key: meta.lastMergedKey,
  };
  if (meta.mergedRawFiles !== undefined) {
    doc['merged_raw_files'] = meta.mergedRawFiles.map((p) => ({ key: p.key, committed_at: p.since }));
  }
  doc['retired_files'] = meta.retiredFiles.map((p) => ({ key: p.key, retired_at: p.since }));
  if (meta.commitId !== null) doc['commit_id'] = meta.commitId;
  if (meta.expiredAt !== undefined) doc['expired_at'] = meta.expiredAt;
  if (meta.logId !== undefined) doc['log_id'] = meta.logId;
  if (meta.unfinishedLines.length > 0) {
    doc['unfinished_lines'] = meta.unfinishedLines.map((u) => ({
      stream: u.stream,
      key: u.key,
      line: u.line,
      files: u.files.map((f) => ({ key: f.key, line: f.line })),
    }));
  }
  const unreadable = encodeUnreadable(meta.unreadableObjects);
  if (unreadable !== undefined) doc[UNREADABLE_FIELD] = unreadable;
  return JSON.stringify(doc);
}

/**
 * Which raw files a commit has merged. With the compactor's exact list, membership; for a
 * document of the Python service, its raw order up to `last_merged_key` — except a raw file
 * that may have been uploaded (`lastModified`, as listed) after its `last_compaction_time`:
 * uploaded after that commit, it cannot have been merged by it (a late upload keyed before
 * `last_merged_key`), unless it is the very file `last_merged_key` names.
 * Without `lastModified`, key order alone decides. A raw file listed as unreadable counts as
 * merged: what could be read of it is merged, the rest never will be.
 */
export function mergedRawPredicate(meta: PodMetadata): (raw: RawKey & { readonly lastModified?: Date }) => boolean {
  const unreadable = new Set(meta.unreadableObjects.map((u) => u.key));
  if (meta.mergedRawFiles !== undefined) {
    const merged = new Set(meta.mergedRawFiles.map((p) => p.key));
    return (raw) => merged.has(raw.key) || unreadable.has(raw.key);
  }
  const last = meta.lastMergedKey === null ? undefined : parseRawKey(meta.lastMergedKey);
  if (last === undefined) return () => false;
  const committed = meta.lastCompactionTime === null ? undefined : parseTime(meta.lastCompactionTime);
  return (raw) => {
    if (compareRawKeysAsPython(raw, last) > 0) return false; // its own order, whatever the indexes
    // The file last_merged_key names was merged by that commit, whenever it was listed as uploaded.
    if (raw.key === last.key || committed === undefined || raw.lastModified === undefined) return true;
    return latestUpload(raw.lastModified) <= committed;
  };
}

/**
 * The latest instant an object listed with `lastModified` may have been uploaded. S3 lists
 * LastModified in whole seconds, truncated: the upload may have been at any time in that
 * second, so a whole-second time is taken as its second's end (taking a late file for
 * merged would lose its records; the other way round it could only read some twice).
 */
function latestUpload(lastModified: Date): EpochNs {
  const ns = toEpochNs(lastModified);
  return lastModified.getTime() % 1000 === 0 ? ns + 999_999_999n : ns;
}

/** Records in the merged files: the position in a pod's log where its raw files begin. */
export function recordsIn(files: readonly LogFileEntry[]): number {
  return files.reduce((sum, f) => sum + f.recordsCount, 0);
}

/** The start of a file's time range as an instant; undefined when the range does not bound its records. */
export function firstRecordNs(entry: LogFileEntry): EpochNs | undefined {
  return entry.exactRange === true ? parseTime(entry.firstRecordTime) : undefined;
}

/**
 * The end of a file's time range as an instant, for skipping files before `since`; undefined when the range does not
 * bound its records.
 */
export function lastRecordNs(entry: LogFileEntry): EpochNs | undefined {
  return entry.exactRange === true ? parseTime(entry.lastRecordTime) : undefined;
}

// A microsecond of margin on the range's end: its times are rounded to the microsecond (the
// Python service truncated `last_record_time` rather than rounding it up).
export const RANGE_MARGIN_NS = 1_000n;

/**
 * True when every record of the file is before `since`, so a read from `since` need not
 * fetch it. Judged with a margin of one microsecond; a time that cannot be read never skips.
 */
export function endsBefore(entry: LogFileEntry, since: EpochNs): boolean {
  const last = lastRecordNs(entry);
  return last !== undefined && last + RANGE_MARGIN_NS < since;
}

function decodeLogFile(key: string, item: unknown, i: number): LogFileEntry {
  const where = `log_files[${i}]`;
  const f = expectObject(key, item, where);
  const entry = {
    key: expectString(key, f['key'], `${where}.key`),
    recordsCount: expectCount(key, f['records_count'], `${where}.records_count`),
    size: expectCount(key, f['size'], `${where}.size`),
    firstRecordTime: expectTime(key, f['first_record_time'], `${where}.first_record_time`),
    lastRecordTime: expectTime(key, f['last_record_time'], `${where}.last_record_time`),
  };
  return f['exact_range'] === true ? { ...entry, exactRange: true } : entry;
}

/**
 * The compactor deletes what these lists name once it is due, so an entry must be an object
 * the pod owns: a raw file of its own container (`merged_raw_files`) or a merged file under
 * its `data/{pod}/` (`retired_files`). A document naming anything else (another pod's
 * objects, its metadata, a key outside the layout) is invalid rather than obeyed.
 */
function decodePending(
  key: string,
  value: unknown,
  field: string,
  timeField: string,
  owned: { readonly test: (entry: string) => boolean; readonly what: string },
): PendingDeletion[] {
  return expectArray(key, value, field).map((item, i) => {
    const p = expectObject(key, item, `${field}[${i}]`);
    const entry = expectString(key, p['key'], `${field}[${i}].key`);
    if (!owned.test(entry))
      throw new MetadataError(key, `${field}[${i}].key ${JSON.stringify(entry)} is not ${owned.what}`);
    return { key: entry, since: expectTime(key, p[timeField], `${field}[${i}].${timeField}`) };
  });
}

/** Raw keys of the job container of the pod that `metadataKey` belongs to (any pod's, for another key). */
function isOwnRawKey(metadataKey: string): { test: (entry: string) => boolean; what: string } {
  const pod = parseMetadataKey(metadataKey);
  return {
    test: (entry) => {
      const raw = parseRawKey(entry);
      return raw !== undefined && raw.container === raw.pod && (pod === undefined || raw.pod === pod);
    },
    what: pod === undefined ? 'a raw key of a job container' : `a raw key of pod ${pod}'s own container`,
  };
}

/** Merged keys of this layout under `data/{pod}/` of the pod that `metadataKey` belongs to. */
function isOwnMergedKey(metadataKey: string): { test: (entry: string) => boolean; what: string } {
  const pod = parseMetadataKey(metadataKey);
  return {
    test: (entry) => {
      const merged = parseMergedKey(entry);
      return merged !== undefined && (pod === undefined || merged.pod === pod);
    },
    what: pod === undefined ? 'a merged key' : `a merged key of pod ${pod}`,
  };
}

function expectObject(key: string, value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new MetadataError(key, `${where} is not an object`);
  return value as Record<string, unknown>;
}

function expectArray(key: string, value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) throw new MetadataError(key, `${where} is not a list`);
  return value;
}

function expectString(key: string, value: unknown, where: string): string {
  if (typeof value !== 'string' || value.length === 0)
    throw new MetadataError(key, `${where} is not a non-empty string`);
  return value;
}

function expectCount(key: string, value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    throw new MetadataError(key, `${where} is not a count`);
  return value;
}

function expectTime(key: string, value: unknown, where: string): string {
  const text = expectString(key, value, where);
  if (parseTime(text) === undefined)
    throw new MetadataError(key, `${where} is not an ISO 8601 time: ${JSON.stringify(text)}`);
  return text;
}

// The Python service writes null for "never"; an empty string means the same to it.
function optionalString(key: string, value: unknown, where: string): string | null {
  return value === undefined || value === null || value === '' ? null : expectString(key, value, where);
}

function optionalTime(key: string, value: unknown, where: string): string | null {
  return value === undefined || value === null || value === '' ? null : expectTime(key, value, where);
}
