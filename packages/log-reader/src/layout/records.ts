/**
 * Log records: decoding a raw Fluent Bit line or a merged line, joining the runtime's
 * partial (`P`) pieces into one line, and encoding merged lines. Pure: no I/O.
 */
import { parseTime } from './time.js';

export type Stream = 'stdout' | 'stderr';

/** One line of a container's log, as the reader returns it. */
export interface LogRecord {
  /** The time string exactly as Fluent Bit wrote it (of the first piece, for joined lines). */
  readonly time: string;
  /** The message, without the docker runtime's trailing newline. */
  readonly message: string;
  readonly stream: Stream;
  readonly containerId: string;
}

/** One decoded raw line: a whole line (`F`) or a piece of one (`P`). */
export interface RawPiece {
  readonly time: string;
  readonly message: string;
  readonly stream: Stream;
  readonly partial: boolean;
}

export interface DecodedRawLine {
  readonly piece: RawPiece;
  /** False when the line was not a JSON object: it became the message as it was. */
  readonly json: boolean;
}

// What the CRI runtime writes: "{time} {stream} {tag} {message}", tag `F`/`P` (maybe with `:`-flags).
const RUNTIME_LINE = /^(\S+) (stdout|stderr) ([PF])(?::\S*)?(?: ([\s\S]*))?$/;

/**
 * Decodes one raw line. `fallbackTime` is used when no valid time is found: the previous
 * record's time in the same file, or the file key's slice for its first record (per file,
 * so a record reads the same whether the files before it are merged or not).
 */
export function decodeRawLine(line: string, fallbackTime: string): DecodedRawLine {
  return decodeRawValue(parseRawJson(line), line, fallbackTime);
}

/**
 * {@link decodeRawLine} by `JSON.parse` of the whole line. Exported for the property test that
 * holds decodeRawLine to it.
 */
export function decodeRawLineGeneral(line: string, fallbackTime: string): DecodedRawLine {
  return decodeRawValue(parseJson(line), line, fallbackTime);
}

function decodeRawValue(value: unknown, line: string, fallbackTime: string): DecodedRawLine {
  if (!isObject(value)) {
    return { piece: { time: fallbackTime, message: line, stream: 'stdout', partial: false }, json: false };
  }
  const log = messageOf(value);
  const stream: Stream = value['stream'] === 'stderr' ? 'stderr' : 'stdout';
  const partial = value['logtag'] === 'P';
  const time = value['time'];
  if (typeof time === 'string' && parseTime(time) !== undefined) {
    return { piece: { time, message: log, stream, partial }, json: true };
  }
  if (time === undefined) {
    // No parser ran: `log` is the whole runtime line.
    const m = RUNTIME_LINE.exec(log);
    if (m && parseTime(m[1] as string) !== undefined) {
      const piece = { time: m[1] as string, stream: m[2] as Stream, partial: m[3] === 'P', message: m[4] ?? '' };
      return { piece, json: true };
    }
  }
  return { piece: { time: fallbackTime, message: log, stream, partial }, json: true };
}

/**
 * Decodes one line of a merged file; `undefined` when it is not one. One trailing `\n` (or
 * `\r\n`) of its `log` is the record's line ending and is dropped, as for raw records: the
 * Python service's compactor kept the docker runtime's newline in merged records.
 */
export function decodeMergedLine(line: string, containerId: string): LogRecord | undefined {
  const value = parseJson(line);
  if (!isObject(value) || typeof value['time'] !== 'string') return undefined;
  const stream: Stream = value['stream'] === 'stderr' ? 'stderr' : 'stdout';
  return { time: value['time'], message: dropLineEnding(messageOf(value)), stream, containerId };
}

/**
 * One merged NDJSON line, without its newline. A message that itself ends with `\n` (rare:
 * a raw line that ended with two) gets one more, so that {@link decodeMergedLine} gives it
 * back exactly: a read after a pass must return what a read before it did.
 */
export function encodeMergedLine(record: LogRecord): string {
  const log = record.message.endsWith('\n') ? `${record.message}\n` : record.message;
  return JSON.stringify(
    record.stream === 'stdout' ? { time: record.time, log } : { time: record.time, log, stream: record.stream },
  );
}

/** A message without its one line ending (`\n` or `\r\n`), if it has one. */
export function dropLineEnding(message: string): string {
  if (message.endsWith('\r\n')) return message.slice(0, -2);
  return message.endsWith('\n') ? message.slice(0, -1) : message;
}

/**
 * Joins consecutive `P…F` pieces of one stream into one line with the time of its first
 * piece. A line is emitted when its last piece arrives, so a line still being written
 * never blocks the other stream; {@link flush} gives what has arrived of unfinished lines.
 */
export class LineJoiner {
  private readonly pending = new Map<Stream, { time: string; parts: string[]; seq: number }>();
  private seq = 0;

  constructor(readonly containerId: string) {}

  /** Returns the record this piece completes, if any. */
  push(piece: RawPiece): LogRecord | undefined {
    const open = this.pending.get(piece.stream);
    if (piece.partial) {
      if (open) open.parts.push(piece.message);
      else this.pending.set(piece.stream, { time: piece.time, parts: [piece.message], seq: this.seq++ });
      return undefined;
    }
    if (!open) return this.record(piece.time, piece.message, piece.stream);
    this.pending.delete(piece.stream);
    open.parts.push(piece.message);
    return this.record(open.time, open.parts.join(''), piece.stream);
  }

  /** True while some stream is inside a line whose last piece has not arrived. */
  get hasPending(): boolean {
    return this.pending.size > 0;
  }

  /** True while `stream` is inside a line whose last piece has not arrived. */
  isOpen(stream: Stream): boolean {
    return this.pending.has(stream);
  }

  /** Ends unfinished lines as they are, in the order they started. */
  flush(): LogRecord[] {
    const open = [...this.pending.entries()].sort((a, b) => a[1].seq - b[1].seq);
    this.pending.clear();
    return open.map(([stream, line]) => this.record(line.time, line.parts.join(''), stream));
  }

  private record(time: string, message: string, stream: Stream): LogRecord {
    // The docker runtime keeps the line's own newline in `log`.
    return { time, message: dropLineEnding(message), stream, containerId: this.containerId };
  }
}

function messageOf(value: Record<string, unknown>): string {
  const log = 'log' in value ? value['log'] : value['message'];
  if (typeof log === 'string') return log;
  return log === undefined || log === null ? '' : JSON.stringify(log);
}

// Fluent Bit's kubernetes filter appends `"kubernetes":{…}` to every record: most of a raw line's
// bytes, the same map for every record of a container, and dropped here. `JSON.parse` of the
// line without it builds a third of the objects and strings.
const KUBERNETES_MEMBER = ',"kubernetes":';
const CLOSE_BRACE = 0x7d;
/** Tails (`,"kubernetes":{…}}`) whose value is valid JSON, most recent first: a few pods are merged at once. */
const validTails: string[] = [];
const VALID_TAILS_KEPT = 8;

/**
 * `JSON.parse(line)` as far as a raw record's keys go. A line `H,"kubernetes":V}` whose `H}` is
 * an object with members and whose `V` is valid JSON is a valid object: it parses to `H}`'s plus
 * `kubernetes`, so `H}` is parsed instead. V is parsed once per distinct tail. Any other line
 * (no such tail, an invalid V, or `H}` not such an object) is parsed whole.
 */
function parseRawJson(line: string): unknown {
  const at = line.lastIndexOf(KUBERNETES_MEMBER);
  if (at > 0 && line.charCodeAt(line.length - 1) === CLOSE_BRACE && validTail(line.slice(at))) {
    const head = parseJson(`${line.slice(0, at)}}`);
    if (isObject(head) && hasMembers(head)) return head;
  }
  return parseJson(line);
}

function validTail(tail: string): boolean {
  const known = validTails.indexOf(tail);
  if (known === 0) return true;
  if (known > 0) {
    validTails.splice(known, 1);
  } else {
    try {
      JSON.parse(tail.slice(KUBERNETES_MEMBER.length, -1));
    } catch {
      return false;
    }
    if (validTails.length >= VALID_TAILS_KEPT) validTails.pop();
  }
  validTails.unshift(tail);
  return true;
}

function hasMembers(value: Record<string, unknown>): boolean {
  for (const _key in value) return true;
  return false;
}

function parseJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
