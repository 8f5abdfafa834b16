/**
 * The live log as the API serves it with `timestamps=true`: `"{time} {message}\n"` per line,
 * the time RFC 3339 with nanoseconds. And where a stream of it resumes. Pure: no I/O.
 */
import type { EpochNs } from '../layout/time.js';
import { parseTime } from '../layout/time.js';

export interface LiveLine {
  readonly time: string;
  /** Undefined when the time cannot be read (then the line is never filtered out). */
  readonly ns: EpochNs | undefined;
  readonly message: string;
}

export function parseLiveLine(line: string): LiveLine {
  const space = line.indexOf(' ');
  const time = space < 0 ? line : line.slice(0, space);
  const ns = parseTime(time);
  if (ns === undefined) return { time: '', ns: undefined, message: line };
  return { time, ns, message: space < 0 ? '' : line.slice(space + 1) };
}

/**
 * The lines of a body, a batch per chunk. A last line without its newline is returned only
 * when `keepUnfinished` (the container has ended: it is all there will be); in a followed
 * stream that broke, it may be a line cut short, and comes whole with the next request.
 */
export async function* liveLines(
  body: AsyncIterable<Buffer | string>,
  keepUnfinished: boolean,
): AsyncGenerator<LiveLine[]> {
  let rest = '';
  const decoder = new TextDecoder('utf-8');
  for await (const chunk of body) {
    const text = rest + (typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
    const parts = text.split('\n');
    rest = parts.pop() ?? '';
    if (parts.length > 0) yield parts.map(parseLiveLine);
  }
  rest += decoder.decode();
  if (keepUnfinished && rest !== '') yield [parseLiveLine(rest)];
}

/**
 * Where a live log goes on: the time of the last line returned and how many returned lines
 * carry exactly that time. The API filters by `sinceTime` to the second, so a stream opened
 * again starts up to a second earlier: its first lines are skipped up to the place, then
 * everything is new (later lines are never filtered: clocks may step back).
 */
export class Resume {
  private ns: EpochNs | undefined;
  private seen = 0;
  private skipping = true;
  private atPlace = 0;
  /** The place is a line this Resume returned (not a start whose earlier lines are read elsewhere). */
  private placed = false;
  /**
   * Lines returned after the place's line but timed before it, within its second (the clock
   * stepped back): a stream opened again repeats them right after the place's line.
   */
  private after = 0;
  private afterSkipped = 0;

  /**
   * From `fromNs` on (lines before it are read elsewhere), or from the log's start; the first
   * `seen` lines at exactly `fromNs` are read elsewhere too.
   */
  constructor(
    fromNs?: EpochNs,
    seen = 0,
    /** The live log held a line at `fromNs` (the hand-off's boundary line). */
    private readonly lineAtStart = false,
  ) {
    this.ns = fromNs;
    this.seen = fromNs === undefined ? 0 : seen;
  }

  /**
   * The place's time when the live log held a line there (one this Resume returned, or the
   * boundary line): a stream whose first line comes after it lost lines in between to rotation.
   */
  heldPlace(): EpochNs | undefined {
    return this.placed || this.lineAtStart ? this.ns : undefined;
  }

  /** The `sinceTime` to ask for: the place, rounded down to the second as the API applies it. */
  sinceTime(): string | undefined {
    if (this.ns === undefined) return undefined;
    return `${new Date(Number(floorSecond(this.ns) / 1_000_000_000n) * 1000).toISOString().slice(0, 19)}Z`;
  }

  /** A new stream from {@link sinceTime} begins. */
  restart(): void {
    this.skipping = true;
    this.atPlace = 0;
    this.afterSkipped = 0;
  }

  /** Whether `line` of the current stream is new; returned lines move the place. */
  admit(line: LiveLine): boolean {
    if (this.skipping && this.ns !== undefined && line.ns !== undefined) {
      if (line.ns < this.ns) {
        // Before the place's line in the stream: returned already (or read elsewhere).
        if (!this.placed || this.atPlace < this.seen) return false;
        // After it: the first `after` were returned already, the rest are new.
        if (this.afterSkipped < this.after) {
          this.afterSkipped += 1;
          return false;
        }
      } else if (line.ns === this.ns && this.atPlace < this.seen) {
        this.atPlace += 1;
        return false;
      }
    }
    this.skipping = false;
    if (line.ns !== undefined) {
      if (this.ns !== undefined && line.ns === this.ns) {
        this.seen += 1;
        this.placed = true;
        this.after = 0;
      } else if (this.ns === undefined || line.ns > this.ns) {
        this.ns = line.ns;
        this.seen = 1;
        this.placed = true;
        this.after = 0;
      } else if (line.ns >= floorSecond(this.ns)) {
        this.after += 1;
      }
    }
    return true;
  }
}

/** The start of `ns`'s second (towards minus infinity). */
function floorSecond(ns: EpochNs): EpochNs {
  const rest = ns % 1_000_000_000n;
  return ns - (rest < 0n ? rest + 1_000_000_000n : rest);
}
