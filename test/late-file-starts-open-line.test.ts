// Found in review 3 (issue 6), fixed since: unfinished_lines keeps a start line only for the line's first file (`key`/`line`);
// in every other file of `files`, raw-records.ts readRawFiles takes every record of the stream
// from line 1 as a piece. A late raw file keyed before the open line's start file, that itself
// ends inside a line of the same stream, absorbs the open line's pieces: the open line now
// starts in the late file, and the old start file is just one of `files` — so its records of
// that stream before the old start (already merged) are read again as pieces.
// Breaks docs/design.md §6 "no duplicates": the earlier stderr line comes out twice, and the line is
// cut and glued wrongly: a read after the pass gives 'before', 'x before', 'e1 ' where the read
// before it gave 'before', 'x e1 '.
import { parsedLine, putRaw } from '@platform/testkit';
import { HOUR, newWorld } from './support/world.js';

describe('an open line whose start moves to a late file', () => {
  it('reads no record of the old start file twice', async () => {
    const w = await newWorld('rv3-start-moves');
    w.advance(-HOUR);
    const raw = (index: number, lines: string[]): Promise<string> =>
      putRaw(w.client, w.bucket, { pod: 'job-1', namespace: 'jobs', containerId: '0f3a', slice: '202611251000', index, lines });
    // _7: a whole stderr line, then a long stderr line starts.
    const start = await raw(7, [
      parsedLine({ time: '2026-11-25T10:00:02Z', log: 'before', stream: 'stderr' }),
      parsedLine({ time: '2026-11-25T10:00:03Z', log: 'e1 ', stream: 'stderr', logtag: 'P' }),
    ]);
    await w.pass();
    expect((await w.metadata('job-1')).unfinishedLines).toMatchObject([{ stream: 'stderr', key: start, line: 2 }]);
    expect((await w.records('job-1')).map((r) => r.message)).toEqual(['before', 'e1 ']);

    // The retried _6 lands late, itself ending inside a stderr line.
    await raw(6, [parsedLine({ time: '2026-11-25T10:00:01Z', log: 'x ', stream: 'stderr', logtag: 'P' })]);
    const beforePass = (await w.records('job-1')).map((r) => r.message);
    await w.pass({ compactIntervalMs: 0 });
    const afterPass = (await w.records('job-1')).map((r) => r.message);
    // `before` was merged by the first pass: it is read once, whatever happens to the open line.
    expect(afterPass.filter((m) => m.includes('before'))).toHaveLength(1);
    expect(afterPass).toEqual(beforePass);
  });
});
