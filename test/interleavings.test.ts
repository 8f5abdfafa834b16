// Readers during passes (DESIGN §6), as a property: fast-check drives random interleavings of
// Fluent Bit uploads (late-keyed, gzip, `__` keys, container restarts, lines split into P/F
// pieces across uploads; some made inside a pass), passes (some cut off at a random request),
// clock moves across the (short) compact and cleanup intervals and the lease duration,
// immediate reads (some inside a pass), and slow reads started at random points (some inside
// a pass) and pulled a few records at a time while passes merge and delete under them (some
// passes run between two of a reader's requests). Checked against a model of the log (the raw
// files uploaded, and the batches the commits merged, seen in the metadata after every pass):
//   - every read returns each record exactly once, in the merge order: the merged batches,
//     then the raw files not merged yet in raw-file order, P…F pieces joined;
//   - the sequence only grows at its end: a read is a prefix of any read after it (but for
//     its last line, when that line was unfinished then: DESIGN §6 lets pieces that arrived
//     since complete it, and lines of the other stream may now come before it). A late raw
//     file keyed before raw files not merged yet inserts records in the middle of the log:
//     across one, reads keep their records and order, not their positions;
//   - a slow reader returns what the bucket held when it started, then perhaps more, never a
//     record twice nor a gap, whatever was merged and deleted under it; it only meets a
//     deleted object once it has read for longer than the cleanup interval, and then carries
//     on (the run also checks that such re-plans did happen);
//   - a commit merges the first raw files not merged yet, in order; nothing unmerged nor
//     listed is ever deleted, nothing unneeded before the cleanup interval; at the end,
//     passes leave the bucket tidy.
// A second property lines up what the first rarely does: late files inserting records before
// the place of a slow reader already inside the raw files not merged yet. Then deterministic
// cases: a late file under a slow reader; the rest of an unfinished line arriving while a pass
// merges the line as it is; and the same between the pass's last listing and its commit, a
// window the first property keeps out of (the skipped test at the end;
// INTERLEAVINGS_KNOWN_RACES=1 lets it upload there).
//
// Deterministic: fixed seed and no sleeps (the clock moves). To replay a failure fast-check
// reported: INTERLEAVINGS_SEED, INTERLEAVINGS_RUNS / INTERLEAVINGS_PATH (first property),
// INTERLEAVINGS_LATE_RUNS / INTERLEAVINGS_LATE_PATH (second), INTERLEAVINGS_SHRINK=1 to
// shrink; INTERLEAVINGS_VERBOSE=1 prints counts, INTERLEAVINGS_DEBUG=1 each run's steps.
import fc from 'fast-check';
import type { S3Client } from '@aws-sdk/client-s3';
import { LogReader, formatSlice, isNotFound, leaseKey, metadataKey, rawKey, type LogRecord, type PodMetadata, type Stream } from '@platform/log-reader';
import { parsedLine, putRaw } from '@platform/testkit';
import { crashingAt, pausingAt } from './support/hooks.js';
import { testS3Client } from './support/s3.js';
import { HOUR, MINUTE, newWorld, type World } from './support/world.js';

const PODS = ['job-a', 'job-b'] as const;
const CONTAINER_IDS = ['c0ffee', 'beef42'] as const;
const T0 = Date.parse('2026-11-25T10:00:00Z');
/** Short intervals, so that merges and deletions come often: merge again after 10 min, delete 5 min after a commit. */
const COMPACT_INTERVAL = 10 * MINUTE;
const CLEANUP_INTERVAL = 5 * MINUTE;
/** A crashed pass's lease blocks its pods for this long (the default). */
const LEASE_DURATION = 5 * MINUTE;
const INTERVALS = { compactIntervalMs: COMPACT_INTERVAL, cleanupIntervalMs: CLEANUP_INTERVAL, leaseDurationMs: LEASE_DURATION };
const MAX_SLOW_READS = 3;
/** Also upload inside the window the skipped test at the end shows. */
const KNOWN_RACES = process.env['INTERLEAVINGS_KNOWN_RACES'] !== undefined;

// ---------------------------------------------------------------------------------------
// The steps fast-check generates.

type PieceKind = 'out' | 'err' | 'docker' | 'P';
type PodIndex = 0 | 1;

type Step =
  | {
      readonly kind: 'upload';
      readonly pod: PodIndex;
      /** The lines of the raw file: stdout/stderr full lines, a docker-style line ending in `\n`, or a stdout `P` piece. */
      readonly pieces: readonly PieceKind[];
      /** Keyed before every key the pod has had (a node's backlog uploaded late). */
      readonly late: boolean;
      readonly gzip: boolean;
      /** `{slice}__{index}.gz`. */
      readonly doubleUnderscore: boolean;
      /** The same minute as the previous upload: only the index orders them (`_9` < `_10`). */
      readonly sameMinute: boolean;
      /** The job's container restarted: a new container id from here on. */
      readonly restart: boolean;
      /** > 0: Fluent Bit uploads it inside a pass, just before the pass's request of that number (on time, then). */
      readonly duringPass: number;
    }
  /** The clock moves by `advance` (maybe 0), then a pass runs: the CronJob's next run. */
  | { readonly kind: 'pass'; readonly advance: number; readonly maxFileSize: number }
  | { readonly kind: 'crashed-pass'; readonly atRequest: number }
  | { readonly kind: 'advance'; readonly ms: number }
  | { readonly kind: 'read'; readonly pod: PodIndex }
  /**
   * A slow read starts and pulls `pull` records (after those of the merged files, with
   * `pastMerged`: it is then inside the raw files not merged yet). `duringPass` > 0: it starts
   * inside a pass, just before the pass's request of that number.
   */
  | {
      readonly kind: 'start-slow-read';
      readonly pod: PodIndex;
      readonly readAhead: number;
      readonly pull: number;
      readonly pastMerged: boolean;
      readonly duringPass: number;
    }
  /** `passAfter` ≥ 0: a pass runs (after the clock moved by it) just before the reader's next S3 request. */
  | { readonly kind: 'pull'; readonly reader: number; readonly pull: number; readonly passAfter: number };

const oneIn = (n: number): fc.Arbitrary<boolean> => fc.integer({ min: 1, max: n }).map((i) => i === 1);
// Mostly one pod, so that its reads, merges and deletions meet; the other one runs alongside.
const podArb = fc.constantFrom<PodIndex>(0, 0, 0, 1);

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('upload' as const),
      pod: podArb,
      pieces: fc.array(fc.constantFrom<PieceKind>('out', 'out', 'out', 'err', 'docker', 'P', 'P'), { minLength: 1, maxLength: 5 }),
      late: oneIn(6),
      gzip: oneIn(3),
      doubleUnderscore: oneIn(5),
      sameMinute: oneIn(4),
      restart: oneIn(10),
      duringPass: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 40 }) }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('pass' as const),
      advance: fc.constantFrom(0, 0, 2 * MINUTE, 6 * MINUTE, 11 * MINUTE),
      maxFileSize: fc.constantFrom(150, 150, 600, 10 * 1024 * 1024),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('crashed-pass' as const), atRequest: fc.integer({ min: 1, max: 45 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.constantFrom(MINUTE, 4 * MINUTE, 6 * MINUTE, 11 * MINUTE, 31 * MINUTE) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('read' as const), pod: podArb }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('start-slow-read' as const),
      pod: podArb,
      // 0: one GET at a time, so the reader meets whatever was deleted since it planned.
      readAhead: fc.constantFrom(0, 0, 1, 4),
      pull: fc.integer({ min: 1, max: 3 }),
      pastMerged: fc.constant(false),
      duringPass: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 40 })),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('pull' as const),
      reader: fc.nat(),
      pull: fc.integer({ min: 1, max: 3 }),
      passAfter: fc.constantFrom(-1, -1, -1, 0, 6 * MINUTE, 11 * MINUTE),
    }),
  },
);

/**
 * Slow readers already inside the raw files not merged yet when late files insert records
 * before their place: the steps above rarely line that up. Raw files (some merged), a slow
 * read past the merged ones, then uploads (mostly late) and pulls; the final passes of the
 * run then merge and delete under it, and it re-plans.
 */
const lateUnderReaderArb: fc.Arbitrary<Step[]> = (() => {
  const upload = (late: fc.Arbitrary<boolean>): fc.Arbitrary<Step> =>
    fc.record({
      kind: fc.constant('upload' as const),
      pod: fc.constant<PodIndex>(0),
      pieces: fc.array(fc.constantFrom<PieceKind>('out', 'out', 'err', 'docker', 'P'), { minLength: 1, maxLength: 4 }),
      late,
      gzip: oneIn(3),
      doubleUnderscore: oneIn(5),
      sameMinute: oneIn(4),
      restart: fc.constant(false),
      duringPass: fc.constant(0),
    });
  const onTime = upload(fc.constant(false));
  return fc
    .tuple(
      fc.array(onTime, { minLength: 0, maxLength: 3 }),
      fc.array(fc.record({ kind: fc.constant('pass' as const), advance: fc.constant(11 * MINUTE), maxFileSize: fc.constantFrom(150, 10 * 1024 * 1024) }), { maxLength: 1 }),
      fc.array(onTime, { minLength: 2, maxLength: 4 }),
      fc.record({
        kind: fc.constant('start-slow-read' as const),
        pod: fc.constant<PodIndex>(0),
        readAhead: fc.constant(0),
        pull: fc.integer({ min: 1, max: 3 }),
        pastMerged: fc.constant(true),
        duringPass: fc.constant(0),
      }),
      fc.array(
        fc.oneof(
          { weight: 3, arbitrary: upload(oneIn(4).map((onTimeToo) => !onTimeToo)) },
          { weight: 1, arbitrary: fc.record({ kind: fc.constant('pull' as const), reader: fc.constant(0), pull: fc.integer({ min: 1, max: 2 }), passAfter: fc.constant(-1) }) },
        ),
        { minLength: 1, maxLength: 4 },
      ),
    )
    .map(([before, pass, tail, read, after]) => [...before, ...pass, ...tail, read, ...after]);
})();

// ---------------------------------------------------------------------------------------
// The model: what every read must return.

/** One line of a raw file. Piece texts are unique: `{id}.` for a full line, `{id}~` for a `P` piece. */
interface Piece {
  readonly time: string;
  readonly text: string;
  readonly stream: Stream;
  readonly partial: boolean;
}

interface Upload {
  readonly key: string;
  readonly slice: string;
  readonly index: number;
  readonly containerId: string;
  readonly pieces: readonly Piece[];
}

/** A record as a read must return it. */
interface Line {
  readonly time: string;
  readonly message: string;
  readonly stream: Stream;
  readonly containerId: string;
}

/** Raw-file order (DESIGN §1): slice, index as a number, key. */
function rawOrder(a: Upload, b: Upload): number {
  if (a.slice !== b.slice) return a.slice < b.slice ? -1 : 1;
  if (a.index !== b.index) return a.index - b.index;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/**
 * The records of `files` read in this order as one run of raw files: `P…F` pieces of one
 * stream joined (time of the first piece), a container restart ends an unfinished line, and
 * the end gives the unfinished lines as they are (in the order they started).
 */
function joinRawFiles(files: readonly Upload[], out: Line[]): boolean {
  let containerId: string | undefined;
  const pending = new Map<Stream, { time: string; parts: string[]; seq: number }>();
  let seq = 0;
  const emit = (time: string, message: string, stream: Stream): void => {
    out.push({ time, message: message.endsWith('\n') ? message.slice(0, -1) : message, stream, containerId: containerId! });
  };
  const flush = (): void => {
    for (const [stream, line] of [...pending].sort((a, b) => a[1].seq - b[1].seq)) emit(line.time, line.parts.join(''), stream);
    pending.clear();
  };
  for (const file of files) {
    if (file.containerId !== containerId) {
      flush();
      containerId = file.containerId;
    }
    for (const piece of file.pieces) {
      const line = pending.get(piece.stream);
      if (piece.partial) {
        if (line) line.parts.push(piece.text);
        else pending.set(piece.stream, { time: piece.time, parts: [piece.text], seq: seq++ });
      } else if (line) {
        pending.delete(piece.stream);
        emit(line.time, line.parts.join('') + piece.text, piece.stream);
      } else {
        emit(piece.time, piece.text, piece.stream);
      }
    }
  }
  const inside = pending.size > 0;
  flush();
  return inside;
}

class PodModel {
  readonly uploads = new Map<string, Upload>();
  /** The raw files each commit merged, in commit order and merge order. */
  readonly batches: string[][] = [];
  readonly merged = new Set<string>();
  /** When the commit that merged a raw file, or stopped listing a merged file, was made (ms). */
  readonly unneededSince = new Map<string, number>();
  /** The merged files the metadata listed at the last look. */
  listed: readonly string[] = [];
  private container = 0;
  private minute = 0;
  private lastSlice: string | undefined;
  private lateMinutes = 0;
  /** Starts at 8 so that `_9` and `_10` meet: the index orders numerically. */
  private nextIndex = 8;
  private nextSecond = 0;
  private uploadCount = 0;

  constructor(readonly pod: string, private readonly letter: string) {}

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
    for (const batch of this.batches) joinRawFiles(batch.map((key) => this.uploads.get(key)!), out);
    return out.length;
  }

  /** What a read of the pod returns now: each merged batch, then the raw files not merged yet. */
  expected(): Line[] {
    const out: Line[] = [];
    for (const batch of this.batches) joinRawFiles(batch.map((key) => this.uploads.get(key)!), out);
    joinRawFiles(this.unmerged(), out);
    return out;
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
    if (step.late && lastPartial >= 0 && !kinds.slice(lastPartial).some((k) => k === 'out' || k === 'docker')) kinds.push('out');
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
   * Takes in what the commits since the last look merged: the raw files in `merged_raw_files`
   * not seen before are one commit's batch (one pass commits a pod's merge at most once, and
   * this is called after every pass). Returns a problem, if any.
   */
  observe(meta: PodMetadata): string | undefined {
    for (const p of [...(meta.mergedRawFiles ?? []), ...meta.retiredFiles]) {
      if (!this.unneededSince.has(p.key)) this.unneededSince.set(p.key, Date.parse(p.since));
    }
    const stillListed = new Set(meta.logFiles.map((f) => f.key));
    const unlisted = this.listed.filter((key) => !stillListed.has(key) && !this.unneededSince.has(key));
    this.listed = [...stillListed];
    if (unlisted.length > 0) return `${this.pod}: merged files no longer listed nor retired: ${unlisted.join(', ')}`;
    const fresh = (meta.mergedRawFiles ?? []).map((p) => p.key).filter((key) => !this.merged.has(key));
    if (fresh.length === 0) return undefined;
    const unknown = fresh.filter((key) => !this.uploads.has(key));
    if (unknown.length > 0) return `${this.pod}: merged_raw_files names keys never uploaded: ${unknown.join(', ')}`;
    // DESIGN §5: a commit merges the raw files not merged yet, in order: a prefix of them.
    const inOrder = this.unmerged().slice(0, fresh.length).map((u) => u.key);
    if (fresh.join('\n') !== inOrder.join('\n')) {
      return `${this.pod}: a commit merged [${fresh.map(short).join(', ')}], not the first raw files not merged yet [${inOrder.map(short).join(', ')}]`;
    }
    this.batches.push(fresh);
    for (const key of fresh) this.merged.add(key);
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------
// Comparing reads.

function asLine(r: LogRecord | Line): Line {
  return { time: r.time, message: r.message, stream: r.stream, containerId: r.containerId };
}

/** The id of the line a record is: its first piece's. */
function lineId(message: string): string {
  return /^[^.~]*/.exec(message)![0];
}

/** A line whose last piece so far is a `P` piece: unfinished, or merged as it was. */
function unfinished(r: Line): boolean {
  return r.message.endsWith('~');
}

function show(lines: readonly (Line | LogRecord)[]): string {
  return `[${lines.map((r) => `${r.message.replace(/\n/g, '⏎')}${r.stream === 'stderr' ? '(err)' : ''}${r.containerId === CONTAINER_IDS[1] ? '@2' : ''}`).join(' ')}]`;
}

function short(key: string): string {
  return key.replace(/^kube\.var\.log\.containers\.([^_]+)_[^/]*-([0-9a-f]+)\.log\//, '$1/$2/');
}

function same(a: Line, b: Line): boolean {
  return a.time === b.time && a.message === b.message && a.stream === b.stream && a.containerId === b.containerId;
}

/** Each record once: no line id twice. Returns a problem, if any. */
function duplicates(read: readonly Line[]): string | undefined {
  const seen = new Set<string>();
  const twice = read.map((r) => lineId(r.message)).filter((id) => (seen.has(id) ? true : (seen.add(id), false)));
  return twice.length === 0 ? undefined : `records returned twice: ${twice.join(', ')}`;
}

/**
 * Problem, if any, with `later` as a read made after `earlier` (DESIGN §6: the sequence only
 * grows at its end). The last line of `earlier`, when it was unfinished, may since have been
 * completed (same time and stream, its message extended), and records of the other stream
 * may now come before it.
 */
function growsAtEnd(earlier: readonly Line[], later: readonly Line[]): string | undefined {
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
    if (found === undefined || found.time !== last.time || found.stream !== last.stream || !found.message.startsWith(last.message)) {
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
function subsequence(sub: readonly Line[], seq: readonly Line[]): string | undefined {
  let j = 0;
  for (let i = 0; i < sub.length; i++) {
    const a = sub[i]!;
    const loose = i === sub.length - 1 && unfinished(a);
    const matches = (b: Line): boolean =>
      same(a, b) || (loose && lineId(b.message) === lineId(a.message) && b.time === a.time && b.message.startsWith(a.message));
    while (j < seq.length && !matches(seq[j]!)) j++;
    if (j === seq.length) return `record ${i} ${show([a])} is missing or out of order`;
    j++;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------
// One run.

interface SlowRead {
  readonly id: number;
  readonly pod: string;
  readonly records: AsyncGenerator<LogRecord>;
  readonly client: S3Client;
  /** The log when the read started (it plans on its first pull, made right away). */
  readonly start: Line[];
  readonly startedAt: number;
  readonly got: Line[];
  readonly watch: ReaderWatch;
  missingChecked: number;
  done: boolean;
  /** A late raw file inserted records in the middle of the log while it read. */
  midLog: boolean;
}

interface Totals {
  runs: number;
  steps: number;
  passes: number;
  crashedPasses: number;
  slowReads: number;
  /** Slow reads that re-read the metadata after meeting a deleted object. */
  replans: number;
  /** Of those, reads under which a late raw file inserted records in the middle of the log. */
  replansAcrossLateFiles: number;
  passesInsideReads: number;
  readsStartedInsidePasses: number;
  uploadsInsidePasses: number;
  /** Objects slow readers found deleted. */
  missing: number;
  lateMidLog: number;
}

const ZERO_TOTALS: Totals = {
  runs: 0,
  steps: 0,
  passes: 0,
  crashedPasses: 0,
  slowReads: 0,
  replans: 0,
  replansAcrossLateFiles: 0,
  passesInsideReads: 0,
  readsStartedInsidePasses: 0,
  uploadsInsidePasses: 0,
  missing: 0,
  lateMidLog: 0,
};

class Failure extends Error {}

interface ReaderWatch {
  /** Metadata GETs: one per plan. */
  plans: number;
  /** Objects found missing. */
  missing: number;
  /** Run (once) just before the reader's next request, which waits for it. */
  beforeNextRequest: ((request: string) => Promise<void>) | undefined;
  ran: Promise<void> | undefined;
}

/** A client for one slow reader: counts its plans and the objects it found missing, and can hold a request. */
function watchedClient(watch: ReaderWatch): S3Client {
  const client = testS3Client();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const key = (args.input as { Key?: string }).Key ?? '';
      const get = context.commandName === 'GetObjectCommand';
      const hook = watch.beforeNextRequest;
      if (hook) {
        watch.beforeNextRequest = undefined;
        watch.ran = hook(`${context.commandName ?? '?'} ${short(key)}`);
        await watch.ran;
      }
      if (get && key.startsWith('metadata/')) watch.plans += 1;
      try {
        return await next(args);
      } catch (error) {
        if (get && !key.startsWith('metadata/') && isNotFound(error)) watch.missing += 1;
        throw error;
      }
    },
    { step: 'initialize', name: 'watchReader' },
  );
  return client;
}

/**
 * A client for a pass that runs `interleave` (once) just before its `k`-th request, or the
 * first one after it that is not in `window` (given the command and the key).
 */
function uploadingAt(k: number, window: (command: string, key: string) => boolean, interleave: () => Promise<void>): S3Client {
  const client = testS3Client();
  let n = 0;
  let ran = false;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      n += 1;
      if (!ran && n >= k && !window(context.commandName ?? '', (args.input as { Key?: string }).Key ?? '')) {
        ran = true;
        await interleave();
      }
      return next(args);
    },
    { step: 'initialize', name: 'interleaveUpload' },
  );
  return client;
}

async function runSteps(run: number, steps: readonly Step[], totals: Totals): Promise<void> {
  const w: World = await newWorld(`interleave-${run}`);
  const models = PODS.map((pod, i) => new PodModel(pod, 'ab'[i]!));
  const lastRead = new Map<string, Line[]>();
  /** Pods where a late raw file inserted records in the middle of the log since the last read. */
  const midLogSinceLastRead = new Set<string>();
  const slow: SlowRead[] = [];
  const trace: string[] = [];
  let nextReader = 0;
  const fail = (problem: string): never => {
    throw new Failure(`${problem}\n  steps so far:\n    ${trace.join('\n    ')}`);
  };
  const check = (problem: string | undefined, context: string): void => {
    if (problem !== undefined) fail(`${context}: ${problem}`);
  };

  /** A full read now: exactly the model's log, and a continuation of the previous full read. */
  const readNow = async (model: PodModel, what: string): Promise<void> => {
    const got = (await w.records(model.pod)).map(asLine);
    const expected = model.expected();
    if (got.length !== expected.length || got.some((r, i) => !same(r, expected[i]!))) {
      fail(`${what} of ${model.pod}:\n    got      ${show(got)}\n    expected ${show(expected)}`);
    }
    const previous = lastRead.get(model.pod);
    const context = `${what} of ${model.pod} after the previous read ${show(previous ?? [])}: ${show(got)}`;
    if (previous && midLogSinceLastRead.has(model.pod)) check(subsequence(previous, got), context);
    else if (previous) check(growsAtEnd(previous, got), context);
    lastRead.set(model.pod, got);
    midLogSinceLastRead.delete(model.pod);
  };

  /** After every pass: what its commits merged, and what it deleted (only what is due). */
  const observePasses = async (): Promise<void> => {
    const present = new Set(await w.keys());
    const now = w.now().getTime();
    for (const model of models) {
      check(model.observe(await w.metadata(model.pod)), 'after a pass');
      // No loss: a raw file is only deleted once a commit has merged it.
      const lost = model.unmerged().filter((u) => !present.has(u.key));
      if (lost.length > 0) fail(`after a pass: raw files deleted before any commit merged them: ${lost.map((u) => short(u.key)).join(', ')}`);
      const missing = model.listed.filter((key) => !present.has(key));
      if (missing.length > 0) fail(`after a pass: merged files the metadata lists are gone: ${missing.join(', ')}`);
      // Deletion waits for readers: nothing a commit made unneeded goes before the cleanup interval.
      const early = [...model.unneededSince].filter(([key, since]) => !present.has(key) && now - since < CLEANUP_INTERVAL);
      if (early.length > 0) fail(`after a pass: deleted less than the cleanup interval after the commit: ${early.map(([key, since]) => `${short(key)} (${(now - since) / 1000} s)`).join(', ')}`);
    }
  };

  const pull = async (r: SlowRead, n: number, passAfter = -1): Promise<void> => {
    const model = models[PODS.indexOf(r.pod as (typeof PODS)[number])]!;
    if (passAfter >= 0) {
      r.watch.beforeNextRequest = async (request) => {
        totals.passesInsideReads += 1;
        w.advance(passAfter);
        const { summary } = await w.pass(INTERVALS);
        trace.push(`  ${passAfter > 0 ? `advance ${passAfter / MINUTE} min, ` : ''}pass before slow read #${r.id}'s ${request}: merged ${summary.pods.merged}, deleted ${summary.objectsDeleted}`);
        if (summary.failures.length > 0) fail(`a pass failed: ${JSON.stringify(summary.failures)}`);
      };
    }
    for (let i = 0; i < n && !r.done; i++) {
      let next: IteratorResult<LogRecord>;
      try {
        next = await r.records.next();
      } catch (error) {
        fail(`slow read #${r.id} of ${r.pod} threw after ${show(r.got)}: ${String(error)}`);
      }
      if (next!.done) r.done = true;
      else r.got.push(asLine(next!.value));
    }
    // A pass held before a request: wait for it even if this pull did not need the request.
    r.watch.beforeNextRequest = undefined;
    if (r.watch.ran) {
      await r.watch.ran;
      r.watch.ran = undefined;
      await observePasses();
    }
    // Deletion waits for readers: no object it planned on goes before the cleanup interval.
    if (r.watch.missing > r.missingChecked) {
      const readFor = w.now().getTime() - r.startedAt;
      if (readFor < CLEANUP_INTERVAL) fail(`slow read #${r.id} of ${r.pod} met a deleted object after reading for only ${readFor / MINUTE} min`);
      r.missingChecked = r.watch.missing;
    }
    const now = model.expected();
    const context = `slow read #${r.id} of ${r.pod} (started with ${show(r.start)})`;
    check(duplicates(r.got), `${context}: ${show(r.got)}`);
    if (!r.midLog) {
      check(growsAtEnd(r.start.slice(0, r.got.length), r.got), `${context} strayed from what it planned: ${show(r.got)}`);
      check(growsAtEnd(r.got, now), `${context} returned ${show(r.got)}, not a beginning of the log now ${show(now)}`);
    } else {
      // A late file inserted records before its place: it skips those, keeps the order.
      check(subsequence(r.got, now), `${context} returned ${show(r.got)}, not in the order of the log now ${show(now)}`);
    }
    if (r.done) {
      // It returned at least what was there when it started, and nothing else than the log.
      if (!r.midLog) check(growsAtEnd(r.start, r.got), `${context} ended early: ${show(r.got)}`);
      else check(subsequence(r.start, r.got), `${context} lost records it planned on: ${show(r.got)}`);
      if (r.watch.plans > 1) totals.replans += 1;
      if (r.watch.plans > 1 && r.midLog) totals.replansAcrossLateFiles += 1;
      totals.missing += r.watch.missing;
      trace.push(`  #${r.id} done: ${r.got.length} records, ${r.watch.plans} plan(s), ${r.watch.missing} missing object(s)`);
      r.client.destroy();
    }
  };

  /** One raw file of `step`, as Fluent Bit uploads it. */
  const upload = async (step: Extract<Step, { kind: 'upload' }>, where: string): Promise<void> => {
    const model = models[step.pod]!;
    // A late file keyed before raw files not merged yet inserts records in the middle of the
    // log: reads before it are not prefixes of reads after it, only in the same order.
    const midLog = step.late && model.unmerged().length > 0;
    const file = model.plan(step);
    await putRaw(w.client, w.bucket, {
      pod: model.pod,
      namespace: 'jobs',
      containerId: file.containerId,
      slice: file.slice,
      index: file.index,
      lines: file.pieces.map((p) => parsedLine({ time: p.time, log: p.text, stream: p.stream, logtag: p.partial ? 'P' : 'F' })),
      gzip: file.gzip,
      separator: file.separator,
    });
    model.uploads.set(file.key, file);
    trace.push(`upload${where} ${short(file.key)}${file.gzip ? ' gzip' : ''}: ${file.pieces.map((p) => `${p.text.replace(/\n/, '⏎')}${p.stream === 'stderr' ? '(err)' : ''}`).join(' ')}`);
    if (midLog) {
      totals.lateMidLog += 1;
      midLogSinceLastRead.add(model.pod);
      for (const r of slow) if (!r.done && r.pod === model.pod) r.midLog = true;
    }
  };

  try {
    for (const step of steps) {
      totals.steps += 1;
      switch (step.kind) {
        case 'upload': {
          if (step.duringPass > 0) {
            // Inside a pass, on time: a late file the pass did not list would not be the
            // first of the raw files not merged yet, which observe() checks of a commit. A
            // read right after it, before the pass commits. Not right before the pod's lease
            // confirmation or commit (the window of the skipped test at the end): then after.
            let done = false;
            const pod = models[step.pod]!.pod;
            const window = (command: string, key: string): boolean =>
              !KNOWN_RACES && command === 'PutObjectCommand' && (key === metadataKey(pod) || key === leaseKey(pod));
            const client = uploadingAt(step.duringPass, window, async () => {
              done = true;
              totals.uploadsInsidePasses += 1;
              await observePasses();
              await upload({ ...step, late: false }, ` inside a pass, before its request ${step.duringPass}`);
              await readNow(models[step.pod]!, 'a read inside a pass');
            });
            const { summary } = await w.passWith(client, INTERVALS);
            client.destroy();
            trace.push(`pass: merged ${summary.pods.merged}, cleaned ${summary.pods.cleaned}, busy ${summary.pods.busy}, deleted ${summary.objectsDeleted}`);
            if (summary.failures.length > 0) fail(`a pass failed: ${JSON.stringify(summary.failures)}`);
            await observePasses();
            if (!done) await upload({ ...step, late: false }, ' after a pass');
          } else {
            await upload(step, '');
          }
          break;
        }

        case 'pass': {
          totals.passes += 1;
          w.advance(step.advance);
          const { summary } = await w.pass({ ...INTERVALS, maxFileSize: step.maxFileSize });
          trace.push(`${step.advance > 0 ? `advance ${step.advance / MINUTE} min, ` : ''}pass (max file ${step.maxFileSize}): merged ${summary.pods.merged}, cleaned ${summary.pods.cleaned}, busy ${summary.pods.busy}, deleted ${summary.objectsDeleted}`);
          if (summary.failures.length > 0) fail(`a pass failed: ${JSON.stringify(summary.failures)}`);
          await observePasses();
          break;
        }
        case 'crashed-pass': {
          totals.crashedPasses += 1;
          const client = crashingAt(step.atRequest, testS3Client());
          const outcome = await w.passWith(client, INTERVALS).then(
            () => 'ran to the end',
            (error: unknown) => String(error),
          );
          client.destroy();
          trace.push(`pass dying at request ${step.atRequest}: ${outcome}`);
          await observePasses();
          break;
        }
        case 'advance':
          w.advance(step.ms);
          trace.push(`advance ${step.ms / MINUTE} min`);
          break;
        case 'read':
          trace.push(`read ${PODS[step.pod]}`);
          await readNow(models[step.pod]!, 'a read');
          break;
        case 'start-slow-read': {
          if (slow.filter((r) => !r.done).length >= MAX_SLOW_READS) break;
          totals.slowReads += 1;
          const model = models[step.pod]!;
          const start = async (where: string): Promise<void> => {
            const watch: ReaderWatch = { plans: 0, missing: 0, beforeNextRequest: undefined, ran: undefined };
            const client = watchedClient(watch);
            const reader = new LogReader({ client, bucket: w.bucket, readAhead: step.readAhead });
            const r: SlowRead = {
              id: nextReader++,
              pod: model.pod,
              records: reader.records(model.pod),
              client,
              start: model.expected(),
              startedAt: w.now().getTime(),
              got: [],
              watch,
              missingChecked: 0,
              done: false,
              midLog: false,
            };
            slow.push(r);
            const merged = step.pastMerged ? model.mergedRecords() : 0;
            await pull(r, merged + step.pull);
            trace.push(`slow read #${r.id} of ${r.pod} (read-ahead ${step.readAhead}) starts${where}: ${show(r.got)}`);
          };
          if (step.duringPass === 0) {
            await start('');
            break;
          }
          // Inside a pass: the model takes in what the pass has committed so far, first.
          let started = false;
          const client = pausingAt(step.duringPass, async () => {
            started = true;
            totals.readsStartedInsidePasses += 1;
            await observePasses();
            await start(` inside a pass, before its request ${step.duringPass}`);
          }, testS3Client());
          const { summary } = await w.passWith(client, INTERVALS);
          client.destroy();
          trace.push(`pass: merged ${summary.pods.merged}, cleaned ${summary.pods.cleaned}, busy ${summary.pods.busy}, deleted ${summary.objectsDeleted}`);
          if (summary.failures.length > 0) fail(`a pass failed: ${JSON.stringify(summary.failures)}`);
          await observePasses();
          if (!started) await start(' after a pass');
          break;
        }
        case 'pull': {
          const open = slow.filter((r) => !r.done);
          const r = open[step.reader % Math.max(open.length, 1)];
          if (r === undefined) break;
          const before = r.got.length;
          await pull(r, step.pull, step.passAfter);
          trace.push(`slow read #${r.id}: ${show(r.got.slice(before))}${r.done ? ' (end)' : ''}`);
          break;
        }
      }
    }

    for (const model of models) await readNow(model, 'the read after the steps');

    // Passes until everything is merged and due (past leases, unfinished lines and the
    // cleanup interval), under the slow reads still open: they then end, and meet deleted
    // objects on the way when they had not opened them yet. The same log, and nothing left
    // in the bucket but what the metadata lists.
    for (let i = 0; i < 2; i++) {
      w.advance(HOUR);
      const { summary } = await w.pass(INTERVALS);
      trace.push(`final pass ${i + 1}: merged ${summary.pods.merged}, cleaned ${summary.pods.cleaned}, deleted ${summary.objectsDeleted}`);
      if (summary.failures.length > 0) fail(`a final pass failed: ${JSON.stringify(summary.failures)}`);
      await observePasses();
    }
    for (const r of slow.filter((s) => !s.done)) {
      while (!r.done) await pull(r, 10);
    }
    for (const model of models) await readNow(model, 'the read after the final passes');
    if (process.env['INTERLEAVINGS_DEBUG']) process.stderr.write(`run ${run}\n    ${trace.join('\n    ')}\n`);
    const left = await w.keys('kube.');
    if (left.length > 0) fail(`raw files left after the final passes: ${left.map(short).join(', ')}`);
    if ((await w.keys('cleanup/')).length > 0) fail(`cleanup queue not empty after the final passes: ${(await w.keys('cleanup/')).join(', ')}`);
    const listed = (await Promise.all(models.map(async (m) => (await w.metadata(m.pod)).logFiles.map((f) => f.key)))).flat().sort();
    const data = (await w.keys('data/')).sort();
    if (data.join('\n') !== listed.join('\n')) fail(`data/ holds [${data.join(', ')}], the metadata lists [${listed.join(', ')}]`);
  } finally {
    for (const r of slow) {
      if (!r.done) await r.records.return(undefined).catch(() => undefined);
      r.client.destroy();
    }
  }
}

// ---------------------------------------------------------------------------------------

describe('readers during passes', () => {
  it('every read returns each record once, in one order that only grows at its end, whatever runs under it', async () => {
    const totals: Totals = { ...ZERO_TOTALS };
    const env = process.env;
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 15, maxLength: 25, size: 'max' }), async (steps) => {
        totals.runs += 1;
        await runSteps(totals.runs, steps, totals);
      }),
      {
        seed: Number(env['INTERLEAVINGS_SEED'] ?? 42),
        numRuns: Number(env['INTERLEAVINGS_RUNS'] ?? 20),
        ...(env['INTERLEAVINGS_PATH'] ? { path: env['INTERLEAVINGS_PATH'] } : {}),
        // Each run talks to a real S3 server: report the first failure rather than shrink.
        endOnFailure: env['INTERLEAVINGS_SHRINK'] === undefined,
      },
    );
    if (env['INTERLEAVINGS_VERBOSE']) process.stderr.write(`interleavings: ${JSON.stringify(totals)}\n`);
    // The point of the test: slow readers did meet deleted objects and carried on.
    if (env['INTERLEAVINGS_PATH'] === undefined) expect(totals.replans).toBeGreaterThan(0);
  }, 300_000);

  it('a slow reader inside the raw files not merged yet keeps its place when late files insert records before it', async () => {
    const totals: Totals = { ...ZERO_TOTALS };
    const env = process.env;
    await fc.assert(
      fc.asyncProperty(lateUnderReaderArb, async (steps) => {
        totals.runs += 1;
        await runSteps(totals.runs, steps, totals);
      }),
      {
        seed: Number(env['INTERLEAVINGS_SEED'] ?? 42),
        numRuns: Number(env['INTERLEAVINGS_LATE_RUNS'] ?? 10),
        ...(env['INTERLEAVINGS_LATE_PATH'] ? { path: env['INTERLEAVINGS_LATE_PATH'] } : {}),
        endOnFailure: env['INTERLEAVINGS_SHRINK'] === undefined,
      },
    );
    if (env['INTERLEAVINGS_VERBOSE']) process.stderr.write(`interleavings (late files under a reader): ${JSON.stringify(totals)}\n`);
    if (env['INTERLEAVINGS_LATE_PATH'] === undefined) expect(totals.replansAcrossLateFiles).toBeGreaterThan(0);
  }, 300_000);
});

describe('a late raw file keyed before raw files not merged yet', () => {
  it('changes the log in its middle, and a slow reader that re-plans across it returns each record once', async () => {
    const w = await newWorld('late-mid-log');
    const line = (log: string, second: number): string => parsedLine({ time: `2026-11-25T10:0${second}:00.123456789Z`, log });
    const put = (slice: string, index: number, lines: string[]): Promise<string> =>
      putRaw(w.client, w.bucket, { pod: 'job-a', namespace: 'jobs', containerId: 'c0ffee', slice, index, lines });
    await put('202611251001', 8, [line('a1', 1), line('a2', 2)]);
    await put('202611251002', 9, [line('b1', 3), line('b2', 4)]);
    // One GET at a time: the reader asks for the second file only once it needs it.
    const slowReader = new LogReader({ client: w.client, bucket: w.bucket, readAhead: 0 });
    const records = slowReader.records('job-a');
    const got: string[] = [];
    for (let i = 0; i < 2; i++) got.push((await records.next()).value!.message);
    expect(got).toEqual(['a1', 'a2']);
    expect(await w.read('job-a')).toBe('a1\na2\nb1\nb2\n');

    // A node uploads its backlog late: keyed before both files, and neither is merged yet.
    await put('202611250959', 7, [line('late', 0)]);
    expect(await w.read('job-a')).toBe('late\na1\na2\nb1\nb2\n'); // not "a1 a2 b1 b2" plus more at the end
    await w.pass();
    w.advance(31 * 60_000);
    await w.pass(); // deletes the three raw files

    for (let r = await records.next(); !r.done; r = await records.next()) got.push(r.value.message);
    // Each record once: resuming by counting records alone gave a1 a2 a2 b1 b2, the log having
    // changed before the reader's place. The late record is before it: not returned.
    expect(got).toEqual(['a1', 'a2', 'b1', 'b2']);
  });
});

// Found while writing the property above: a pass decides from its snapshot that a pod is quiet
// and merges its unfinished last line as it is; if the job writes the rest of the line while
// the pass runs, committing would split a line that reads already returned joined. The pass
// now lists the pod's raw files again before such a commit and leaves the pod to the next pass
// when new ones arrived.
describe('the rest of an unfinished line uploaded while a pass merges the line as it is', () => {
  it('does not change the log in its middle, nor cut a slow reader short', async () => {
    const w = await newWorld('as-is-race');
    const put = (slice: string, index: number, line: Parameters<typeof parsedLine>[0]): Promise<string> =>
      putRaw(w.client, w.bucket, { pod: 'job-a', namespace: 'jobs', containerId: 'c0ffee', slice, index, lines: [parsedLine(line)] });
    await put('202611251001', 1, { time: '2026-11-25T10:01:00Z', log: 'first half ', logtag: 'P' });
    w.advance(31 * MINUTE); // quiet for longer than the cleanup interval
    const slowReader = new LogReader({ client: w.client, bucket: w.bucket, readAhead: 0 });
    const records = slowReader.records('job-a');
    const got: string[] = [];
    let during = '';
    // Request 8 of this pass comes right after it listed the pod's raw files and data/ objects.
    await w.passWith(
      pausingAt(8, async () => {
        await put('202611251032', 2, { time: '2026-11-25T10:32:00Z', log: 'second half' });
        await put('202611251033', 3, { time: '2026-11-25T10:33:00Z', log: 'more' });
        during = await w.read('job-a');
        got.push((await records.next()).value!.message);
      }),
    );
    expect(during).toBe('first half second half\nmore\n');
    expect(got).toEqual(['first half second half']);

    const after = await w.read('job-a');
    expect(after.startsWith('first half second half\n')).toBe(true);

    w.advance(56 * MINUTE);
    await w.pass(); // merges the other two files
    w.advance(31 * MINUTE);
    await w.pass(); // and deletes them: the reader meets a deleted object and re-plans
    for (let r = await records.next(); !r.done; r = await records.next()) got.push(r.value.message);
    expect(got).toEqual(['first half second half', 'more']);
  });
});

// What the fix above leaves: the pass lists the pod's raw files again, then confirms its lease
// and commits. The rest of the line arriving between that listing and the commit still splits
// a line that reads returned joined (S3 offers no way to make the commit conditional on a
// prefix not changing); a slow reader then fails with LogChangedError rather than returning
// the rest. Kept as a record of the window; the first property uploads there only with
// INTERLEAVINGS_KNOWN_RACES=1.
describe('the rest of an unfinished line uploaded between the pass\'s last listing and its commit', () => {
  it.skip('does not change the log in its middle either', async () => {
    const w = await newWorld('as-is-window');
    const put = (slice: string, index: number, line: Parameters<typeof parsedLine>[0]): Promise<string> =>
      putRaw(w.client, w.bucket, { pod: 'job-a', namespace: 'jobs', containerId: 'c0ffee', slice, index, lines: [parsedLine(line)] });
    await put('202611251001', 1, { time: '2026-11-25T10:01:00Z', log: 'first half ', logtag: 'P' });
    w.advance(31 * MINUTE);
    let during = '';
    // Just before the commit: the metadata PUT.
    const notTheCommit = (command: string, key: string): boolean => !(command === 'PutObjectCommand' && key === metadataKey('job-a'));
    await w.passWith(
      uploadingAt(1, notTheCommit, async () => {
        await put('202611251032', 2, { time: '2026-11-25T10:32:00Z', log: 'second half' });
        during = await w.read('job-a');
      }),
    );
    expect(during).toBe('first half second half\n');
    expect(await w.read('job-a')).toBe(during); // today: 'first half \nsecond half\n'
  });
});
