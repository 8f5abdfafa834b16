// Found in review 2 (issue 6), fixed since: a late raw file keyed before every line still open is read on its own
// (raw-records.ts readAlone), and a line it ends inside is ended as it is at its end — by the
// reader and by the compactor, which commits it so at once, while the job is still writing
// (not quiet, no --kube). docs/design.md §1: pieces of one line are joined across raw file boundaries,
// and the compactor does not merge a raw file that ends inside a line until the rest arrives
// (or the pod is quiet). Here the rest is in the next late file, consecutive in raw order
// (Fluent Bit's backlog after a restart: _5 and _6 retried a minute apart, both keyed before
// the long line open since _7): the line is cut in two for good.
import { parsedLine, putRaw } from '@platform/testkit';
import { HOUR, newWorld } from './support/world.js';

describe('a late raw file that ends inside a line', () => {
  it('is not merged with that line ended as it is while the rest can still arrive', async () => {
    const w = await newWorld('rv2-late-inside');
    w.advance(-HOUR); // the job is still writing: not quiet
    const raw = (index: number, line: string): Promise<string> =>
      putRaw(w.client, w.bucket, { pod: 'job-1', namespace: 'jobs', containerId: '0f3a', slice: '202611251000', index, lines: [line] });
    const open = await raw(7, parsedLine({ time: '2026-11-25T10:00:07Z', log: 'open ', logtag: 'P' }));
    await w.pass();
    expect((await w.metadata('job-1')).unfinishedLines).toMatchObject([{ stream: 'stdout', key: open, line: 1 }]);

    // The backlog: _5 lands (a long stderr line's first piece), _6 (its last piece) a minute later.
    await raw(5, parsedLine({ time: '2026-11-25T10:00:05Z', log: 'A ', logtag: 'P', stream: 'stderr' }));
    await w.pass({ compactIntervalMs: 0 });
    await raw(6, parsedLine({ time: '2026-11-25T10:00:06Z', log: 'B', stream: 'stderr' }));
    await w.pass({ compactIntervalMs: 0 });

    await raw(8, parsedLine({ time: '2026-11-25T10:00:08Z', log: 'close' }));
    await w.pass({ compactIntervalMs: 0 });
    const messages = (await w.records('job-1')).map((r) => r.message);
    expect([...messages].sort()).toEqual(['A B', 'open close']);
  });

  it('joins two consecutive late files that hold one line (a read, no pass)', async () => {
    const w = await newWorld('rv2-late-inside-read');
    w.advance(-HOUR);
    const raw = (index: number, line: string): Promise<string> =>
      putRaw(w.client, w.bucket, { pod: 'job-1', namespace: 'jobs', containerId: '0f3a', slice: '202611251000', index, lines: [line] });
    await raw(7, parsedLine({ time: '2026-11-25T10:00:07Z', log: 'open ', logtag: 'P' }));
    await w.pass();
    await raw(5, parsedLine({ time: '2026-11-25T10:00:05Z', log: 'A ', logtag: 'P', stream: 'stderr' }));
    await raw(6, parsedLine({ time: '2026-11-25T10:00:06Z', log: 'B', stream: 'stderr' }));
    const messages = (await w.records('job-1')).map((r) => r.message);
    expect([...messages].sort()).toEqual(['A B', 'open ']);
  });
});
