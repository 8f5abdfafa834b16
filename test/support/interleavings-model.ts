// The model of test/interleavings.test.ts: what every read of a pod must return, given the
// raw files uploaded and the batches the commits merged; and how reads compare.
import { formatSlice, rawKey, type LogRecord, type PodMetadata, type Stream } from '@platform/log-reader/layout';
import { MINUTE } from './world.js';
import { CONTAINER_IDS, T0, type Step } from './interleavings-steps.js';

// The model: what every read must return.

/** One line of a raw file. Piece texts are unique: `{id}.` for a full line, `{id}~` for a `P` piece. */
export interface Piece {
  readonly time: string;
  readonly text: string;
  readonly stream: Stream;
  readonly partial: boolean;
}

export interface Upload {
  readonly key: string;
  readonly slice: string;
  readonly index: number;
  readonly containerId: string;
  readonly pieces: readonly Piece[];
}

/** A record as a read must return it. */
export interface Line {
  readonly time: string;
  readonly message: string;
  readonly stream: Stream;
  readonly containerId: string;
}

/** Wide enough for any index Fluent Bit's counter reaches (a JavaScript safe integer has 16 digits). */
const RAW_INDEX_WIDTH = 20;

/**
 * Raw-file order (docs/design.md §1): by (order minute, index as a number, key), the order
 * minute being the slice, or for an index of 13 digits or more (seeded from the clock by
 * seed-index.sh) the minute after the one index / 1000 seconds falls in, when that is later.
 * Written from those sentences, not from the reader's comparator (compareRawKeys), so that
 * the model can catch an ordering bug in it: each key becomes one text that sorts as the
 * order says — the minute and the index read from the key itself, the index zero-padded to a
 * fixed width so that text order is number order, then the whole key as the tie-break.
 */
export function rawSortText(key: string): string {
  const found = /\/(\d{12})__?(\d+)\.gz$/.exec(key);
  if (found === null) throw new Error(`not a raw key: ${key}`);
  const [, slice, index] = found;
  return `${orderMinute(slice!, index!)} ${index!.padStart(RAW_INDEX_WIDTH, '0')} ${key}`;
}

/** The latest time a key's minute can name, in seconds: 9999-12-31T23:59:59Z. */
const LAST_KEY_SECOND = 253_402_300_799;

function orderMinute(slice: string, index: string): string {
  const digits = index.replace(/^0+/, '');
  if (digits.length < 13) return slice;
  const started = Math.min(Number(BigInt(digits) / 1000n) + 60, LAST_KEY_SECOND);
  const minute = formatSlice(new Date(started * 1000));
  return minute > slice ? minute : slice;
}

/** Raw-file order of two uploads: see rawSortText. */
export function rawOrder(a: Pick<Upload, 'key'>, b: Pick<Upload, 'key'>): number {
  const x = rawSortText(a.key);
  const y = rawSortText(b.key);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * The records of raw files read in order as one run: `P…F` pieces of one stream joined (time
 * of the first piece), a container restart ends an unfinished line. Fed batch by batch, it
 * keeps a line open across a batch that a commit left it open in (`unfinished_lines`).
 */
class ModelJoiner {
  private containerId: string | undefined;
  private readonly pending = new Map<Stream, { time: string; parts: string[]; seq: number; start: Upload }>();
  private seq = 0;

  constructor(private readonly out: Line[]) {}

  get open(): boolean {
    return this.pending.size > 0;
  }

  feed(files: readonly Upload[]): void {
    for (const file of files) {
      if (this.pending.size > 0 && [...this.pending.values()].every((line) => rawOrder(file, line.start) < 0)) {
        // A late file keyed before every open line's first piece: read on its own (docs/design.md §1,
        // raw order); it neither joins nor ends those lines.
        joinRawFiles([file], this.out);
        continue;
      }
      if (file.containerId !== this.containerId) {
        this.flush();
        this.containerId = file.containerId;
      }
      for (const piece of file.pieces) {
        const line = this.pending.get(piece.stream);
        if (piece.partial) {
          if (line) line.parts.push(piece.text);
          else this.pending.set(piece.stream, { time: piece.time, parts: [piece.text], seq: this.seq++, start: file });
        } else if (line) {
          this.pending.delete(piece.stream);
          this.emit(line.time, line.parts.join('') + piece.text, piece.stream);
        } else {
          this.emit(piece.time, piece.text, piece.stream);
        }
      }
    }
  }

  /** Ends the unfinished lines as they are, in the order they started. */
  flush(): void {
    for (const [stream, line] of [...this.pending].sort((a, b) => a[1].seq - b[1].seq))
      this.emit(line.time, line.parts.join(''), stream);
    this.pending.clear();
  }

  private emit(time: string, message: string, stream: Stream): void {
    this.out.push({
      time,
      message: message.endsWith('\n') ? message.slice(0, -1) : message,
      stream,
      containerId: this.containerId!,
    });
  }
}

/**
 * The records of `files` as one run of raw files; the end gives the unfinished lines as they are. Returns whether there
 * were any.
 */
export function joinRawFiles(files: readonly Upload[], out: Line[]): boolean {
  const joiner = new ModelJoiner(out);
  joiner.feed(files);
  const inside = joiner.open;
  joiner.flush();
  return inside;
}

/** The raw files one commit merged, and whether it left a line open after them (its pieces stay in raw files). */
export interface Batch {
  readonly keys: readonly string[];
  leftOpen: boolean;
}

export class PodModel {
  readonly uploads = new Map<string, Upload>();
  /** The raw files each commit merged, in commit order and merge order. */
  readonly batches: Batch[] = [];
  readonly merged = new Set<string>();
  /**
   * When the commit that merged a raw file, or stopped listing a merged file, says it was made
   * (its `committed_at` / `retired_at`, ms).
   */
  readonly unneededSince = new Map<string, number>();
  /**
   * When that commit was really written (ms): the test clock when its metadata PUT went out,
   * seen from the pass's request stream, whatever the compactor wrote in it.
   */
  readonly committedAt = new Map<string, number>();
  /** The merged files the metadata listed at the last look. */
  listed: readonly string[] = [];
  /**
   * Retention (docs/design.md §8): when the commit that marked the log expired was written
   * (test clock, ms), while the metadata carries the mark; how many marks there were; when the
   * last commit that merged raw files was written.
   */
  markedAt: number | undefined;
  marks = 0;
  lastMergeAt: number | undefined;
  /** Merged files an expiry deleted (approved by the run's delete check). */
  readonly expiryDeleted = new Set<string>();
  /** Each deletion of the whole log starts a new one: the log each earlier one ended with. */
  readonly endedLogs: Line[][] = [];
  private container = 0;
  private minute = 0;
  private lastSlice: string | undefined;
  private lateMinutes = 0;
  /** Starts at 8 so that `_9` and `_10` meet: the index orders numerically. */
  private nextIndex = 8;
  private nextSecond = 0;
  private uploadCount = 0;

  constructor(
    readonly pod: string,
    private readonly letter: string,
  ) {}

  /** The raw files not merged yet, in raw-file order. */
  unmerged(): Upload[] {
    return [...this.uploads.values()].filter((u) => !this.merged.has(u.key)).sort(rawOrder);
  }

  /** The raw files not merged yet end inside a line (whose rest has not arrived). */
  endsInsideLine(): boolean {
    return joinRawFiles(this.unmerged(), []);
  }

  /** How many records the merged files hold. */
  mergedRecords(): number {
    const out: Line[] = [];
    this.joinBatches(out);
    return out.length;
  }

  /** What a read of the pod returns now: each merged batch, then the raw files not merged yet. */
  expected(): Line[] {
    const out: Line[] = [];
    const joiner = this.joinBatches(out);
    joiner.feed(this.unmerged());
    joiner.flush();
    return out;
  }

  /** The merged batches' records; the joiner holds the line the last commit left open, if any. */
  private joinBatches(out: Line[]): ModelJoiner {
    const joiner = new ModelJoiner(out);
    for (const batch of this.batches) {
      joiner.feed(batch.keys.map((key) => this.uploads.get(key)!));
      if (!batch.leftOpen) joiner.flush();
    }
    return joiner;
  }

  /** The next raw file of an upload step (the model's side of it). */
  plan(step: Extract<Step, { kind: 'upload' }>): Upload & { gzip: boolean; separator: '_' | '__' } {
    if (step.restart && !step.late) this.container = 1 - this.container;
    const containerId = CONTAINER_IDS[this.container]!;
    this.uploadCount += 1;
    let slice: string;
    if (step.late) {
      this.lateMinutes += 1;
      slice = formatSlice(new Date(T0 - this.lateMinutes * MINUTE));
    } else if (step.sameMinute && this.lastSlice !== undefined) {
      slice = this.lastSlice;
    } else {
      this.minute += 1;
      slice = formatSlice(new Date(T0 + this.minute * MINUTE));
      this.lastSlice = slice;
    }
    const index = this.nextIndex++;
    // A late file ends outside a line: keyed before the files already there, a line it left
    // open would take in pieces of theirs.
    const kinds = [...step.pieces];
    const lastPartial = kinds.lastIndexOf('P');
    if (step.late && lastPartial >= 0 && !kinds.slice(lastPartial).some((k) => k === 'out' || k === 'docker'))
      kinds.push('out');
    const pieces = kinds.map((kind, i): Piece => {
      const at = new Date(T0 + this.nextSecond++ * 1000);
      const id = `${this.letter}${this.uploadCount}-${i}`;
      return {
        time: `${at.toISOString().slice(0, 19)}.123456789Z`,
        text: kind === 'P' ? `${id}~` : kind === 'docker' ? `${id}.\n` : `${id}.`,
        stream: kind === 'err' ? 'stderr' : 'stdout',
        partial: kind === 'P',
      };
    });
    const separator = step.doubleUnderscore ? '__' : '_';
    const key = rawKey({ pod: this.pod, namespace: 'jobs', container: this.pod, containerId, slice, index }, separator);
    return { key, slice, index, containerId, pieces, gzip: step.gzip, separator };
  }

  /**
   * Takes in one commit, written at `writtenAt` (test clock, ms): the raw files in
   * `merged_raw_files` not seen before are its batch. Called for every commit that reached
   * the store, in the order they did. Returns a problem, if any.
   */
  observe(meta: PodMetadata, writtenAt: number): string | undefined {
    if (meta.expiredAt === undefined) this.markedAt = undefined;
    else if (this.markedAt === undefined) {
      this.markedAt = writtenAt;
      this.marks += 1;
    }
    for (const p of [...(meta.mergedRawFiles ?? []), ...meta.retiredFiles]) {
      if (!this.unneededSince.has(p.key)) this.unneededSince.set(p.key, Date.parse(p.since));
      if (!this.committedAt.has(p.key)) this.committedAt.set(p.key, writtenAt);
    }
    const stillListed = new Set(meta.logFiles.map((f) => f.key));
    const unlisted = this.listed.filter((key) => !stillListed.has(key) && !this.unneededSince.has(key));
    this.listed = [...stillListed];
    if (unlisted.length > 0) return `${this.pod}: merged files no longer listed nor retired: ${unlisted.join(', ')}`;
    const fresh = (meta.mergedRawFiles ?? []).map((p) => p.key).filter((key) => !this.merged.has(key));
    const leftOpen = meta.unfinishedLines.length > 0;
    if (fresh.length === 0) {
      // A commit that merged no new raw file but ended the open line as it was.
      const last = this.batches.at(-1);
      if (last !== undefined && last.leftOpen && !leftOpen) last.leftOpen = false;
      return undefined;
    }
    const unknown = fresh.filter((key) => !this.uploads.has(key));
    if (unknown.length > 0) return `${this.pod}: merged_raw_files names keys never uploaded: ${unknown.join(', ')}`;
    // docs/design.md §5: a commit merges the raw files not merged yet, in order: a prefix of them.
    const inOrder = this.unmerged()
      .slice(0, fresh.length)
      .map((u) => u.key);
    if (fresh.join('\n') !== inOrder.join('\n')) {
      return `${this.pod}: a commit merged [${fresh.map(short).join(', ')}], not the first raw files not merged yet [${inOrder.map(short).join(', ')}]`;
    }
    this.batches.push({ keys: fresh, leftOpen });
    for (const key of fresh) this.merged.add(key);
    this.lastMergeAt = writtenAt;
    return undefined;
  }

  /** Which log a read started now reads: the number of deletions of the whole log so far. */
  get generation(): number {
    return this.endedLogs.length;
  }

  /** The log of `generation`: the one now, or the one an expiry deleted. */
  logOf(generation: number): Line[] {
    return generation === this.generation ? this.expected() : this.endedLogs[generation]!;
  }

  /**
   * An expiry deleted the metadata: the log ends, and a new one starts from the raw files the
   * deletion left (uploaded after its snapshot: none of them merged).
   */
  deleted(): void {
    this.endedLogs.push(this.expected());
    // Merged raw files were the old log's (deleted by a clean or by the expiry).
    for (const key of [...this.uploads.keys()])
      if (this.merged.has(key) || this.expiryDeleted.has(key)) this.uploads.delete(key);
    this.batches.length = 0;
    this.merged.clear();
    this.unneededSince.clear();
    this.committedAt.clear();
    this.listed = [];
    this.markedAt = undefined;
    this.lastMergeAt = undefined;
  }
}

// ---------------------------------------------------------------------------------------
// Comparing reads.

export function asLine(r: LogRecord | Line): Line {
  return { time: r.time, message: r.message, stream: r.stream, containerId: r.containerId };
}

/** The id of the line a record is: its first piece's. */
export function lineId(message: string): string {
  return /^[^.~]*/.exec(message)![0];
}

/** A line whose last piece so far is a `P` piece: unfinished, or merged as it was. */
export function unfinished(r: Line): boolean {
  return r.message.endsWith('~');
}

export function show(lines: readonly (Line | LogRecord)[]): string {
  return `[${lines.map((r) => `${r.message.replace(/\n/g, '⏎')}${r.stream === 'stderr' ? '(err)' : ''}${r.containerId === CONTAINER_IDS[1] ? '@2' : ''}`).join(' ')}]`;
}

export function short(key: string): string {
  return key.replace(/^kube\.var\.log\.containers\.([^_]+)_[^/]*-([0-9a-f]+)\.log\//, '$1/$2/');
}

export function same(a: Line, b: Line): boolean {
  return a.time === b.time && a.message === b.message && a.stream === b.stream && a.containerId === b.containerId;
}

/** Each record once: no line id twice. Returns a problem, if any. */
export function duplicates(read: readonly Line[]): string | undefined {
  const seen = new Set<string>();
  const twice = read.map((r) => lineId(r.message)).filter((id) => (seen.has(id) ? true : (seen.add(id), false)));
  return twice.length === 0 ? undefined : `records returned twice: ${twice.join(', ')}`;
}

/**
 * Problem, if any, with `later` as a read made after `earlier` (docs/design.md §6: the sequence only
 * grows at its end). The last line of `earlier`, when it was unfinished, may since have been
 * completed (same time and stream, its message extended), and records of the other stream
 * may now come before it.
 */
export function growsAtEnd(earlier: readonly Line[], later: readonly Line[]): string | undefined {
  const last = earlier.at(-1);
  const loose = last !== undefined && unfinished(last);
  const fixed = loose ? earlier.length - 1 : earlier.length;
  for (let i = 0; i < fixed; i++) {
    if (later[i] === undefined || !same(earlier[i]!, later[i]!)) {
      return `record ${i}: ${show([earlier[i]!])} then ${later[i] ? show([later[i]!]) : 'nothing'}`;
    }
  }
  if (loose) {
    const found = later.slice(fixed).find((r) => lineId(r.message) === lineId(last.message));
    if (
      found === undefined ||
      found.time !== last.time ||
      found.stream !== last.stream ||
      !found.message.startsWith(last.message)
    ) {
      return `last line ${show([last])} became ${found ? show([found]) : 'nothing'}`;
    }
  }
  return undefined;
}

/**
 * Problem, if any, with `sub` as records of `seq` in the same order (the last one, when
 * unfinished, maybe completed since): what a read must keep when a late raw file inserted
 * records in the middle of the log.
 */
export function subsequence(sub: readonly Line[], seq: readonly Line[]): string | undefined {
  let j = 0;
  for (let i = 0; i < sub.length; i++) {
    const a = sub[i]!;
    const loose = i === sub.length - 1 && unfinished(a);
    const matches = (b: Line): boolean =>
      same(a, b) ||
      (loose && lineId(b.message) === lineId(a.message) && b.time === a.time && b.message.startsWith(a.message));
    while (j < seq.length && !matches(seq[j]!)) j++;
    if (j === seq.length) return `record ${i} ${show([a])} is missing or out of order`;
    j++;
  }
  return undefined;
}
