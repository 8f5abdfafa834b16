/**
 * A pod's raw files as one record sequence: lines decoded, `P…F` pieces joined across file
 * boundaries, and an event at the end of every file saying which lines are still open
 * there. The reader reads unmerged raw files through this, and the compactor merges through
 * it, so both cut and join the log the same way.
 *
 * Lines left unfinished by the last commit (metadata `unfinished_lines`) are picked up
 * first: their pieces are read again from the merged raw files that hold them, and only
 * those pieces (every other record of those files is in merged files already).
 */
import type { UnfinishedLine } from './metadata.js';
import { decodeRawLine, LineJoiner, type LogRecord, type Stream } from './records.js';
import { objectLines, type ByteCounter } from './object-lines.js';
import { compareRawKeys } from './keys.js';
import { openInOrder, type Bucket, type RawFile } from './store.js';
import { sliceToTime } from './time.js';

/** Raw files are small (a minute of logs): a few GETs in flight hide the round trips. */
export const DEFAULT_READ_AHEAD = 4;

export type RawEvent =
  | { readonly kind: 'record'; readonly record: LogRecord }
  | {
      readonly kind: 'file-end';
      readonly file: RawFile;
      /**
       * Where each line still open at the end of this file started: its last piece is in a
       * later file, or not uploaded yet.
       */
      readonly unfinished: readonly UnfinishedLine[];
      /** Lines that were not JSON: kept whole as messages. */
      readonly invalidLines: number;
    };

/** Lines a commit left unfinished, and the merged raw files (in merge order) that hold their pieces. */
export interface UnfinishedPieces {
  readonly lines: readonly UnfinishedLine[];
  readonly files: readonly RawFile[];
}

export interface ReadRawOptions {
  readonly counter?: ByteCounter;
  readonly readAhead?: number;
  /** Lines to pick up where the last commit left them, before `files`. */
  readonly unfinished?: UnfinishedPieces;
}

/**
 * Reads `files` (in raw-file order) and yields their records, then, after the last file,
 * the unfinished lines as they are. A container restart (a new container id) ends the
 * previous container's unfinished line.
 */
export async function* readRawFiles(store: Bucket, files: readonly RawFile[], options: ReadRawOptions = {}): AsyncGenerator<RawEvent> {
  let joiner: LineJoiner | undefined;
  let containerId: string | undefined;
  const starts = new Map<Stream, UnfinishedLine>();
  const resume = options.unfinished;
  const byKey = new Map([...(resume?.files ?? []), ...files].map((f) => [f.key, f]));
  const resumeStarts = new Map((resume?.lines ?? []).map((u) => [u.stream, u]));
  // A late file merged after the lines started but keyed before them was read on its own
  // (below): it holds none of their pieces.
  const resumeFiles = resumeStarts.size === 0 ? [] : (resume?.files ?? []).filter((f) => !keyedBeforeEvery(f, resumeStarts, byKey));
  const all = [...resumeFiles, ...files];
  let at = 0;
  for await (const { body } of openInOrder(store, all.map((f) => f.key), options.readAhead ?? DEFAULT_READ_AHEAD)) {
    const resuming = at < resumeFiles.length;
    const file = all[at++] as RawFile;
    if (!resuming && keyedBeforeEvery(file, starts, byKey)) {
      // A late file keyed before every line still open (those lines were left open by a
      // commit): in raw order it comes before their first pieces, so it neither joins nor
      // ends them. Its own lines are joined among themselves.
      yield* readAlone(file, body, options.counter, [...starts.values()]);
      continue;
    }
    if (joiner === undefined || file.containerId !== containerId) {
      if (joiner) yield* flushed(joiner, starts);
      joiner = new LineJoiner(file.containerId);
      containerId = file.containerId;
    }
    if (resuming) for (const u of resume?.lines ?? []) if (u.key === file.key) starts.set(u.stream, u);
    let invalidLines = 0;
    let lineNo = 0;
    // A record without a time takes the previous one's in this file, else the key's minute.
    let fallbackTime = sliceToTime(file.slice);
    for await (const line of objectLines(file.key, body, options.counter, file.pod)) {
      lineNo += 1;
      const decoded = decodeRawLine(line, fallbackTime);
      fallbackTime = decoded.piece.time;
      const { stream } = decoded.piece;
      if (resuming) {
        // Only the pieces of the lines being picked up: everything else here is merged.
        const start = starts.get(stream);
        if (!decoded.json || start === undefined || (start.key === file.key && lineNo < start.line)) continue;
      } else if (!decoded.json) {
        invalidLines += 1;
        // Not a runtime line at all: it must not complete someone else's partial line.
        const { time, message } = decoded.piece;
        yield { kind: 'record', record: { time, message, stream, containerId: file.containerId } };
        continue;
      }
      if (decoded.piece.partial && !joiner.isOpen(stream) && !resuming) starts.set(stream, { stream, key: file.key, line: lineNo });
      const record = joiner.push(decoded.piece);
      if (record) {
        starts.delete(stream);
        yield { kind: 'record', record };
      }
    }
    if (!resuming) yield { kind: 'file-end', file, unfinished: [...starts.values()], invalidLines };
  }
  if (joiner) yield* flushed(joiner, starts);
}

function keyedBeforeEvery(file: RawFile, starts: ReadonlyMap<Stream, UnfinishedLine>, byKey: ReadonlyMap<string, RawFile>): boolean {
  if (starts.size === 0) return false;
  for (const start of starts.values()) {
    const first = byKey.get(start.key);
    if (first === undefined || compareRawKeys(file, first) >= 0) return false;
  }
  return true;
}

/** One raw file read on its own: its lines joined among themselves, its unfinished ones ended at its end. */
async function* readAlone(file: RawFile, body: AsyncIterable<Uint8Array>, counter: ByteCounter | undefined, unfinished: readonly UnfinishedLine[]): AsyncGenerator<RawEvent> {
  const joiner = new LineJoiner(file.containerId);
  let invalidLines = 0;
  let fallbackTime = sliceToTime(file.slice);
  for await (const line of objectLines(file.key, body, counter, file.pod)) {
    const decoded = decodeRawLine(line, fallbackTime);
    fallbackTime = decoded.piece.time;
    if (!decoded.json) invalidLines += 1;
    const { time, message, stream } = decoded.piece;
    const record = decoded.json ? joiner.push(decoded.piece) : { time, message, stream, containerId: file.containerId };
    if (record) yield { kind: 'record', record };
  }
  for (const record of joiner.flush()) yield { kind: 'record', record };
  yield { kind: 'file-end', file, unfinished, invalidLines };
}

function* flushed(joiner: LineJoiner, starts: Map<Stream, UnfinishedLine>): Generator<RawEvent> {
  starts.clear();
  for (const record of joiner.flush()) yield { kind: 'record', record };
}
