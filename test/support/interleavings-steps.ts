// The steps test/interleavings.test.ts generates: what happens to the bucket, in which order.
import fc from 'fast-check';
import type { SlowRequest } from './hooks.js';
import { MINUTE } from './world.js';

export const PODS = ['job-a', 'job-b'] as const;
export const CONTAINER_IDS = ['c0ffee', 'beef42'] as const;
export const T0 = Date.parse('2026-11-25T10:00:00Z');
/** Short intervals, so that merges and deletions come often: merge again after 10 min, delete 5 min after a commit. */
export const COMPACT_INTERVAL = 10 * MINUTE;
export const CLEANUP_INTERVAL = 5 * MINUTE;
/** A crashed pass's lease blocks its pods for this long (the default). */
export const LEASE_DURATION = 5 * MINUTE;
export const INTERVALS = {
  compactIntervalMs: COMPACT_INTERVAL,
  cleanupIntervalMs: CLEANUP_INTERVAL,
  // As short as the cleanup interval: unfinished lines end by the quiet rule as often as before it had its own setting.
  quietAfterMs: CLEANUP_INTERVAL,
  leaseDurationMs: LEASE_DURATION,
};
/**
 * The retention of passes once a run's first `expire` step ran: longer than any other single
 * clock move of a run, so that only that step's move makes a whole log old at once.
 */
export const RETENTION = 4 * 60 * MINUTE;
/** A lease shorter than a minute: a stalled holder can then be taken over in the minute it started. */
export const SHORT_LEASE = 30_000;

export type PieceKind = 'out' | 'err' | 'docker' | 'P';
export type PodIndex = 0 | 1;

export type UploadStep = Extract<Step, { kind: 'upload' }>;

/**
 * How one pass of a step runs: its max file size, its lease duration, its slow requests (the clock moves during it).
 */
export interface PassShape {
  readonly maxFileSize: number;
  readonly leaseMs: number;
  readonly jumps: readonly SlowRequest[];
}

export type Step =
  | {
      readonly kind: 'upload';
      readonly pod: PodIndex;
      /**
       * The lines of the raw file: stdout/stderr full lines, a docker-style line ending in `\n`, or a stdout `P` piece.
       */
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
  | {
      readonly kind: 'pass';
      readonly advance: number;
      readonly maxFileSize: number;
      /** A long pass: the clock moves while some of its requests are out (none: it runs within a second). */
      readonly jumps?: readonly SlowRequest[];
    }
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
  | {
      readonly kind: 'pull';
      readonly reader: number;
      readonly pull: number;
      readonly passAfter: number;
      /** Pulls on until the reader has opened its next object and returned a record after that, not `pull` records. */
      readonly untilNextFile?: boolean;
    }
  /**
   * A lease holder stalls: pass A (lease `first.leaseMs`) stops at its request `atRequest`
   * (not at a commit: see runSteps); meanwhile the clock moves by `stallMs`, raw files
   * arrive, a read may run, and pass B runs to its end (taking the pods over when A's lease
   * has expired); then A resumes and finishes. A may fail; nothing may be lost.
   */
  | {
      readonly kind: 'stalled-pass';
      readonly atRequest: number;
      readonly stallMs: number;
      readonly uploads: readonly UploadStep[];
      readonly readDuring: boolean;
      /**
       * After pass B, the clock moves past the cleanup interval and B's compactor passes again,
       * cleaning the pods it can (and taking them out of the queue) while A still stalls: what
       * A then writes under data/ is found only by a later pass's orphan sweep.
       */
      readonly bCleans: boolean;
      readonly first: PassShape;
      readonly second: PassShape;
    }
  /**
   * Retention (docs/design.md §8): from here on every pass of the run has `retentionMs`. The
   * clock moves past the retention and a pass runs: it marks the logs with nothing newer
   * (nothing to merge); reads of a marked pod fail. Then maybe a raw file of job-a (it keeps
   * the log: merged, the mark goes) and a read; then, with `deleteAfter`, the clock moves past
   * the cleanup interval and a pass deletes the marked logs.
   */
  | {
      readonly kind: 'expire';
      readonly uploadBetween: boolean;
      readonly deleteAfter: boolean;
      /**
       * > 0: a raw file of job-a arrives inside the last pass of the step, just before its
       * request of that number (after its merge, maybe before its expiry's look: it keeps the log).
       */
      readonly uploadInside: number;
    }
  /**
   * Two passes start in the same minute and take turns: A sends `turns[0]` requests, then B
   * `turns[1]`, then A `turns[2]`, …; then each runs to its end.
   */
  | {
      readonly kind: 'two-passes';
      readonly turns: readonly number[];
      readonly first: PassShape;
      readonly second: PassShape;
    };

export const oneIn = (n: number): fc.Arbitrary<boolean> => fc.integer({ min: 1, max: n }).map((i) => i === 1);
// Mostly one pod, so that its reads, merges and deletions meet; the other one runs alongside.
export const podArb = fc.constantFrom<PodIndex>(0, 0, 0, 1);

export const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('upload' as const),
      pod: podArb,
      pieces: fc.array(fc.constantFrom<PieceKind>('out', 'out', 'out', 'err', 'docker', 'P', 'P'), {
        minLength: 1,
        maxLength: 5,
      }),
      late: oneIn(6),
      gzip: oneIn(3),
      doubleUnderscore: oneIn(5),
      sameMinute: oneIn(4),
      restart: oneIn(10),
      duringPass: fc.oneof(
        { weight: 3, arbitrary: fc.constant(0) },
        { weight: 1, arbitrary: fc.integer({ min: 1, max: 40 }) },
      ),
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
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('crashed-pass' as const), atRequest: fc.integer({ min: 1, max: 45 }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('advance' as const),
      ms: fc.constantFrom(MINUTE, 4 * MINUTE, 6 * MINUTE, 11 * MINUTE, 31 * MINUTE),
    }),
  },
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
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('expire' as const),
      uploadBetween: oneIn(3),
      deleteAfter: fc.constantFrom(true, true, false),
      uploadInside: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 40 })),
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
export const lateUnderReaderArb: fc.Arbitrary<Step[]> = (() => {
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
      fc.array(
        fc.record({
          kind: fc.constant('pass' as const),
          advance: fc.constant(11 * MINUTE),
          maxFileSize: fc.constantFrom(150, 10 * 1024 * 1024),
        }),
        { maxLength: 1 },
      ),
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
          {
            weight: 1,
            arbitrary: fc.record({
              kind: fc.constant('pull' as const),
              reader: fc.constant(0),
              pull: fc.integer({ min: 1, max: 2 }),
              passAfter: fc.constant(-1),
            }),
          },
        ),
        { minLength: 1, maxLength: 4 },
      ),
    )
    .map(([before, pass, tail, read, after]) => [...before, ...pass, ...tail, read, ...after]);
})();

// ---------------------------------------------------------------------------------------
// Long passes, stalled and overlapping passes (the third property).

/**
 * How long one slow request of a pass takes: up to beyond the cleanup interval, the lease duration and the compact
 * interval.
 */
const jumpArb: fc.Arbitrary<SlowRequest> = fc.record({
  at: fc.integer({ min: 1, max: 30 }),
  ms: fc.constantFrom(30_000, 2 * MINUTE, 6 * MINUTE, 6 * MINUTE, 11 * MINUTE, 31 * MINUTE),
});
export const jumpsArb: fc.Arbitrary<SlowRequest[]> = fc.array(jumpArb, { minLength: 1, maxLength: 3 });

const passShapeArb = (
  jumps: fc.Arbitrary<readonly SlowRequest[]>,
  leaseMs = fc.constantFrom(SHORT_LEASE, LEASE_DURATION),
): fc.Arbitrary<PassShape> =>
  fc.record({
    maxFileSize: fc.constantFrom(150, 600, 10 * 1024 * 1024),
    leaseMs,
    jumps,
  });

const onTimeUploadArb = (pod: fc.Arbitrary<PodIndex>, pieces: fc.Arbitrary<PieceKind>): fc.Arbitrary<UploadStep> =>
  fc.record({
    kind: fc.constant('upload' as const),
    pod,
    pieces: fc.array(pieces, { minLength: 1, maxLength: 4 }),
    late: fc.constant(false),
    gzip: oneIn(3),
    doubleUnderscore: oneIn(5),
    sameMinute: oneIn(4),
    restart: oneIn(12),
    duringPass: fc.constant(0),
  });

/**
 * The steps of the first property, plus passes that take long (the clock moves during them),
 * lease holders that stall and resume after a takeover, and two passes started in the same
 * minute that take turns.
 */
export const longPassStepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 16, arbitrary: stepArb },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('pass' as const),
      advance: fc.constantFrom(0, 2 * MINUTE, 6 * MINUTE, 11 * MINUTE),
      maxFileSize: fc.constantFrom(150, 600, 10 * 1024 * 1024),
      jumps: jumpsArb,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('stalled-pass' as const),
      atRequest: fc.integer({ min: 1, max: 25 }),
      // Past a short lease within the minute; past the lease duration; past the compact
      // interval; past the cleanup interval by far. Or not past it: B finds the pods busy.
      stallMs: fc.constantFrom(35_000, 35_000, 35_000, 6 * MINUTE, 11 * MINUTE, 31 * MINUTE, 2 * MINUTE),
      uploads: fc.array(onTimeUploadArb(podArb, fc.constantFrom<PieceKind>('out', 'out', 'err', 'docker', 'P')), {
        maxLength: 2,
      }),
      readDuring: fc.boolean(),
      bCleans: oneIn(3),
      // Mostly a lease shorter than a minute: B can then take A's pods over in A's minute.
      first: passShapeArb(
        fc.oneof({ weight: 3, arbitrary: fc.constant<SlowRequest[]>([]) }, { weight: 1, arbitrary: jumpsArb }),
        fc.constantFrom(SHORT_LEASE, SHORT_LEASE, SHORT_LEASE, LEASE_DURATION),
      ),
      second: passShapeArb(
        fc.oneof({ weight: 3, arbitrary: fc.constant<SlowRequest[]>([]) }, { weight: 1, arbitrary: jumpsArb }),
      ),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('two-passes' as const),
      turns: fc.array(fc.integer({ min: 1, max: 25 }), { minLength: 1, maxLength: 4 }),
      first: passShapeArb(
        fc.oneof({ weight: 2, arbitrary: fc.constant<SlowRequest[]>([]) }, { weight: 1, arbitrary: jumpsArb }),
      ),
      second: passShapeArb(
        fc.oneof({ weight: 2, arbitrary: fc.constant<SlowRequest[]>([]) }, { weight: 1, arbitrary: jumpsArb }),
      ),
    }),
  },
);

/**
 * A read that runs for longer than many cleanup intervals, re-planning each time with
 * progress in between, more often than the reader's `maxReplans` (5). Raw files, then a
 * slow read (one GET at a time) starts; then cycles: a pass merges what it had not (and
 * continues the last merged file, retiring it), a second pass a cleanup interval later
 * deletes what the first made unneeded, new raw files arrive, and the reader pulls on until
 * it opens its next object: the one it planned on is gone by then (a raw file merged since,
 * or the merged file it was to read next), so it re-plans and carries on from its place.
 * Some passes are long ones.
 */
export const longReadArb: fc.Arbitrary<Step[]> = (() => {
  const upload = onTimeUploadArb(
    fc.constant<PodIndex>(0),
    fc.constantFrom<PieceKind>('out', 'out', 'err', 'docker', 'P'),
  );
  const pass = (advance: number): fc.Arbitrary<Step> =>
    fc.record({
      kind: fc.constant('pass' as const),
      advance: fc.constant(advance),
      maxFileSize: fc.constantFrom(600, 10 * 1024 * 1024, 10 * 1024 * 1024),
      jumps: fc.oneof({ weight: 3, arbitrary: fc.constant<SlowRequest[]>([]) }, { weight: 1, arbitrary: jumpsArb }),
    });
  const pullOn: fc.Arbitrary<Step> = fc.record({
    kind: fc.constant('pull' as const),
    reader: fc.constant(0),
    pull: fc.constant(1),
    passAfter: fc.constant(-1),
    untilNextFile: fc.constant(true),
  });
  const cycle = fc
    .tuple(pass(11 * MINUTE), pass(6 * MINUTE), fc.array(upload, { minLength: 1, maxLength: 2 }), pullOn)
    .map(([merge, clean, uploads, pull]) => [merge, clean, ...uploads, pull]);
  return fc
    .tuple(
      fc.array(upload, { minLength: 2, maxLength: 4 }),
      fc.record({
        kind: fc.constant('start-slow-read' as const),
        pod: fc.constant<PodIndex>(0),
        readAhead: fc.constant(0),
        pull: fc.constant(1),
        pastMerged: fc.constant(false),
        duringPass: fc.constant(0),
      }),
      fc.array(cycle, { minLength: 7, maxLength: 9 }),
    )
    .map(([before, read, cycles]) => [...before, read, ...cycles.flat()]);
})();
