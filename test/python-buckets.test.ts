// A bucket as the platform-monitoring Python service left it, read and compacted further:
// its merged records keep the docker newline, its metadata says "merged" by last_merged_key
// alone, and its last_record_time is truncated (not rounded up) to the microsecond.
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { gzipSync } from 'node:zlib';
import { formatIsoMicros, mergedKey, metadataKey, toEpochNs } from '@platform/log-reader';
import { parsedLine, putRaw, type RawObject } from '@platform/testkit';
import { listAll } from './support/s3.js';
import { HOUR, newWorld, type World } from './support/world.js';

const POD = 'job-py';
const DIR = { pod: POD, namespace: 'jobs', containerId: 'c0ffee' } as const;
// The Python service wrote merged files under the same layout as ours (continued by a pass).
const PY_MERGED = mergedKey({ pod: POD, containerId: DIR.containerId, slice: '202611251000', index: 1 });

interface PythonFile {
  readonly key: string;
  readonly lines: readonly Record<string, string>[];
  readonly firstRecordTime: string;
  readonly lastRecordTime: string;
}

/** A merged file and a metadata document listing it, written the way the Python service wrote them. */
async function putPythonCommit(w: World, files: readonly PythonFile[], lastMergedKey: string, lastCompactionTime: string): Promise<void> {
  for (const f of files) {
    const ndjson = f.lines.map((l) => `${JSON.stringify(l)}\n`).join('');
    await w.client.send(new PutObjectCommand({ Bucket: w.bucket, Key: f.key, Body: gzipSync(ndjson), ContentType: 'application/x-gzip' }));
  }
  const doc = {
    log_files: files.map((f) => ({
      key: f.key,
      records_count: f.lines.length,
      size: f.lines.map((l) => `${JSON.stringify(l)}\n`).join('').length,
      first_record_time: f.firstRecordTime,
      last_record_time: f.lastRecordTime,
    })),
    last_compaction_time: lastCompactionTime,
    last_merged_key: lastMergedKey,
  };
  await w.client.send(new PutObjectCommand({ Bucket: w.bucket, Key: metadataKey(POD), Body: JSON.stringify(doc) }));
}

function raw(slice: string, index: number, log: string, time: string): RawObject {
  return { ...DIR, slice, index, lines: [parsedLine({ time, log: `${log}\n` })] };
}

/**
 * A Python commit made right after the raw files so far were uploaded: a second after the
 * latest LastModified (S3 lists whole seconds; an upload may have been late in its second).
 */
async function lastUpload(w: World): Promise<Date> {
  return new Date(Math.max(...(await listAll(w.client, w.bucket, 'kube.')).map((o) => o.lastModified.getTime())) + 1000);
}

/** Uploads `object` until the store stamps it later than `after` (LastModified may have whole seconds only). */
async function putRawAfter(w: World, object: RawObject, after: Date): Promise<string> {
  for (;;) {
    const key = await putRaw(w.client, w.bucket, object);
    const [listed] = await listAll(w.client, w.bucket, key);
    if (listed!.lastModified.getTime() > after.getTime()) return key;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe('a bucket written by the Python service', () => {
  it("reads merged records without the docker newline the Python compactor kept, before and after a pass continues the file", async () => {
    const w = await newWorld('python-newlines');
    const merged = await putRaw(w.client, w.bucket, raw('202611250959', 1, 'unused', '2026-11-25T09:59:00Z'));
    await putPythonCommit(
      w,
      [
        {
          key: PY_MERGED,
          lines: [
            { time: '2026-11-25T09:59:00.000000001Z', log: 'first\n' },
            { time: '2026-11-25T09:59:00.000000002Z', log: '\n' }, // an empty line the job printed
            { time: '2026-11-25T09:59:00.000000003Z', log: 'second\r\n', stream: 'stderr' },
          ],
          firstRecordTime: '2026-11-25T09:59:00+00:00',
          lastRecordTime: '2026-11-25T09:59:00.000001+00:00',
        },
      ],
      merged,
      formatIsoMicros(toEpochNs(await lastUpload(w)), 'floor'),
    );
    await putRaw(w.client, w.bucket, raw('202611251001', 2, 'raw', '2026-11-25T10:01:00Z'));
    const expected = 'first\n\nsecond\nraw\n';
    expect(await w.read(POD)).toBe(expected);

    // The pass continues the Python file: it re-reads its records and writes them anew.
    w.advance(HOUR);
    await w.pass();
    const meta = await w.metadata(POD);
    expect(meta.retiredFiles.map((f) => f.key)).toEqual([PY_MERGED]);
    expect(meta.logFiles).toHaveLength(1);
    expect(meta.logFiles[0]!.recordsCount).toBe(4);
    expect(await w.read(POD)).toBe(expected);
  });

  it('reads and merges a raw file keyed before last_merged_key but uploaded after last_compaction_time', async () => {
    const w = await newWorld('python-late');
    const early = await putRaw(w.client, w.bucket, raw('202611250959', 60, 'python-merged-a', '2026-11-25T09:59:00Z'));
    const last = await putRaw(w.client, w.bucket, raw('202611250959', 62, 'python-merged-b', '2026-11-25T09:59:30Z'));
    const committedAt = await lastUpload(w);
    await putPythonCommit(
      w,
      [
        {
          key: `logs/${POD}/202611251000.gz`,
          lines: [
            { time: '2026-11-25T09:59:00Z', log: 'python-merged-a' },
            { time: '2026-11-25T09:59:30Z', log: 'python-merged-b' },
          ],
          firstRecordTime: '2026-11-25T09:59:00+00:00',
          lastRecordTime: '2026-11-25T09:59:30+00:00',
        },
      ],
      last,
      formatIsoMicros(toEpochNs(committedAt), 'floor'),
    );
    // A node uploads late: its key (index 61) sorts before last_merged_key, but the Python
    // commit cannot have merged it.
    const late = await putRawAfter(w, raw('202611250959', 61, 'late', '2026-11-25T09:59:10Z'), committedAt);
    await putRaw(w.client, w.bucket, raw('202611251001', 63, 'new', '2026-11-25T10:01:00Z'));
    const expected = 'python-merged-a\npython-merged-b\nlate\nnew\n';
    expect(await w.read(POD)).toBe(expected);
    expect((await w.plan(POD)).raw.map((f) => f.key)).toEqual([late, expect.stringContaining('202611251001_63')]);

    // The next pass (the Python commit is an hour old by then) merges the late file and keeps
    // it until the cleanup interval has passed since this commit; the ones Python merged are due.
    w.advance(HOUR);
    await w.pass();
    const meta = await w.metadata(POD);
    expect(meta.mergedRawFiles?.map((f) => f.key)).toContain(late);
    const keys = await w.keys('kube.');
    expect(keys).toContain(late);
    expect(keys).not.toContain(early);
    expect((await w.plan(POD)).raw).toEqual([]);
    expect(await w.read(POD)).toBe(expected);
  });

  it('fetches a merged file whose last_record_time was truncated to the microsecond when since is inside that microsecond', async () => {
    const w = await newWorld('python-truncated');
    const merged = await putRaw(w.client, w.bucket, raw('202611250959', 1, 'unused', '2026-11-25T09:59:00Z'));
    await putPythonCommit(
      w,
      [
        {
          key: `logs/${POD}/202611251000.gz`,
          lines: [
            { time: '2026-11-25T09:59:58.000000000Z', log: 'before' },
            { time: '2026-11-25T09:59:58.123456789Z', log: 'last' },
          ],
          firstRecordTime: '2026-11-25T09:59:58+00:00',
          lastRecordTime: '2026-11-25T09:59:58.123456+00:00', // truncated, not rounded up
        },
      ],
      merged,
      formatIsoMicros(toEpochNs(await lastUpload(w)), 'floor'),
    );
    expect(await w.read(POD, { since: '2026-11-25T09:59:58.1234567Z' })).toBe('last\n');
    expect(await w.read(POD, { since: '2026-11-25T09:59:58.123456790Z' })).toBe('');
  });
});
