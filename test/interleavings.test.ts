// Readers during passes (DESIGN §6), as properties: fast-check drives random interleavings of
// Fluent Bit uploads (late-keyed, gzip, `__` keys, container restarts, lines split into P/F
// pieces across uploads; some made inside a pass), passes (some cut off at a random request),
// clock moves across the (short) compact and cleanup intervals and the lease duration,
// immediate reads (some inside a pass), and slow reads started at random points (some inside
// a pass) and pulled a few records at a time while passes merge and delete under them (some
// passes run between two of a reader's requests). The third property adds what fast tests
// alone never see: passes that take long (the clock moves while some of their requests are
// out: a big pod, a slow store), lease holders that stall and resume after another pass took
// their pods over (in the minute they started, with a lease shorter than a minute), and two
// passes started in the same minute that take turns request by request. The fourth: reads
// that run for longer than many cleanup intervals and re-plan more often than the reader's
// `maxReplans`, each time after returning more. Checked against a model of the log (the raw
// files uploaded, and the batches the commits merged, as the passes' own requests show them):
//   - every read returns each record exactly once, in the merge order: the merged batches,
//     then the raw files not merged yet in raw-file order, P…F pieces joined;
//   - the sequence only grows at its end: a read is a prefix of any read after it (but for
//     its last line, when that line was unfinished then: DESIGN §6 lets pieces that arrived
//     since complete it, and lines of the other stream may now come before it). A late raw
//     file keyed before raw files not merged yet inserts records in the middle of the log:
//     across one, reads keep their records and order, not their positions;
//   - a slow reader returns what the bucket held when it started, then perhaps more, never a
//     record twice nor a gap, whatever was merged and deleted under it; it only meets a
//     deleted object a cleanup interval after it planned on it, and then carries on (the
//     runs also check that such re-plans did happen);
//   - a commit merges the first raw files not merged yet, in order; nothing unmerged nor
//     listed is ever deleted; nothing a commit made unneeded is deleted before the cleanup
//     interval has passed since that commit was written — the test clock when its metadata
//     PUT went out, seen in the pass's request stream, not the times the compactor wrote
//     (DESIGN §5) — nor since the time the commit says; at the end, passes leave the bucket
//     tidy. A pass that stalled or overlapped another may fail or find pods busy: its log
//     must not suffer for it.
// The second property lines up what the first rarely does: late files inserting records
// before the place of a slow reader already inside the raw files not merged yet. Then
// deterministic cases: a late file under a slow reader; the rest of an unfinished line
// arriving while a pass merges the line as it is; and the same between the pass's last
// listing and its commit, a window the properties keep out of (the known race at the end,
// `it.failing`; INTERLEAVINGS_KNOWN_RACES=1 lets the properties upload there).
//
// Deterministic but for the order of a pass's concurrent requests (and the real milliseconds
// that the clock also moves by): fixed seed and no sleeps (the clock moves). A failure that
// depends on those may not replay from its seed and path; its message lists the run's steps.
// `make test` runs the default seed (42) and sizes; `make test-long` runs every property with
// a fresh seed it prints first, FC_RUNS runs in all (default 1000).
// Environment:
//   FC_SEED=<n>            the seed (INTERLEAVINGS_SEED too); default 42
//   FC_RUNS=<n>            runs in all, shared by the four properties (their `share` below)
//   INTERLEAVINGS_RUNS, _LATE_RUNS, _LONG_RUNS, _READS_RUNS   one property's runs
//   INTERLEAVINGS_PATH, _LATE_PATH, _LONG_PATH, _READS_PATH   replay one counterexample
//   FC_SHRINK=1            shrink a failure (INTERLEAVINGS_SHRINK too; each run talks to a
//                          real S3 server, so by default the first failure is reported as is)
//   FC_TIME_LIMIT=<s>      stop each property (search or shrinking) after that long
//   INTERLEAVINGS_VERBOSE=1 prints counts, INTERLEAVINGS_DEBUG=1 each run's steps.
// A failure prints the line that replays it, e.g.
//   FC_SEED=… INTERLEAVINGS_LONG_PATH=… S3_TEST_SERVER=moto npx jest test/interleavings.test.ts -t 'the same when passes take long'
import fc from 'fast-check';
import type { S3Client } from '@aws-sdk/client-s3';
import {
  LogReader,
  decodeMetadata,
  formatSlice,
  isNotFound,
  leaseKey,
  metadataKey,
  readMetadataText,
  type LogRecord,
} from '@platform/log-reader';
import { parsedLine, putRaw } from '@platform/testkit';
import type { Config, PassSummary } from 'compactor';
import { crashingAt, observing, pausingAt, slowRequests, stallingAt, takingTurns, type SlowRequest } from './support/hooks.js';
import {
  PodModel,
  asLine,
  duplicates,
  growsAtEnd,
  same,
  short,
  show,
  subsequence,
  type Line,
} from './support/interleavings-model.js';
import {
  CLEANUP_INTERVAL,
  INTERVALS,
  PODS,
  lateUnderReaderArb,
  longPassStepArb,
  longReadArb,
  stepArb,
  type PassShape,
  type Step,
  type UploadStep,
} from './support/interleavings-steps.js';
import { testS3Client } from './support/s3.js';
import { HOUR, MINUTE, newWorld, type World } from './support/world.js';

const MAX_SLOW_READS = 3;
/** Also upload inside the window the known race at the end shows. */
const KNOWN_RACES = process.env['INTERLEAVINGS_KNOWN_RACES'] !== undefined;

function outcome(summary: PassSummary): string {
  const failed = summary.failures.length > 0 ? `, failed ${summary.failures.map((f) => `${f.pod}: ${f.error}`).join('; ')}` : '';
  return `merged ${summary.pods.merged}, cleaned ${summary.pods.cleaned}, busy ${summary.pods.busy}, deleted ${summary.objectsDeleted}${failed}`;
}

function showJumps(jumps: readonly SlowRequest[]): string {
  return jumps.map((j) => `#${j.at} +${j.ms / 1000} s`).join(', ');
}

function showShape(shape: PassShape): string {
  return `max file ${shape.maxFileSize}, lease ${shape.leaseMs / 1000} s${shape.jumps.length > 0 ? `, slow requests ${showJumps(shape.jumps)}` : ''}`;
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
  /** Passes during which the clock moved (some of their requests took minutes). */
  longPasses: number;
  /** Passes that stalled while another pass ran, and of those, the ones whose pods the other took over (it merged or cleaned them). */
  stalledPasses: number;
  takeovers: number;
  /** Takeovers in the minute the stalled pass started. */
  takeoversInTheSameMinute: number;
  /** Pairs of passes started in the same minute that took turns. */
  overlappingPasses: number;
  /** Pods reported failed by a stalled or overlapping pass (allowed: the log is checked instead). */
  failuresAllowed: number;
  /** Slow reads that re-planned more often than the reader's `maxReplans` (5), each time after returning more records. */
  readsPastMaxReplans: number;
  /** The most re-plans with progress in between that one read made. */
  mostReplans: number;
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
  longPasses: 0,
  stalledPasses: 0,
  takeovers: 0,
  takeoversInTheSameMinute: 0,
  overlappingPasses: 0,
  failuresAllowed: 0,
  readsPastMaxReplans: 0,
  mostReplans: 0,
};

class Failure extends Error {}

interface ReaderWatch {
  /** Metadata GETs: one per plan. */
  plans: number;
  /** Records the read had returned at each plan. */
  returnedAtPlans: number[];
  /** Records the read has returned (kept up to date by pull()). */
  returned: number;
  /** GETs of objects other than the metadata (with no read-ahead: the objects it opened). */
  gets: number;
  /** Objects found missing. */
  missing: number;
  /** The clock at the last plan's metadata GET. */
  plannedAt: number;
  /** For each object found missing: how long after the plan that listed it (ms). */
  missingAfterPlan: number[];
  /** Run (once) just before the reader's next request, which waits for it. */
  beforeNextRequest: ((request: string) => Promise<void>) | undefined;
  ran: Promise<void> | undefined;
}

/** A client for one slow reader: counts its plans and the objects it found missing, and can hold a request. */
function watchedClient(watch: ReaderWatch, clock: () => number): S3Client {
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
      if (get && key.startsWith('metadata/')) {
        watch.plans += 1;
        watch.plannedAt = clock();
        watch.returnedAtPlans.push(watch.returned);
      } else if (get) {
        watch.gets += 1;
      }
      // The plan this GET belongs to (a GET opened ahead may come back after a re-plan).
      const plannedAt = watch.plannedAt;
      try {
        return await next(args);
      } catch (error) {
        if (get && !key.startsWith('metadata/') && isNotFound(error)) {
          watch.missing += 1;
          watch.missingAfterPlan.push(clock() - plannedAt);
        }
        throw error;
      }
    },
    { step: 'initialize', name: 'watchReader' },
  );
  return client;
}

/**
 * A client for a pass that runs `interleave` (once) just before its `k`-th request, or the
 * first one after it that is not in `window` (given the command and the key, or the prefix
 * of a listing).
 */
function uploadingAt(k: number, window: (command: string, key: string) => boolean, interleave: (request: string) => Promise<void>, client: S3Client = testS3Client()): S3Client {
  let n = 0;
  let ran = false;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      n += 1;
      const input = args.input as { Key?: string; Prefix?: string };
      const key = input.Key ?? input.Prefix ?? '';
      if (!ran && n >= k && !window(context.commandName ?? '', key)) {
        ran = true;
        await interleave(`${n} (${context.commandName ?? '?'} ${short(key)})`);
      }
      return next(args);
    },
    { step: 'initialize', name: 'interleaveUpload' },
  );
  return client;
}

async function runSteps(run: number, steps: readonly Step[], totals: Totals): Promise<void> {
  const w: World = await newWorld(`interleave-${run}`);
  // The clock at the start of a minute (and a second): what "the same minute" is then depends
  // on the steps, not on when the run happens to start.
  w.advance(MINUTE - (w.now().getTime() % MINUTE) + 1000);
  const startedAt = w.now().getTime();
  const at = (ms: number): string => `${((ms - startedAt) / 1000).toFixed(1)} s`;
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
  /**
   * A failure inside a pass's request hook would only fail the pass's pod: kept here and
   * thrown once the pass has ended.
   */
  let hookFailure: unknown;
  const inHook = async (work: () => Promise<void>): Promise<void> => {
    try {
      await work();
    } catch (error) {
      hookFailure ??= error;
    }
  };
  const rethrowHookFailure = (): void => {
    if (hookFailure !== undefined) throw hookFailure;
  };

  // What the passes' request streams show (every pass's client has this hook): each commit
  // as it reaches the store, at the clock of that moment, and each delete as it goes out.
  // Not what the compactor says in the metadata: its timestamps are what is checked.
  const problems: string[] = [];
  /** Each pod's commits, in the order they reached the store. */
  const commits = new Map<string, string[]>(PODS.map((pod) => [pod, []]));
  const checkDelete = (key: string, now: number): void => {
    for (const model of models) {
      const committed = model.committedAt.get(key);
      if (committed !== undefined) {
        // Deletion waits for readers: a cleanup interval from the moment the commit that made
        // it unneeded was written (DESIGN §5), not from the time that commit says.
        if (now - committed < CLEANUP_INTERVAL) {
          const stamped = model.unneededSince.get(key) ?? committed;
          problems.push(
            `${short(key)} deleted ${(now - committed) / 1000} s after the commit that made it unneeded was written ` +
              `(at ${at(committed)}; the commit says ${at(stamped)}), less than the cleanup interval (${CLEANUP_INTERVAL / 1000} s)`,
          );
        }
        return;
      }
      if (model.uploads.has(key)) problems.push(`raw file ${short(key)} deleted though no commit merged it`);
      if (model.listed.includes(key)) problems.push(`merged file ${key} deleted while the metadata lists it`);
    }
  };
  const watchPass = (client: S3Client): S3Client =>
    observing((command, input) => {
      const now = w.now().getTime();
      const key = typeof input['Key'] === 'string' ? input['Key'] : '';
      if (command === 'PutObjectCommand' && key.startsWith('metadata/')) {
        const model = models.find((m) => metadataKey(m.pod) === key);
        const body = input['Body'];
        const text = typeof body === 'string' ? body : body instanceof Uint8Array ? Buffer.from(body).toString('utf8') : undefined;
        if (model === undefined) return undefined;
        if (text === undefined) {
          problems.push(`a commit of ${model.pod} whose body the test cannot see`);
          return undefined;
        }
        return (ok) => {
          if (!ok) return;
          commits.get(model.pod)!.push(text);
          // Nothing thrown here may reach the pass (it would fail its pod, not the test).
          try {
            const meta = decodeMetadata(key, text);
            const fresh = (meta.mergedRawFiles ?? []).filter((f) => !model.merged.has(f.key)).map((f) => short(f.key));
            trace.push(`    commit of ${model.pod} at ${at(now)}: lists ${meta.logFiles.length} merged file(s)${fresh.length > 0 ? `, merged ${fresh.join(' ')}` : ''}`);
            const problem = model.observe(meta, now);
            if (problem !== undefined) problems.push(`a commit at ${at(now)}: ${problem}`);
          } catch (error) {
            problems.push(`a commit at ${at(now)} the model could not take in: ${String(error)}`);
          }
        };
      }
      if (command === 'DeleteObjectsCommand') {
        const objects = (input['Delete'] as { Objects?: { Key?: string }[] } | undefined)?.Objects ?? [];
        for (const o of objects) checkDelete(o.Key ?? '', now);
      } else if (command === 'DeleteObjectCommand') {
        checkDelete(key, now);
      }
      return undefined;
    }, client);
  watchPass(w.client);

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

  /**
   * After every pass: the problems its commits and deletes showed; and what is in the bucket
   * now (the metadata is the last commit seen; nothing unmerged or listed is gone).
   */
  const observePasses = async (): Promise<void> => {
    if (problems.length > 0) fail(`during a pass: ${problems.join('; ')}`);
    // What the model knew before the listing (a pass may commit meanwhile): all of it must
    // be in the listing, whatever the pass does next.
    const known = models.map((m) => ({ unmerged: m.unmerged(), listed: [...m.listed], unneeded: [...m.unneededSince] }));
    const present = new Set(await w.keys());
    const now = w.now().getTime();
    for (const [i, model] of models.entries()) {
      // A pass may still be running (this is called from inside one): a commit may land
      // while the metadata is read. It must be the last commit seen before the read or one
      // seen since.
      const seen = commits.get(model.pod)!;
      const before = seen.length;
      const stored = await readMetadataText({ client: w.client, bucket: w.bucket }, model.pod);
      const possible = seen.slice(Math.max(0, before - 1));
      const committed = stored === undefined ? before === 0 : possible.includes(stored.text);
      if (!committed) fail(`after a pass: ${metadataKey(model.pod)} is not the last commit the passes' requests showed: ${stored?.text ?? 'none'}`);
      // No loss: a raw file is only deleted once a commit has merged it.
      const { unmerged, listed, unneeded } = known[i]!;
      const lost = unmerged.filter((u) => !present.has(u.key));
      if (lost.length > 0) fail(`after a pass: raw files deleted before any commit merged them: ${lost.map((u) => short(u.key)).join(', ')}`);
      const missing = listed.filter((key) => !present.has(key));
      if (missing.length > 0) fail(`after a pass: merged files the metadata lists are gone: ${missing.join(', ')}`);
      // Deletion waits for readers: nothing a commit made unneeded goes before the cleanup interval.
      const early = unneeded.filter(([key, since]) => !present.has(key) && now - since < CLEANUP_INTERVAL);
      if (early.length > 0) fail(`after a pass: deleted less than the cleanup interval after the commit: ${early.map(([key, since]) => `${short(key)} (${(now - since) / 1000} s)`).join(', ')}`);
    }
  };

  const pull = async (r: SlowRead, n: number, passAfter = -1, untilNextFile = false): Promise<void> => {
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
    const gets = r.watch.gets;
    for (let i = 0; i < (untilNextFile ? 10_000 : n) && !r.done; i++) {
      let next: IteratorResult<LogRecord>;
      try {
        next = await r.records.next();
      } catch (error) {
        const plans = r.watch.returnedAtPlans.join(', ');
        fail(`slow read #${r.id} of ${r.pod} threw after ${show(r.got)} (${r.watch.plans} plans, after ${plans} records): ${String(error)}`);
      }
      if (next!.done) r.done = true;
      else r.got.push(asLine(next!.value));
      r.watch.returned = r.got.length;
      if (untilNextFile && r.watch.gets > gets) break;
    }
    // A pass held before a request: wait for it even if this pull did not need the request.
    r.watch.beforeNextRequest = undefined;
    if (r.watch.ran) {
      await r.watch.ran;
      r.watch.ran = undefined;
      await observePasses();
    }
    // Deletion waits for readers: no object it planned on goes before the cleanup interval,
    // counted from when it planned.
    if (r.watch.missing > r.missingChecked) {
      const readFor = w.now().getTime() - r.startedAt;
      if (readFor < CLEANUP_INTERVAL) fail(`slow read #${r.id} of ${r.pod} met a deleted object after reading for only ${readFor / MINUTE} min`);
      const soon = r.watch.missingAfterPlan.slice(r.missingChecked).filter((ms) => ms < CLEANUP_INTERVAL);
      if (soon.length > 0) fail(`slow read #${r.id} of ${r.pod} met a deleted object ${soon[0]! / 1000} s after it planned on it`);
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
      const progressing = r.watch.returnedAtPlans.filter((returned, i) => i > 0 && returned > r.watch.returnedAtPlans[i - 1]!).length;
      if (progressing > 5) totals.readsPastMaxReplans += 1;
      totals.mostReplans = Math.max(totals.mostReplans, progressing);
      if (r.watch.plans > 1 && r.midLog) totals.replansAcrossLateFiles += 1;
      totals.missing += r.watch.missing;
      trace.push(`  #${r.id} done: ${r.got.length} records, ${r.watch.plans} plan(s) (after ${r.watch.returnedAtPlans.join(', ')} records), ${r.watch.missing} missing object(s)`);
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

  /** A client for a pass whose requests the model watches; `jumps`: some of them take long (the clock moves). */
  const passClient = (jumps: readonly SlowRequest[]): S3Client => watchPass(slowRequests(jumps, (ms) => w.advance(ms)));
  const passConfig = (shape: PassShape): Partial<Config> => ({ ...INTERVALS, maxFileSize: shape.maxFileSize, leaseDurationMs: shape.leaseMs });

  try {
    for (const step of steps) {
      totals.steps += 1;
      switch (step.kind) {
        case 'upload': {
          if (step.duringPass > 0) {
            // Inside a pass, on time: a late file the pass did not list would not be the
            // first of the raw files not merged yet, which observe() checks of a commit. A
            // read right after it, before the pass commits. Not while the pod is between its
            // last listing and its commit (the window of the known race at the end): so only
            // at one of the pod's own requests (the other pod's run alongside, and may come
            // while this one is in its window), and not at its lease confirmation or commit.
            let done = false;
            const pod = models[step.pod]!.pod;
            const window = (command: string, key: string): boolean =>
              !KNOWN_RACES && (!key.includes(pod) || (command === 'PutObjectCommand' && (key === metadataKey(pod) || key === leaseKey(pod))));
            const client = uploadingAt(step.duringPass, window, (request) =>
              inHook(async () => {
                done = true;
                totals.uploadsInsidePasses += 1;
                await observePasses();
                await upload({ ...step, late: false }, ` inside a pass, before its request ${request}`);
                await readNow(models[step.pod]!, 'a read inside a pass');
              }),
              watchPass(testS3Client()),
            );
            const { summary } = await w.passWith(client, INTERVALS);
            client.destroy();
            rethrowHookFailure();
            trace.push(`pass: ${outcome(summary)}`);
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
          const jumps = step.jumps ?? [];
          const before = w.now().getTime();
          let summary: PassSummary;
          if (jumps.length === 0) {
            summary = (await w.pass({ ...INTERVALS, maxFileSize: step.maxFileSize })).summary;
          } else {
            const client = passClient(jumps);
            summary = (await w.passWith(client, { ...INTERVALS, maxFileSize: step.maxFileSize })).summary;
            client.destroy();
          }
          const took = w.now().getTime() - before;
          if (took >= 30_000) totals.longPasses += 1;
          trace.push(
            `${step.advance > 0 ? `advance ${step.advance / MINUTE} min, ` : ''}pass (max file ${step.maxFileSize}` +
              `${jumps.length > 0 ? `, slow requests ${showJumps(jumps)}: took ${took / 1000} s` : ''}): ${outcome(summary)}`,
          );
          if (summary.failures.length > 0) fail(`a pass failed: ${JSON.stringify(summary.failures)}`);
          await observePasses();
          break;
        }
        case 'crashed-pass': {
          totals.crashedPasses += 1;
          const client = crashingAt(step.atRequest, watchPass(testS3Client()));
          const result = await w.passWith(client, INTERVALS).then(
            () => 'ran to the end',
            (error: unknown) => String(error),
          );
          client.destroy();
          trace.push(`pass dying at request ${step.atRequest}: ${result}`);
          await observePasses();
          break;
        }
        case 'stalled-pass': {
          // Pass A stalls before a request; B runs meanwhile. Not right before a commit: a
          // process paused between reading the clock for a commit and writing it would write
          // a commit time older than the commit, which no compactor can prevent. Uploads
          // during the stall wait for A's end unless the stall outlasts A's lease: A may
          // then be between a pod's last listing and its commit (the window of the known
          // race at the end), but B takes every pod with raw files over, so A commits none.
          totals.stalledPasses += 1;
          const aStart = w.now();
          let bStart: Date | undefined;
          let stalledAt = '';
          let uploadsAfter: readonly UploadStep[] = [];
          let bSummary: PassSummary | undefined;
          const isCommit = (command: string, key: string): boolean => command === 'PutObjectCommand' && key.startsWith('metadata/');
          const during = (request: string): Promise<void> =>
            inHook(async () => {
              stalledAt = request;
              await observePasses();
              w.advance(step.stallMs);
              const inWindow = !KNOWN_RACES && step.stallMs <= step.first.leaseMs;
              uploadsAfter = inWindow ? step.uploads : [];
              if (!inWindow) for (const u of step.uploads) await upload(u, ' while pass A stalls');
              if (step.readDuring) await readNow(models[0]!, 'a read while pass A stalls');
              bStart = w.now();
              const client = passClient(step.second.jumps);
              bSummary = (await w.passWith(client, passConfig(step.second))).summary;
              client.destroy();
              trace.push(`  while pass A stalls: ${step.stallMs / 1000} s later, pass B (${showShape(step.second)}): ${outcome(bSummary)}`);
              if (bSummary.failures.length > 0) fail(`pass B failed: ${JSON.stringify(bSummary.failures)}`);
              await observePasses();
            });
          const client = stallingAt(step.atRequest, during, { skip: isCommit, client: passClient(step.first.jumps) });
          const a = await w.passWith(client, passConfig(step.first)).then(
            ({ summary }) => summary,
            (error: unknown) => String(error),
          );
          client.destroy();
          rethrowHookFailure();
          const took = bSummary === undefined ? 'did not stall (fewer requests)' : `stalled before its request ${step.atRequest} (${stalledAt})`;
          trace.push(`pass A (${showShape(step.first)}) ${took}: ${typeof a === 'string' ? a : outcome(a)}`);
          if (typeof a !== 'string') totals.failuresAllowed += a.failures.length;
          if (bSummary !== undefined && bSummary.pods.merged + bSummary.pods.cleaned > 0 && typeof a !== 'string' && (a.pods.busy > 0 || a.failures.length > 0)) {
            totals.takeovers += 1;
            if (bStart !== undefined && formatSlice(bStart) === formatSlice(aStart)) totals.takeoversInTheSameMinute += 1;
          }
          await observePasses();
          for (const model of models) await readNow(model, 'a read after a stalled pass');
          for (const u of uploadsAfter) await upload(u, ' after pass A');
          for (const u of bSummary === undefined ? step.uploads : []) await upload(u, ' after pass A');
          break;
        }
        case 'two-passes': {
          totals.overlappingPasses += 1;
          const turns = takingTurns(step.turns, [passClient(step.first.jumps), passClient(step.second.jumps)]);
          const run = (i: 0 | 1, shape: PassShape): Promise<PassSummary | string> =>
            w
              .passWith(turns.clients[i], passConfig(shape))
              .then(({ summary }) => summary, (error: unknown) => String(error))
              .finally(() => turns.finished(i));
          const [a, b] = await Promise.all([run(0, step.first), run(1, step.second)]);
          for (const c of turns.clients) c.destroy();
          for (const [name, result, shape] of [['A', a, step.first], ['B', b, step.second]] as const) {
            trace.push(`${name === 'A' ? `two passes in the same minute, taking turns ${step.turns.join(', ')}: ` : '  '}pass ${name} (${showShape(shape)}): ${typeof result === 'string' ? result : outcome(result)}`);
            if (typeof result !== 'string') totals.failuresAllowed += result.failures.length;
          }
          await observePasses();
          for (const model of models) await readNow(model, 'a read after two passes');
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
            const watch: ReaderWatch = {
              plans: 0,
              returnedAtPlans: [],
              returned: 0,
              gets: 0,
              missing: 0,
              plannedAt: w.now().getTime(),
              missingAfterPlan: [],
              beforeNextRequest: undefined,
              ran: undefined,
            };
            const client = watchedClient(watch, () => w.now().getTime());
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
          // Inside a pass.
          let started = false;
          const client = pausingAt(step.duringPass, () =>
            inHook(async () => {
              started = true;
              totals.readsStartedInsidePasses += 1;
              await observePasses();
              await start(` inside a pass, before its request ${step.duringPass}`);
            }),
            watchPass(testS3Client()),
          );
          const { summary } = await w.passWith(client, INTERVALS);
          client.destroy();
          rethrowHookFailure();
          trace.push(`pass: ${outcome(summary)}`);
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
          const plans = r.watch.plans;
          await pull(r, step.pull, step.passAfter, step.untilNextFile ?? false);
          const replanned = r.watch.plans > plans ? ` (re-planned: plan ${r.watch.plans})` : '';
          trace.push(`slow read #${r.id}${step.untilNextFile ? ', on to its next object' : ''}: ${show(r.got.slice(before))}${replanned}${r.done ? ' (end)' : ''}`);
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
// The properties.

const ENV = process.env;
const SEED = Number(ENV['FC_SEED'] ?? ENV['INTERLEAVINGS_SEED'] ?? 42);
const SHRINK = (ENV['FC_SHRINK'] ?? ENV['INTERLEAVINGS_SHRINK']) !== undefined;
const TOTAL_RUNS = ENV['FC_RUNS'] === undefined ? undefined : Number(ENV['FC_RUNS']);
/** Each run talks to a real S3 server: about this long at most, on a slow machine. */
const MS_PER_RUN = 20_000;

interface PropertySettings {
  /** The test's name, for `jest -t`. */
  readonly name: string;
  readonly runsVariable: string;
  readonly pathVariable: string;
  /** Runs in `make test`. */
  readonly defaultRuns: number;
  /** Its share of FC_RUNS. */
  readonly share: number;
}

const MAIN: PropertySettings = {
  name: 'every read returns each record once, in one order that only grows at its end, whatever runs under it',
  runsVariable: 'INTERLEAVINGS_RUNS',
  pathVariable: 'INTERLEAVINGS_PATH',
  defaultRuns: 20,
  share: 0.3,
};
const LATE: PropertySettings = {
  name: 'a slow reader inside the raw files not merged yet keeps its place when late files insert records before it',
  runsVariable: 'INTERLEAVINGS_LATE_RUNS',
  pathVariable: 'INTERLEAVINGS_LATE_PATH',
  defaultRuns: 10,
  share: 0.1,
};
const LONG: PropertySettings = {
  name: 'the same when passes take long, stall past their lease, or start in the same minute',
  runsVariable: 'INTERLEAVINGS_LONG_RUNS',
  pathVariable: 'INTERLEAVINGS_LONG_PATH',
  defaultRuns: 2,
  share: 0.45,
};
const READS: PropertySettings = {
  name: 'a read that outlasts many cleanup intervals re-plans as often as it must and returns each record once',
  runsVariable: 'INTERLEAVINGS_READS_RUNS',
  pathVariable: 'INTERLEAVINGS_READS_PATH',
  defaultRuns: 1,
  share: 0.15,
};

function runsOf(p: PropertySettings): number {
  const own = ENV[p.runsVariable];
  if (own !== undefined) return Number(own);
  return TOTAL_RUNS === undefined ? p.defaultRuns : Math.max(1, Math.round(TOTAL_RUNS * p.share));
}

function timeoutOf(p: PropertySettings): number {
  return Math.max(300_000, runsOf(p) * MS_PER_RUN * (SHRINK ? 3 : 1));
}

/** Runs one property; a failure says how to replay it. */
async function checkProperty(p: PropertySettings, arb: fc.Arbitrary<readonly Step[]>, totals: Totals): Promise<void> {
  const path = ENV[p.pathVariable];
  const started = Date.now();
  const details = await fc.check(
    fc.asyncProperty(arb, async (steps) => {
      totals.runs += 1;
      if (ENV['INTERLEAVINGS_VERBOSE'] && totals.runs % 50 === 0) {
        process.stderr.write(`interleavings (${p.pathVariable}): run ${totals.runs} of ${runsOf(p)} after ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
      }
      await runSteps(totals.runs, steps, totals);
    }),
    {
      seed: SEED,
      numRuns: runsOf(p),
      ...(path !== undefined ? { path } : {}),
      endOnFailure: !SHRINK,
      ...(ENV['FC_TIME_LIMIT'] !== undefined ? { interruptAfterTimeLimit: Number(ENV['FC_TIME_LIMIT']) * 1000 } : {}),
    },
  );
  const took = `${((Date.now() - started) / 1000).toFixed(0)} s`;
  if (details.interrupted) process.stderr.write(`interleavings (${p.pathVariable}): stopped by FC_TIME_LIMIT after ${details.numRuns} run(s), ${details.numShrinks} shrink(s)\n`);
  if (ENV['INTERLEAVINGS_VERBOSE']) process.stderr.write(`interleavings (${p.pathVariable}): ${took}, ${JSON.stringify(totals)}\n`);
  if (details.failed) {
    const error = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    throw new Error(
      `property failed at run ${totals.runs} of ${runsOf(p)} (${took}; seed ${details.seed}, path "${details.counterexamplePath}"` +
        `${SHRINK ? `, shrunk ${details.numShrinks} time(s)` : ', not shrunk'}); replay with\n` +
        `  FC_SEED=${details.seed} ${p.pathVariable}='${details.counterexamplePath}' S3_TEST_SERVER=moto npx jest test/interleavings.test.ts -t '${p.name}'\n` +
        `(FC_SHRINK=1 to shrink it)\n${error}`,
    );
  }
}

describe('readers during passes', () => {
  it(MAIN.name, async () => {
    const totals: Totals = { ...ZERO_TOTALS };
    await checkProperty(MAIN, fc.array(stepArb, { minLength: 15, maxLength: 25, size: 'max' }), totals);
    // The point of the test: slow readers did meet deleted objects and carried on.
    if (ENV[MAIN.pathVariable] === undefined) expect(totals.replans).toBeGreaterThan(0);
  }, timeoutOf(MAIN));

  it(LATE.name, async () => {
    const totals: Totals = { ...ZERO_TOTALS };
    await checkProperty(LATE, lateUnderReaderArb, totals);
    if (ENV[LATE.pathVariable] === undefined) expect(totals.replansAcrossLateFiles).toBeGreaterThan(0);
  }, timeoutOf(LATE));

  it(LONG.name, async () => {
    const totals: Totals = { ...ZERO_TOTALS };
    await checkProperty(LONG, fc.array(longPassStepArb, { minLength: 15, maxLength: 25, size: 'max' }), totals);
    if (ENV[LONG.pathVariable] === undefined) {
      expect(totals.longPasses).toBeGreaterThan(0);
      expect(totals.stalledPasses + totals.overlappingPasses).toBeGreaterThan(0);
    }
  }, timeoutOf(LONG));

  it(READS.name, async () => {
    const totals: Totals = { ...ZERO_TOTALS };
    await checkProperty(READS, longReadArb, totals);
    // The point of the test: reads re-planned more often than `maxReplans`, with progress in between.
    if (ENV[READS.pathVariable] === undefined && runsOf(READS) > 0) expect(totals.readsPastMaxReplans).toBeGreaterThan(0);
  }, timeoutOf(READS));
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

// The known race (issue 6, item 11), kept as a test that fails: what the fix above leaves.
// The pass lists the pod's raw files again, then confirms its lease and commits. The rest of
// the line arriving between that listing and the commit still splits a line that reads
// returned joined (S3 offers no way to make the commit conditional on a prefix not
// changing): a read after the commit gives `first half ` and `second half` as two lines
// where a read before gave one, and a slow reader fails with LogChangedError rather than
// returning the rest. The quiet rule only guesses that a job has ended; the optional
// Kubernetes API check (merge an unfinished line as it is only once the pod is gone or its
// container has terminated) avoids the race, and the quiet rule stays the fallback when no
// API is configured — as here. `it.failing`: it runs in every `make test` and passes while
// the race is there; if it ever starts failing, the race is gone (or this test no longer
// reaches the window): look, and make it an `it`. The properties upload in this window only
// with INTERLEAVINGS_KNOWN_RACES=1 (they would find it again and again).
describe('the rest of an unfinished line uploaded between the pass\'s last listing and its commit', () => {
  it.failing('does not change the log in its middle either (known race with the quiet rule)', async () => {
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
