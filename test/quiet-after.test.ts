// The quiet rule has its own setting, --quiet-after (default 1 h): an unfinished line is merged
// as it is only once the pod has uploaded nothing for longer than that, whatever the cleanup
// interval, and `inspect` judges with the same setting.
import { parsedLine } from '@platform/testkit';
import { inspectPod, parseRunArgs } from 'compactor';
import { MINUTE, newWorld, type World } from './support/world.js';

const SLICE = '202611251000';

/** job-1: a line whose first piece has arrived, and not its rest (the job is still writing it). */
async function lineBeingWritten(name: string): Promise<World> {
  const w = await newWorld(name);
  await w
    .container('job-1', '0f3a')
    .uploadLines([parsedLine({ time: '2026-11-25T10:00:01Z', log: 'first half ', logtag: 'P' })], SLICE);
  return w;
}

describe('--quiet-after', () => {
  it('with --cleanup-interval 0, a long line still being written is not cut: its rest joins it', async () => {
    const w = await lineBeingWritten('quiet-cleanup-0');
    w.advance(10 * MINUTE); // quiet for far longer than the cleanup interval, not than --quiet-after

    const first = await w.pass({ cleanupIntervalMs: 0, compactIntervalMs: 0 });
    expect(first.reports.find((r) => r.pod === 'job-1')?.endedBy).toBeUndefined();
    expect((await w.metadata('job-1')).logFiles).toHaveLength(0);

    await w
      .container('job-1', '0f3a', { firstIndex: 2 })
      .uploadLines([parsedLine({ time: '2026-11-25T10:00:02Z', log: 'second half', logtag: 'F' })], SLICE);
    w.advance(10 * MINUTE);
    await w.pass({ cleanupIntervalMs: 0, compactIntervalMs: 0 });
    expect(await w.read('job-1')).toBe('first half second half\n');
    expect((await w.metadata('job-1')).logFiles).toHaveLength(1);
  });

  it('merges a line as it is once the pod has been quiet for longer than --quiet-after, not before', async () => {
    const w = await lineBeingWritten('quiet-after');
    w.advance(11 * MINUTE);

    const byDefault = await w.pass({ compactIntervalMs: 0 });
    expect(byDefault.reports.find((r) => r.pod === 'job-1')?.endedBy).toBeUndefined();
    expect((await w.metadata('job-1')).logFiles).toHaveLength(0);

    const quiet = await w.pass({ compactIntervalMs: 0, quietAfterMs: 10 * MINUTE });
    expect(quiet.reports.find((r) => r.pod === 'job-1')).toMatchObject({ status: 'merged', endedBy: 'quiet' });
    expect((await w.metadata('job-1')).logFiles).toHaveLength(1);
    expect(await w.read('job-1')).toBe('first half \n');
  });

  it('inspect judges the unfinished line with the same setting', async () => {
    const w = await lineBeingWritten('quiet-inspect');
    await w.pass(); // the piece's file merged and held back: the line waits in the metadata
    const store = { client: w.client, bucket: w.bucket };
    const at = new Date(w.now().getTime() + 11 * MINUTE);

    const byDefault = await inspectPod(store, 'job-1', { now: at, cleanupIntervalMs: 0, compactIntervalMs: 0 });
    expect(byDefault).toMatchObject({ quietAfterMs: 60 * MINUTE, nextPass: { merge: false } });

    const quiet = await inspectPod(store, 'job-1', {
      now: at,
      cleanupIntervalMs: 0,
      compactIntervalMs: 0,
      quietAfterMs: 10 * MINUTE,
    });
    expect(quiet).toMatchObject({ quietAfterMs: 10 * MINUTE, nextPass: { merge: true } });
  });

  it('is a flag with an environment twin, 1 h by default', async () => {
    expect((await parseRunArgs(['--bucket', 'b'])).quietAfterMs).toBe(60 * MINUTE);
    expect((await parseRunArgs(['--bucket', 'b', '--quiet-after', '2h'])).quietAfterMs).toBe(120 * MINUTE);
    process.env['COMPACTOR_QUIET_AFTER'] = '15m';
    try {
      expect((await parseRunArgs(['--bucket', 'b'])).quietAfterMs).toBe(15 * MINUTE);
    } finally {
      delete process.env['COMPACTOR_QUIET_AFTER'];
    }
    await expect(parseRunArgs(['--bucket', 'b', '--quiet-after', 'soon'])).rejects.toThrow(
      /--quiet-after: invalid duration "soon"/,
    );
  });
});
