// Fluent Bit killed (OOM, SIGKILL) and started again, as the real Fluent Bit 3.2.10 did in a
// run against a local S3 server: the files it reloads from its store_dir are uploaded first,
// keyed by the minute it started, and the first file it writes afterwards is keyed by its
// first record's minute, which is earlier. With the DaemonSet's seeded $INDEX, raw-file order
// (docs/design.md §1) reads the reloaded files first, before and after a pass; keys of a stock
// Fluent Bit (its counter goes on from the file the kill left) keep the Python service's order.
import { compareRawKeysAsPython, parseRawKey } from '@platform/log-reader/layout';
import { listRawFilesInOrder } from '@platform/log-reader/s3';
import { messages, newWorld } from './support/world.js';

/** The index seed-index.sh puts back for a start at `time`. */
const seeded = (time: string): number => Date.parse(time);

/** 200 lines, a second apart from 12:51:00; `l-120`… are in the store_dir when Fluent Bit is killed. */
const lines = messages('l', 200, new Date('2026-11-25T12:51:00Z'));
const written = lines.map((l) => l.log);

describe('Fluent Bit killed and started again', () => {
  it('with the seeded counter, reads the reloaded files before the first new file, before and after a pass', async () => {
    const w = await newWorld('fb-crash-seeded');
    const c = w.container('job-1', 'c0ffee', { firstIndex: seeded('2026-11-25T09:30:05Z') });
    await c.upload(lines.slice(0, 60));
    await c.upload(lines.slice(60, 120));
    // Killed at 12:53:50, started again at 12:54:10: the reloaded file (12:53:00-12:53:39), then
    // the lines read again and written since (first record 12:53:40: keyed 12:53).
    c.restart(new Date('2026-11-25T12:54:10Z'), { seeded: true });
    const reloaded = await c.uploadReloaded(lines.slice(120, 160));
    expect((await w.records('job-1')).map((r) => r.message)).toEqual(written.slice(0, 160));
    await c.upload(lines.slice(160));

    const before = (await w.records('job-1')).map((r) => r.message);
    expect(before).toEqual(written);
    await w.pass({ compactIntervalMs: 0 });
    const metadata = await w.metadata('job-1');
    expect(metadata.mergedRawFiles).toHaveLength(4);
    // For the Python service, "every raw key up to it" in its own order: the reloaded file
    // (12:54) covers the new one (12:53).
    expect(metadata.lastMergedKey).toBe(reloaded);
    expect((await w.records('job-1')).map((r) => r.message)).toEqual(before);
  });

  it("with a stock Fluent Bit's counter, keeps the Python service's order (slice, index), before and after a pass", async () => {
    const w = await newWorld('fb-crash-stock');
    const c = w.container('job-1', 'c0ffee', { firstIndex: 40 });
    await c.upload(lines.slice(0, 60));
    await c.upload(lines.slice(60, 120));
    c.restart(new Date('2026-11-25T12:54:10Z'), { seeded: false });
    await c.uploadReloaded(lines.slice(120, 160));
    await c.upload(lines.slice(160));
    // The limit of a stock Fluent Bit: its first new file (12:53, _43) is read before the reloaded one (12:54, _42).
    const pythonOrder = [...written.slice(0, 120), ...written.slice(160), ...written.slice(120, 160)];
    expect((await w.records('job-1')).map((r) => r.message)).toEqual(pythonOrder);
    await w.pass({ compactIntervalMs: 0 });
    expect((await w.records('job-1')).map((r) => r.message)).toEqual(pythonOrder);
  });

  it('gives the files out in that order while the listing goes on (a page ending between the reloaded files)', async () => {
    const w = await newWorld('fb-crash-listing');
    const c = w.container('job-1', 'c0ffee', { firstIndex: seeded('2026-11-25T09:30:05Z') });
    const keys = [await c.upload(lines.slice(0, 120))];
    c.restart(new Date('2026-11-25T12:54:10Z'), { seeded: true });
    keys.push(await c.uploadReloaded(lines.slice(120, 140)), await c.uploadReloaded(lines.slice(140, 160)));
    keys.push(await c.upload(lines.slice(160, 195)), await c.upload(lines.slice(195)));
    // A first page of 3 keys ends at the first reloaded file: the first new file (12:53) is
    // listed, the second reloaded one (12:54) is not yet.
    const listed: string[] = [];
    for await (const batch of listRawFilesInOrder({ client: w.client, bucket: w.bucket }, 'job-1', 3))
      listed.push(...batch.map((f) => f.key));
    expect(listed).toEqual(keys);
    expect((await w.records('job-1')).map((r) => r.message)).toEqual(written);
  });

  // Going back to the Python service: it takes every raw key up to last_merged_key, in its own
  // (slice, index) order, for merged. A pass right after a restart must not name the reloaded
  // file: the first new file, uploaded after the pass, sorts before it there and would be lost.
  it("keeps last_merged_key below a restart's first minute until its first new file can no longer come", async () => {
    const w = await newWorld('fb-crash-python-handback');
    const restart = new Date(Math.floor(w.now().getTime() / 60_000) * 60_000 + 10_000);
    const recent = messages('r', 200, new Date(restart.getTime() - 190_000));
    const c = w.container('job-1', 'c0ffee', { firstIndex: restart.getTime() - 3 * 3600_000 });
    await c.upload(recent.slice(0, 60));
    await c.upload(recent.slice(60, 120));
    c.restart(restart, { seeded: true });
    const reloaded = await c.uploadReloaded(recent.slice(120, 160));
    await w.pass({ compactIntervalMs: 0 });
    await c.upload(recent.slice(160)); // the first new file, keyed a minute before the reloaded one

    const takenForMergedByPython = async (): Promise<string[]> => {
      const metadata = await w.metadata('job-1');
      const last = parseRawKey(metadata.lastMergedKey ?? '');
      const merged = new Set((metadata.mergedRawFiles ?? []).map((p) => p.key));
      return (await w.keys('kube.')).filter((k) => {
        const raw = parseRawKey(k);
        return raw !== undefined && last !== undefined && compareRawKeysAsPython(raw, last) <= 0 && !merged.has(k);
      });
    };
    expect(await takenForMergedByPython()).toEqual([]);
    expect((await w.metadata('job-1')).lastMergedKey).not.toBe(reloaded);
    expect((await w.records('job-1')).map((r) => r.message)).toEqual(recent.map((l) => l.log));

    // Once the restart's uploads have settled, the next pass names the last file again.
    w.advance(15 * 60_000);
    await w.pass({ compactIntervalMs: 0 });
    expect(await takenForMergedByPython()).toEqual([]);
    expect((await w.metadata('job-1')).lastMergedKey).toBe(reloaded);
    expect((await w.records('job-1')).map((r) => r.message)).toEqual(recent.map((l) => l.log));
  });
});
