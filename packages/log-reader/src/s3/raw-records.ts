/**
 * A pod's raw files as one record sequence: lines decoded, `P…F` pieces joined across file
 * boundaries in raw-file order, an event at the end of every file, and, after the last one,
 * the lines still open. The reader reads unmerged raw files through this, and the compactor
 * merges through it, so both cut and join the log the same way.
 *
 * Lines left unfinished by the last commit (metadata `unfinished_lines`) are not merged: their
 * pieces are read again from the merged raw files that hold them, together with the raw
 * files not merged yet, all in raw-file order, so that a late file keyed before or among
 * those pieces takes its place in raw order too (its lines neither glued onto the open line
 * nor ending it out of turn). From those merged files only the pieces are read: every other
 * record of theirs is in merged files already.
 */
import type { PieceFile, UnfinishedLine } from '../layout/metadata.js';
import { compareRawKeys } from '../layout/keys.js';
import { decodeRawLine, LineJoiner, type LogRecord, type Stream } from '../layout/records.js';
import { objectLineBatches, type ByteCounter } from './object-lines.js';
import { openInOrder, type Bucket, type OpenedBody, type RawFile } from './store.js';
import { sliceToTime } from '../layout/time.js';
import { UnreadableObjectError } from '../errors.js';

/** Raw files are small (a minute of logs): a few GETs in flight hide the round trips. */
export const DEFAULT_READ_AHEAD = 4;

export type RawEvent =
  /** Records in order, a batch per chunk of a file (an await per record cost more than its decoding). */
  | { readonly kind: 'records'; readonly records: readonly LogRecord[] }
  | {
      readonly kind: 'file-end';
      /** A raw file not merged yet, read to its end. */
      readonly file: RawFile;
      /** Lines that were not JSON: kept whole as messages. */
      readonly invalidLines: number;
    }
  /**
   * A file that arrived whole but cannot be decoded (docs/design.md §8): none of its records
   * came (it is checked whole first), and the read goes on with the next file.
   */
  | { readonly kind: 'unreadable'; readonly file: RawFile; readonly error: UnreadableObjectError }
  /**
   * After the last file: the lines still open, with the files that hold their pieces. The
   * records that follow are those lines as they are (a read returns them; a merge keeps them
   * back until they can no longer be finished).
   */
  | { readonly kind: 'open-lines'; readonly unfinished: readonly UnfinishedLine[] };

/** Lines a commit left unfinished, and the merged raw files that hold their pieces. */
export interface UnfinishedPieces {
  readonly lines: readonly UnfinishedLine[];
  readonly files: readonly RawFile[];
}

export interface ReadRawOptions {
  readonly counter?: ByteCounter;
  readonly readAhead?: number;
  /** Lines to pick up where the last commit left them. */
  readonly unfinished?: UnfinishedPieces;
}

/** A line being joined: the files its pieces are in so far, the first where it started. */
interface OpenLine {
  readonly files: PieceFile[];
}

/**
 * Reads `files` (raw files not merged yet, in raw-file order) and yields their records, then
 * the lines still open. A container restart (a new container id) ends the previous
 * container's unfinished lines. `files` may also come a sorted batch at a time, each before
 * every later one (a listing still going on: raw-listing.ts).
 */
export async function* readRawFiles(
  store: Bucket,
  files: readonly RawFile[] | AsyncIterable<readonly RawFile[]>,
  options: ReadRawOptions = {},
): AsyncGenerator<RawEvent> {
  const lines = options.unfinished?.lines ?? [];
  // Which streams' pieces each merged file holds, and from which of its lines on.
  const pieces = new Map<string, Map<Stream, number>>();
  for (const u of lines)
    for (const f of u.files) pieces.set(f.key, (pieces.get(f.key) ?? new Map<Stream, number>()).set(u.stream, f.line));
  const merged = (options.unfinished?.files ?? []).filter((f) => pieces.has(f.key));

  let joiner: LineJoiner | undefined;
  const open = new Map<Stream, OpenLine>();
  for await (const { file, merged: isMerged, body, length } of openBatches(
    store,
    inOrder(files, merged),
    options.readAhead ?? DEFAULT_READ_AHEAD,
  )) {
    if (joiner === undefined || file.containerId !== joiner.containerId) {
      if (joiner) yield* flushed(joiner, open);
      joiner = new LineJoiner(file.containerId);
    }
    const reading = new FileLines(file, isMerged, pieces.get(file.key), joiner, open);
    try {
      for await (const texts of objectLineBatches(file.key, body, options.counter, file.pod, {
        length,
        checkFirst: true,
      })) {
        const records = reading.decode(texts);
        if (records.length > 0) yield { kind: 'records', records };
      }
    } catch (error) {
      // Checked whole before its first line (checkFirst): it gave no record, and no piece of a
      // line open around it, so the read goes on as if it were not there.
      if (!(error instanceof UnreadableObjectError)) throw error;
      yield { kind: 'unreadable', file, error };
      continue;
    }
    if (!isMerged) yield { kind: 'file-end', file, invalidLines: reading.invalidLines };
  }
  yield {
    kind: 'open-lines',
    unfinished: [...open].map(([stream, line]) => {
      const start = line.files[0] as PieceFile;
      return { stream, key: start.key, line: start.line, files: [...line.files] };
    }),
  };
  if (joiner) yield* flushed(joiner, open);
}

/** One file's lines as records: decoded, pieces joined, the files of the lines still open noted. */
class FileLines {
  /** Lines that were not JSON: kept whole as messages. */
  invalidLines = 0;
  private lineNo = 0;
  // A record without a time takes the previous one's in this file, else the key's minute.
  private fallbackTime: string;

  constructor(
    private readonly file: RawFile,
    /** Merged already: only the pieces of the open lines are read, from `held`'s lines on. */
    private readonly isMerged: boolean,
    private readonly held: ReadonlyMap<Stream, number> | undefined,
    private readonly joiner: LineJoiner,
    private readonly open: Map<Stream, OpenLine>,
  ) {
    this.fallbackTime = sliceToTime(file.slice);
  }

  decode(texts: readonly string[]): LogRecord[] {
    const records: LogRecord[] = [];
    const { file, open } = this;
    for (const text of texts) {
      this.lineNo += 1;
      const decoded = decodeRawLine(text, this.fallbackTime);
      this.fallbackTime = decoded.piece.time;
      const { stream } = decoded.piece;
      if (this.isMerged) {
        // Only the pieces of the open lines: everything else here is in merged files.
        const from = this.held?.get(stream);
        if (!decoded.json || from === undefined || this.lineNo < from) continue;
      } else if (!decoded.json) {
        this.invalidLines += 1;
        // Not a runtime line at all: it must not complete someone else's partial line.
        const { time, message } = decoded.piece;
        records.push({ time, message, stream, containerId: file.containerId });
        continue;
      }
      const line = open.get(stream);
      if (line !== undefined && line.files.at(-1)?.key !== file.key)
        line.files.push({ key: file.key, line: this.lineNo });
      if (line === undefined && decoded.piece.partial)
        open.set(stream, { files: [{ key: file.key, line: this.lineNo }] });
      const record = this.joiner.push(decoded.piece);
      if (record) {
        open.delete(stream);
        records.push(record);
      }
    }
    return records;
  }
}

interface PlannedFile {
  readonly file: RawFile;
  /** Merged already: read only for the pieces of the open lines. */
  readonly merged: boolean;
}

/** `files` with the merged `pieces` files among them, in raw-file order, a batch at a time. */
async function* inOrder(
  files: readonly RawFile[] | AsyncIterable<readonly RawFile[]>,
  pieces: readonly RawFile[],
): AsyncGenerator<PlannedFile[]> {
  const held = pieces.map((file) => ({ file, merged: true })).sort((a, b) => compareRawKeys(a.file, b.file));
  const batches = Symbol.asyncIterator in files ? files : [files];
  for await (const batch of batches) {
    const all = batch.map((file) => ({ file, merged: false }));
    const last = all.reduce<RawFile | undefined>(
      (max, f) => (max === undefined || compareRawKeys(f.file, max) > 0 ? f.file : max),
      undefined,
    );
    // Pieces files before the batch's last file are placed among it; the rest may come after later batches.
    while (last !== undefined && held.length > 0 && compareRawKeys((held[0] as PlannedFile).file, last) < 0)
      all.push(held.shift() as PlannedFile);
    if (all.length > 0) yield all.sort((a, b) => compareRawKeys(a.file, b.file));
  }
  if (held.length > 0) yield held;
}

/** The files of each batch opened in order, `ahead` GETs in flight within a batch. */
async function* openBatches(
  store: Bucket,
  batches: AsyncIterable<PlannedFile[]>,
  ahead: number,
): AsyncGenerator<PlannedFile & OpenedBody> {
  for await (const batch of batches) {
    let at = 0;
    for await (const { body, length } of openInOrder(
      store,
      batch.map((f) => f.file.key),
      ahead,
    ))
      yield { ...(batch[at++] as PlannedFile), body, length };
  }
}

function* flushed(joiner: LineJoiner, open: Map<Stream, OpenLine>): Generator<RawEvent> {
  open.clear();
  const records = joiner.flush();
  if (records.length > 0) yield { kind: 'records', records };
}
