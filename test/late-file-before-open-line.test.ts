// Found in review (issue 6), fixed since: a raw file uploaded late whose key sorts before the files that hold an unfinished
// line's pieces (metadata unfinished_lines). Both the reader and the next merge replay the
// line's pieces first (raw-records.ts readRawFiles with `unfinished`), then the raw files not
// merged yet — so the late file's records are fed to the line joiner *after* the open line's
// pieces, although the late file comes before them in raw-file order (docs/design.md §1: consecutive
// P…F pieces of one stream are one line).
//   - Same container: the late file's first stdout `F` is glued onto the open line; the line's
//     real last piece, when it arrives, becomes a record of its own. Two records are corrupted.
//   - Another container (the one before a restart): its late file ends the new container's
//     open line as it is; the rest of the line, when it arrives, becomes a separate record.
// Before unfinished_lines (files after an open line held back), the late file was read before
// the held-back files, in raw order, and both lines came out right.
import { parsedLine, putRaw } from '@platform/testkit';
import { HOUR, newWorld } from './support/world.js';

describe('a late raw file keyed before an unfinished line', () => {
  it('does not join the late file\'s own line to the open line (same container)', async () => {
    const w = await newWorld('rv-late-same');
    // The clock an hour behind the uploads: the job is still writing (not quiet).
    w.advance(-HOUR);
    const raw = (index: number, slice: string, line: string): Promise<string> =>
      putRaw(w.client, w.bucket, { pod: 'job-1', namespace: 'jobs', containerId: '0f3a', slice, index, lines: [line] });
    await raw(5, '202611251000', parsedLine({ time: '2026-11-25T10:00:00Z', log: 'whole' }));
    // Upload _6 failed and is retried later; _7 starts a long line.
    const open = await raw(7, '202611251000', parsedLine({ time: '2026-11-25T10:00:02Z', log: 'first half ', logtag: 'P' }));
    await w.pass();
    expect((await w.metadata('job-1')).unfinishedLines).toMatchObject([{ stream: 'stdout', key: open, line: 1 }]);

    // The retried _6 lands: a line written before the long one started.
    await raw(6, '202611251000', parsedLine({ time: '2026-11-25T10:00:01Z', log: 'late' }));
    const midRead = (await w.records('job-1')).map((r) => r.message);
    expect(midRead).not.toContain('first half late');
    expect(midRead).toContain('late');

    // The long line's last piece.
    await raw(8, '202611251001', parsedLine({ time: '2026-11-25T10:01:00Z', log: 'second half' }));
    await w.pass({ compactIntervalMs: 0 });
    const messages = (await w.records('job-1')).map((r) => r.message);
    expect([...messages].sort()).toEqual(['first half second half', 'late', 'whole']);
  });

  it('does not end a running container\'s open line at a late file of its previous container', async () => {
    const w = await newWorld('rv-late-restart');
    w.advance(-HOUR);
    // Container aaaa wrote `_5`; its last upload `_6` is late. The restarted container bbbb
    // starts a long line in `_7` (one Fluent Bit per node: one counter).
    await putRaw(w.client, w.bucket, {
      pod: 'job-1', namespace: 'jobs', containerId: 'aaaa', slice: '202611251000', index: 5,
      lines: [parsedLine({ time: '2026-11-25T10:00:00Z', log: 'old-1' })],
    });
    const open = await putRaw(w.client, w.bucket, {
      pod: 'job-1', namespace: 'jobs', containerId: 'bbbb', slice: '202611251000', index: 7,
      lines: [parsedLine({ time: '2026-11-25T10:00:30Z', log: 'first half ', logtag: 'P' })],
    });
    await w.pass();
    expect((await w.metadata('job-1')).unfinishedLines).toMatchObject([{ stream: 'stdout', key: open, line: 1 }]);

    await putRaw(w.client, w.bucket, {
      pod: 'job-1', namespace: 'jobs', containerId: 'aaaa', slice: '202611251000', index: 6,
      lines: [parsedLine({ time: '2026-11-25T10:00:10Z', log: 'old-2' })],
    });
    await w.pass({ compactIntervalMs: 0 });
    await putRaw(w.client, w.bucket, {
      pod: 'job-1', namespace: 'jobs', containerId: 'bbbb', slice: '202611251001', index: 8,
      lines: [parsedLine({ time: '2026-11-25T10:01:00Z', log: 'second half' })],
    });
    await w.pass({ compactIntervalMs: 0 });
    const messages = (await w.records('job-1')).map((r) => r.message);
    expect([...messages].sort()).toEqual(['first half second half', 'old-1', 'old-2']);
  });
});
