// Found in review 2 (issue 6), fixed since: a late raw file keyed BETWEEN the start files of two lines still open
// (stdout open since _5, stderr open since _7, late _6). keyedBeforeEvery (raw-records.ts)
// is false for _6 (it is after stdout's start), so _6 is fed to the shared joiner after the
// replayed pieces of both lines: its whole stderr line is glued onto the stderr line that, in
// raw order, only starts after it (_7). The stderr line's real last piece then becomes a
// record of its own. docs/design.md §1: consecutive P…F pieces of one stream (in raw order) are one line.
import { parsedLine, putRaw } from '@platform/testkit';
import { HOUR, newWorld } from './support/world.js';

describe('a late raw file between the starts of two open lines', () => {
  it('does not glue its stderr line onto the stderr line that starts after it', async () => {
    const w = await newWorld('rv2-late-between');
    w.advance(-HOUR); // the job is still writing: not quiet
    const raw = (index: number, lines: string[]): Promise<string> =>
      putRaw(w.client, w.bucket, { pod: 'job-1', namespace: 'jobs', containerId: '0f3a', slice: '202611251000', index, lines });
    const out = await raw(5, [parsedLine({ time: '2026-11-25T10:00:00Z', log: 'out-a ', logtag: 'P' })]);
    // _6 fails and is retried later.
    const err = await raw(7, [parsedLine({ time: '2026-11-25T10:00:02Z', log: 'err-a ', logtag: 'P', stream: 'stderr' })]);
    await w.pass();
    expect((await w.metadata('job-1')).unfinishedLines).toMatchObject([
      { stream: 'stdout', key: out, line: 1 },
      { stream: 'stderr', key: err, line: 1 },
    ]);

    // The retried _6: a whole stderr line written before the long stderr line started.
    await raw(6, [parsedLine({ time: '2026-11-25T10:00:01Z', log: 'late-err', stream: 'stderr' })]);
    const mid = (await w.records('job-1')).map((r) => r.message);
    expect(mid).toContain('late-err');

    await raw(8, [
      parsedLine({ time: '2026-11-25T10:00:03Z', log: 'out-b' }),
      parsedLine({ time: '2026-11-25T10:00:03Z', log: 'err-b', stream: 'stderr' }),
    ]);
    await w.pass({ compactIntervalMs: 0 });
    const messages = (await w.records('job-1')).map((r) => r.message);
    expect([...messages].sort()).toEqual(['err-a err-b', 'late-err', 'out-a out-b']);
  });
});
