// One pass of the compactor against a real S3 server: what it merges, what it commits,
// and what it deletes when (docs/design.md §5), checked through the bucket and the reader.
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { gunzipSync } from 'node:zlib';
import {
  CONDITIONAL_WRITE_CHECK_KEY,
  dailySurveyKey,
  cleanupKey,
  metadataKey,
  parseMergedKey,
} from '@platform/log-reader/layout';
import { parsedLine, putRaw } from '@platform/testkit';
import { getObjectBytes } from './support/s3.js';
import { unreleasedLeaseKeys } from './support/leases.js';
import { HOUR, MINUTE, messages, newWorld } from './support/world.js';

const T0 = new Date('2026-11-25T10:00:00Z');

describe('compactor pass', () => {
  it('merges the raw files of a pod into one gzip file and commits the metadata', async () => {
    const w = await newWorld('merge');
    const fb = w.container('job-1', '0f3a');
    const raw1 = await fb.upload(messages('a', 3, T0));
    const raw2 = await fb.upload(messages('b', 2, new Date(T0.getTime() + MINUTE)));
    const before = await w.read('job-1', { timestamps: true });

    const { summary } = await w.pass();

    expect(summary.pods).toEqual({ merged: 1, cleaned: 0, skipped: 0, busy: 0, failed: 0, expiring: 0, expired: 0 });
    expect(summary.rawFilesMerged).toBe(2);
    const meta = await w.metadata('job-1');
    expect(meta.logFiles).toHaveLength(1);
    const file = meta.logFiles[0]!;
    expect(parseMergedKey(file.key)).toMatchObject({ pod: 'job-1', containerId: '0f3a', index: 1 });
    expect(file.recordsCount).toBe(5);
    // Rounded outwards to the microsecond, so a `since` filter by range never drops a record.
    expect(file.firstRecordTime).toBe('2026-11-25T10:00:00.123456+00:00');
    expect(file.lastRecordTime).toBe('2026-11-25T10:01:01.123457+00:00');
    expect(meta.lastMergedKey).toBe(raw2);
    expect(meta.mergedRawFiles?.map((p) => p.key)).toEqual([raw1, raw2]);
    const body = gunzipSync(await getObjectBytes(w.client, w.bucket, file.key)).toString();
    expect(body.split('\n')[0]).toBe('{"time":"2026-11-25T10:00:00.123456789Z","log":"a-0"}');
    expect(file.size).toBe(Buffer.byteLength(body));
    expect(await w.keys('cleanup/')).toEqual([cleanupKey('job-1')]);
    // The pod's lease is released when the pass ends (deleted, or kept as released where the
    // store does not enforce If-Match on DELETE); the lease probes stay.
    expect(await unreleasedLeaseKeys(w)).toEqual([CONDITIONAL_WRITE_CHECK_KEY, dailySurveyKey({})]);
    // Raw files stay until the cleanup interval has passed: readers may be reading them.
    expect(await w.keys('kube.')).toEqual([raw1, raw2].sort());
    expect(await w.read('job-1', { timestamps: true })).toBe(before);
  });

  it('continues the last merged file under a new key and retires the old one', async () => {
    const w = await newWorld('continue');
    const fb = w.container('job-1', '0f3a');
    await fb.upload(messages('a', 2, T0));
    await w.pass();
    const first = (await w.metadata('job-1')).logFiles[0]!;
    await fb.upload(messages('b', 2, new Date(T0.getTime() + HOUR)));
    const before = await w.read('job-1');
    w.advance(HOUR);

    await w.pass();

    const meta = await w.metadata('job-1');
    expect(meta.logFiles).toHaveLength(1);
    expect(meta.logFiles[0]!.key).not.toBe(first.key);
    expect(meta.logFiles[0]!.recordsCount).toBe(4);
    expect(meta.retiredFiles.map((p) => p.key)).toEqual([first.key]);
    expect(await w.read('job-1')).toBe(before);
    expect(before).toBe('a-0\na-1\nb-0\nb-1\n');
    // The replaced file is kept for readers, then deleted once the interval has passed.
    expect(await w.keys('data/')).toContain(first.key);
    w.advance(31 * MINUTE);
    await w.pass();
    expect(await w.keys('data/')).toEqual([meta.logFiles[0]!.key]);
    expect((await w.metadata('job-1')).retiredFiles).toEqual([]);
  });

  it('splits merged files at max-file-size and gives a larger record a file of its own', async () => {
    const w = await newWorld('split');
    const fb = w.container('job-1', '0f3a');
    const small = Array.from({ length: 30 }, (_, i) => ({
      time: `2026-11-25T10:00:${String(i).padStart(2, '0')}Z`,
      log: `line ${i} ${'x'.repeat(60)}`,
      at: T0,
    }));
    const big = { time: '2026-11-25T10:01:00Z', log: 'B'.repeat(3000), at: T0 };
    await fb.upload([...small.slice(0, 15), big, ...small.slice(15)]);

    await w.pass({ maxFileSize: 1024 });

    const meta = await w.metadata('job-1');
    expect(meta.logFiles.length).toBeGreaterThan(3);
    for (const f of meta.logFiles) {
      if (f.recordsCount > 1) expect(f.size).toBeLessThanOrEqual(1024);
    }
    expect(meta.logFiles.some((f) => f.recordsCount === 1 && f.size > 3000)).toBe(true);
    expect(meta.logFiles.reduce((n, f) => n + f.recordsCount, 0)).toBe(31);
    const keys = meta.logFiles.map((f) => parseMergedKey(f.key)!.index);
    expect(keys).toEqual([...keys].sort((a, b) => a - b));
    const lines = (await w.read('job-1')).split('\n').slice(0, -1);
    expect(lines).toEqual([...small.slice(0, 15), big, ...small.slice(15)].map((m) => m.log));
  });

  it('deletes merged raw files only once the cleanup interval has passed since the commit', async () => {
    const w = await newWorld('cleanup');
    const fb = w.container('job-1', '0f3a');
    const raw = await fb.upload(messages('a', 2, T0));
    await w.pass({ cleanupIntervalMs: 30 * MINUTE });
    const commit = Date.parse((await w.metadata('job-1')).mergedRawFiles![0]!.since);

    w.advance(commit + 29 * MINUTE - w.now().getTime());
    const early = await w.pass();
    expect(early.summary.objectsDeleted).toBe(0);
    expect(await w.keys('kube.')).toEqual([raw]);
    expect(await w.keys('cleanup/')).toEqual([cleanupKey('job-1')]);

    w.advance(2 * MINUTE);
    const due = await w.pass();
    expect(due.summary.objectsDeleted).toBe(1);
    expect(due.summary.pods.cleaned).toBe(1);
    expect(await w.keys('kube.')).toEqual([]);
    expect((await w.metadata('job-1')).mergedRawFiles).toEqual([]);
    // Nothing left to delete later: the pod leaves the cleanup queue.
    expect(await w.keys('cleanup/')).toEqual([]);
    expect(await w.read('job-1')).toBe('a-0\na-1\n');
  });

  it('deletes an unlisted object under data/{pod}/ only once it is older than the cleanup interval', async () => {
    const w = await newWorld('orphan');
    await w.container('job-1', '0f3a').upload(messages('a', 1, T0));
    await w.pass();
    const orphan = 'data/job-1/0f3a/202611251000_99.gz';
    await w.client.send(new PutObjectCommand({ Bucket: w.bucket, Key: orphan, Body: 'left by a crashed pass' }));

    w.advance(10 * MINUTE);
    await w.pass();
    expect(await w.keys('data/')).toContain(orphan);

    w.advance(HOUR);
    const { reports } = await w.pass();
    expect(await w.keys('data/')).not.toContain(orphan);
    // The merge phase, with nothing to merge, deletes what is due itself.
    expect(reports.find((r) => r.pod === 'job-1')).toMatchObject({
      phase: 'merge',
      status: 'cleaned',
      deletedOrphans: 1,
    });
    expect(await w.read('job-1')).toBe('a-0\n');
  });

  it('skips a pod compacted less than the compact interval ago', async () => {
    const w = await newWorld('interval');
    const fb = w.container('job-1', '0f3a');
    await fb.upload(messages('a', 1, T0));
    await w.pass();
    await fb.upload(messages('b', 1, T0));
    w.advance(54 * MINUTE);
    const early = await w.pass();
    expect(early.reports.find((r) => r.phase === 'merge')).toMatchObject({ status: 'skipped' });
    expect((await w.metadata('job-1')).logFiles[0]!.recordsCount).toBe(1);
    w.advance(2 * MINUTE);
    const due = await w.pass();
    expect(due.summary.pods.merged).toBe(1);
    expect((await w.metadata('job-1')).logFiles[0]!.recordsCount).toBe(2);
  });

  it('merges around a line that has not ended, and keeps its pieces in their raw file until the rest arrives', async () => {
    const w = await newWorld('partial');
    w.advance(-HOUR);
    const fb = w.container('job-1', '0f3a');
    const done = await fb.uploadLines([parsedLine({ time: '2026-11-25T10:00:00Z', log: 'whole' })], '202611251000');
    const open = await fb.uploadLines(
      [parsedLine({ time: '2026-11-25T10:00:01Z', log: 'first half ', logtag: 'P' })],
      '202611251000',
    );
    expect(await w.read('job-1')).toBe('whole\nfirst half \n');

    const held = await w.pass();
    expect(held.reports[0]).toMatchObject({ rawFilesMerged: 2, rawFilesHeldBack: 1, recordsWritten: 1 });
    const partial = await w.metadata('job-1');
    expect(partial.mergedRawFiles?.map((p) => p.key)).toEqual([done, open]);
    expect(partial.unfinishedLines).toEqual([
      { stream: 'stdout', key: open, line: 1, files: [{ key: open, line: 1 }] },
    ]);
    // The Python service would take every raw key up to last_merged_key as merged: not the piece's file.
    expect(partial.lastMergedKey).toBe(done);
    expect(await w.read('job-1')).toBe('whole\nfirst half \n');
    // Its pieces stay for as long as the line is open, past the cleanup interval. (The clock
    // started an hour behind, so that the upload below is recent: the job is still writing.)
    w.advance(40 * MINUTE);
    const more = await fb.uploadLines(
      [parsedLine({ time: '2026-11-25T10:00:30Z', log: 'more ', logtag: 'P' })],
      '202611251000',
    );
    await w.pass({ compactIntervalMs: 0 });
    expect(await w.keys('kube.')).toEqual([open, more]);
    expect((await w.metadata('job-1')).unfinishedLines).toEqual([
      {
        stream: 'stdout',
        key: open,
        line: 1,
        files: [
          { key: open, line: 1 },
          { key: more, line: 1 },
        ],
      },
    ]);

    await fb.uploadLines([parsedLine({ time: '2026-11-25T10:01:00Z', log: 'second half' })], '202611251001');
    w.advance(HOUR);
    await w.pass();
    const meta = await w.metadata('job-1');
    expect(meta.mergedRawFiles?.map((p) => p.key)).toContain(open);
    expect(meta.unfinishedLines).toEqual([]);
    expect(await w.read('job-1', { timestamps: true })).toBe(
      '2026-11-25T10:00:00Z whole\n2026-11-25T10:00:01Z first half more second half\n',
    );
    // Finished: the pieces' files are due one cleanup interval after the commit that finished it.
    w.advance(31 * MINUTE);
    await w.pass();
    expect(await w.keys('kube.')).toEqual([]);
    expect(await w.read('job-1', { timestamps: true })).toBe(
      '2026-11-25T10:00:00Z whole\n2026-11-25T10:00:01Z first half more second half\n',
    );
  });

  it('merges an unfinished line as it is once the pod has been quiet for the cleanup interval', async () => {
    const w = await newWorld('quiet');
    const fb = w.container('job-1', '0f3a');
    await fb.uploadLines(
      [parsedLine({ time: '2026-11-25T10:00:01Z', log: 'no newline at exit', logtag: 'P' })],
      '202611251000',
    );
    await w.pass();
    expect((await w.metadata('job-1')).logFiles).toHaveLength(0);
    w.advance(HOUR);
    await w.pass();
    expect((await w.metadata('job-1')).logFiles).toHaveLength(1);
    expect(await w.read('job-1')).toBe('no newline at exit\n');
  });

  it('reads and merges later a raw file uploaded late whose key sorts before merged ones', async () => {
    const w = await newWorld('late');
    const fb = w.container('job-1', '0f3a', { firstIndex: 5 });
    await fb.uploadLines([parsedLine({ time: '2026-11-25T10:05:00Z', log: 'on time' })], '202611251005');
    await w.pass();
    const late = await putRaw(w.client, w.bucket, {
      pod: 'job-1',
      namespace: 'jobs',
      containerId: '0f3a',
      slice: '202611251001',
      index: 1,
      lines: [parsedLine({ time: '2026-11-25T10:01:00Z', log: 'late' })],
    });
    // Merge order: what is merged, then raw files not merged yet.
    expect(await w.read('job-1')).toBe('on time\nlate\n');
    w.advance(HOUR);
    await w.pass();
    expect((await w.metadata('job-1')).mergedRawFiles?.map((p) => p.key)).toContain(late);
    expect(await w.keys('kube.')).toContain(late);
    expect(await w.read('job-1')).toBe('on time\nlate\n');
  });

  it('skips a pod seen in two namespaces, deletes nothing, and still merges the others', async () => {
    const w = await newWorld('conflict');
    await w.container('job-1', '0f3a', { namespace: 'team-a' }).upload(messages('a', 1, T0));
    await w.container('job-1', '9b9b', { namespace: 'team-b' }).upload(messages('b', 1, T0));
    await w.container('job-2', '1c1c').upload(messages('c', 1, T0));
    const before = await w.keys();

    const { summary } = await w.pass();

    expect(summary.pods.failed).toBe(1);
    expect(summary.failures[0]).toMatchObject({ pod: 'job-1' });
    expect(summary.failures[0]!.error).toMatch(/namespaces.*team-a.*team-b/);
    expect(summary.pods.merged).toBe(1);
    const after = await w.keys();
    expect(after.filter((k) => k.includes('job-1'))).toEqual(before.filter((k) => k.includes('job-1')));
    expect(after).not.toContain(metadataKey('job-1'));
  });

  it('never touches the raw files of other containers of the pod', async () => {
    const w = await newWorld('sidecar');
    await w.container('job-1', '0f3a').upload(messages('a', 1, T0));
    const sidecar = await w.container('job-1', '7e7e', { container: 'istio-proxy' }).upload(messages('s', 1, T0));
    await w.pass();
    w.advance(2 * HOUR);
    await w.pass();
    expect(await w.keys('kube.')).toEqual([sidecar]);
    expect(await w.read('job-1')).toBe('a-0\n');
  });

  it('keeps going when one pod has bad metadata, and says which pod failed', async () => {
    const w = await newWorld('isolation');
    await w.container('job-bad', 'aa').upload(messages('x', 1, T0));
    await w.client.send(new PutObjectCommand({ Bucket: w.bucket, Key: metadataKey('job-bad'), Body: 'not json' }));
    await w.container('job-good', 'bb').upload(messages('g', 2, T0));

    const { summary } = await w.pass();

    expect(summary.pods).toMatchObject({ merged: 1, failed: 1 });
    expect(summary.failures[0]!.pod).toBe('job-bad');
    expect(summary.failures[0]!.error).toContain(metadataKey('job-bad'));
    expect(await w.read('job-good')).toBe('g-0\ng-1\n');
  });

  it('changes nothing in the bucket with --dry-run', async () => {
    const w = await newWorld('dry');
    const fb = w.container('job-1', '0f3a');
    await fb.upload(messages('a', 2, T0));
    await w.pass();
    await fb.upload(messages('b', 2, T0));
    await w.client.send(
      new PutObjectCommand({ Bucket: w.bucket, Key: 'data/job-1/0f3a/202611250000_50.gz', Body: 'orphan' }),
    );
    w.advance(2 * HOUR);
    const before = await w.listing();

    const { reports } = await w.pass({ dryRun: true });

    expect(await w.listing()).toEqual(before);
    const merge = reports.find((r) => r.phase === 'merge')!;
    expect(merge).toMatchObject({ rawFilesMerged: 1, mergedFilesWritten: 1, deletedRaw: 1, deletedOrphans: 1 });
  });
});
