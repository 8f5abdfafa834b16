/**
 * A pod's raw files as one record sequence: lines decoded, `P…F` pieces joined across file
 * boundaries, and an event at the end of every file saying whether it ended inside a line.
 * The reader reads unmerged raw files through this, and the compactor merges through it,
 * so both cut and join the log the same way.
 */
import { decodeRawLine, LineJoiner, type LogRecord } from './records.js';
import { objectLines, type ByteCounter } from './object-lines.js';
import { openInOrder, type Bucket, type RawFile } from './store.js';
import { sliceToTime } from './time.js';

/** Raw files are small (a minute of logs): a few GETs in flight hide the round trips. */
export const DEFAULT_READ_AHEAD = 4;

export type RawEvent =
  | { readonly kind: 'record'; readonly record: LogRecord }
  | {
      readonly kind: 'file-end';
      readonly file: RawFile;
      /** Some stream is inside a line whose last piece is in a later file (or not uploaded yet). */
      readonly insideLine: boolean;
      /** Lines that were not JSON: kept whole as messages. */
      readonly invalidLines: number;
    };

/**
 * Reads `files` (in raw-file order) and yields their records, then, after the last file,
 * the unfinished lines as they are. A container restart (a new container id) ends the
 * previous container's unfinished line.
 */
export async function* readRawFiles(
  store: Bucket,
  files: readonly RawFile[],
  options: { counter?: ByteCounter; readAhead?: number } = {},
): AsyncGenerator<RawEvent> {
  let joiner: LineJoiner | undefined;
  let containerId: string | undefined;
  let at = 0;
  for await (const { body } of openInOrder(store, files.map((f) => f.key), options.readAhead ?? DEFAULT_READ_AHEAD)) {
    const file = files[at++] as RawFile;
    if (joiner === undefined || file.containerId !== containerId) {
      if (joiner) yield* flushed(joiner);
      joiner = new LineJoiner(file.containerId);
      containerId = file.containerId;
    }
    let invalidLines = 0;
    // A record without a time takes the previous one's in this file, else the key's minute.
    let fallbackTime = sliceToTime(file.slice);
    for await (const line of objectLines(file.key, body, options.counter, file.pod)) {
      const decoded = decodeRawLine(line, fallbackTime);
      fallbackTime = decoded.piece.time;
      if (!decoded.json) {
        invalidLines += 1;
        // Not a runtime line at all: it must not complete someone else's partial line.
        const { time, message, stream } = decoded.piece;
        yield { kind: 'record', record: { time, message, stream, containerId: file.containerId } };
        continue;
      }
      const record = joiner.push(decoded.piece);
      if (record) yield { kind: 'record', record };
    }
    yield { kind: 'file-end', file, insideLine: joiner.hasPending, invalidLines };
  }
  if (joiner) yield* flushed(joiner);
}

function* flushed(joiner: LineJoiner): Generator<RawEvent> {
  for (const record of joiner.flush()) yield { kind: 'record', record };
}
