// Readers during passes (docs/design.md §6), as properties: fast-check drives random interleavings of
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
//     its last line, when that line was unfinished then: docs/design.md §6 lets pieces that arrived
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
//     (docs/design.md §5) — nor since the time the commit says; at the end, passes leave the bucket
//     tidy. A pass that stalled or overlapped another may fail or find pods busy: its log
//     must not suffer for it.
// Retention (docs/design.md §8), a rare `expire` step: the clock moves past the retention
// (4 h; every later pass of the run has it) and a pass marks the logs with nothing newer;
// maybe a raw upload after the mark or inside the next pass; then a pass a cleanup interval
// later deletes them. Checked: a read of a marked log fails with LogExpiredError, and returns
// the whole log again once a merge removed the mark; a mark only when no merge is newer than
// the retention; a listed merged file or the metadata goes only a cleanup interval after the
// mark, never a raw file no commit merged; after the deletion the log is what was uploaded
// after the deleting pass's snapshot; a slow read across the mark or the deletion returns its
// whole log or ends with LogExpiredError, never part of it.
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
//   FC_SEED=… INTERLEAVINGS_LONG_PATH=… S3_TEST_SERVER=moto npx jest test/interleavings.test.ts -t 'the same when
// passes take long'
import fc from 'fast-check';
import { LogReader } from '@platform/log-reader';
import { metadataKey } from '@platform/log-reader/layout';
import { parsedLine, putRaw } from '@platform/testkit';
import { pausingAt } from './support/hooks.js';
import { uploadingAt } from './support/interleavings-clients.js';
import { ENV, LATE, LONG, MAIN, READS, checkProperty, runsOf, timeoutOf } from './support/interleavings-properties.js';
import { ZERO_TOTALS, type Totals } from './support/interleavings-report.js';
import { lateUnderReaderArb, longPassStepArb, longReadArb, stepArb } from './support/interleavings-steps.js';
import { MINUTE, newWorld } from './support/world.js';

describe('readers during passes', () => {
  it(
    MAIN.name,
    async () => {
      const totals: Totals = { ...ZERO_TOTALS };
      await checkProperty(MAIN, fc.array(stepArb, { minLength: 15, maxLength: 25, size: 'max' }), totals);
      // The point of the test: slow readers did meet deleted objects and carried on.
      if (ENV[MAIN.pathVariable] === undefined) expect(totals.replans).toBeGreaterThan(0);
    },
    timeoutOf(MAIN),
  );

  it(
    LATE.name,
    async () => {
      const totals: Totals = { ...ZERO_TOTALS };
      await checkProperty(LATE, lateUnderReaderArb, totals);
      if (ENV[LATE.pathVariable] === undefined) expect(totals.replansAcrossLateFiles).toBeGreaterThan(0);
    },
    timeoutOf(LATE),
  );

  it(
    LONG.name,
    async () => {
      const totals: Totals = { ...ZERO_TOTALS };
      await checkProperty(LONG, fc.array(longPassStepArb, { minLength: 15, maxLength: 25, size: 'max' }), totals);
      if (ENV[LONG.pathVariable] === undefined) {
        expect(totals.longPasses).toBeGreaterThan(0);
        expect(totals.stalledPasses + totals.overlappingPasses).toBeGreaterThan(0);
      }
    },
    timeoutOf(LONG),
  );

  it(
    READS.name,
    async () => {
      const totals: Totals = { ...ZERO_TOTALS };
      await checkProperty(READS, longReadArb, totals);
      // The point of the test: reads re-planned more often than `maxReplans`, with progress in between.
      if (ENV[READS.pathVariable] === undefined && runsOf(READS) > 0)
        expect(totals.readsPastMaxReplans).toBeGreaterThan(0);
    },
    timeoutOf(READS),
  );
});

describe('a late raw file keyed before raw files not merged yet', () => {
  it('changes the log in its middle, and a slow reader that re-plans across it returns each record once', async () => {
    const w = await newWorld('late-mid-log');
    const line = (log: string, second: number): string =>
      parsedLine({ time: `2026-11-25T10:0${second}:00.123456789Z`, log });
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

// A pass decides from its snapshot that a pod is quiet and merges its unfinished last line as
// it is; if the job writes the rest of the line while the pass runs, committing would split a
// line that reads already returned joined. The pass lists the pod's raw files again before
// such a commit and leaves the pod to the next pass when new ones arrived.
describe('the rest of an unfinished line uploaded while a pass merges the line as it is', () => {
  it('does not change the log in its middle, nor cut a slow reader short', async () => {
    const w = await newWorld('as-is-race');
    const put = (slice: string, index: number, line: Parameters<typeof parsedLine>[0]): Promise<string> =>
      putRaw(w.client, w.bucket, {
        pod: 'job-a',
        namespace: 'jobs',
        containerId: 'c0ffee',
        slice,
        index,
        lines: [parsedLine(line)],
      });
    await put('202611251001', 1, { time: '2026-11-25T10:01:00Z', log: 'first half ', logtag: 'P' });
    w.advance(61 * MINUTE); // quiet for longer than --quiet-after (1 h)
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

// The known race with the quiet rule, kept as a test that fails: what the check above leaves.
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
describe("the rest of an unfinished line uploaded between the pass's last listing and its commit", () => {
  it.failing('does not change the log in its middle either (known race with the quiet rule)', async () => {
    const w = await newWorld('as-is-window');
    const put = (slice: string, index: number, line: Parameters<typeof parsedLine>[0]): Promise<string> =>
      putRaw(w.client, w.bucket, {
        pod: 'job-a',
        namespace: 'jobs',
        containerId: 'c0ffee',
        slice,
        index,
        lines: [parsedLine(line)],
      });
    await put('202611251001', 1, { time: '2026-11-25T10:01:00Z', log: 'first half ', logtag: 'P' });
    w.advance(61 * MINUTE); // quiet for longer than --quiet-after (1 h)
    let during = '';
    // Just before the commit: the metadata PUT.
    const notTheCommit = (command: string, key: string): boolean =>
      !(command === 'PutObjectCommand' && key === metadataKey('job-a'));
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
