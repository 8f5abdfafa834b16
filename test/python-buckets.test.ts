// A bucket as the platform-monitoring Python service left it, read and compacted further:
// its merged records keep the docker newline, its metadata says "merged" by last_merged_key
// alone (and LastModified <= last_compaction_time for a raw file keyed before it, docs/design.md §3),
// and its last_record_time is truncated (not rounded up) to the microsecond. S3 (AWS) lists
// LastModified in whole seconds, truncated, as the test server (moto) does: a raw file listed
// in the second of a Python commit may have been uploaded before or after it.
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { gzipSync } from 'node:zlib';
import { formatIsoMicros, mergedKey, metadataKey, toEpochNs } from '@platform/log-reader/layout';
import { compareRawKeys, parseRawKey } from '@platform/log-reader/layout';
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
async function putPythonCommit(
  w: World,
  files: readonly PythonFile[],
  lastMergedKey: string,
  lastCompactionTime: string,
): Promise<void> {
  for (const f of files) {
    const ndjson = f.lines.map((l) => `${JSON.stringify(l)}\n`).join('');
    await w.client.send(
      new PutObjectCommand({ Bucket: w.bucket, Key: f.key, Body: gzipSync(ndjson), ContentType: 'application/x-gzip' }),
    );
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
  return new Date(
    Math.max(...(await listAll(w.client, w.bucket, 'kube.')).map((o) => o.lastModified.getTime())) + 1000,
  );
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
  it('reads merged records without the docker newline the Python compactor kept, before and after a pass continues the file', async () => {
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

/** The merged file of records a (09:59:00) and b (09:59:02) a Python commit wrote for `pod`; returns its key. */
async function putMergedAB(w: World, pod: string, containerId: string): Promise<string> {
  const merged = mergedKey({ pod, containerId, slice: '202611251000', index: 1 });
  const lines = [
    { time: '2026-11-25T09:59:00Z', log: 'a' },
    { time: '2026-11-25T09:59:02Z', log: 'b' },
  ];
  await w.client.send(
    new PutObjectCommand({
      Bucket: w.bucket,
      Key: merged,
      Body: gzipSync(lines.map((l) => `${JSON.stringify(l)}\n`).join('')),
    }),
  );
  return merged;
}

/** The Python service's commit of that merged file at `committedAt`, naming `lastMergedKey`. */
async function putCommitAB(
  w: World,
  pod: string,
  merged: string,
  lastMergedKey: string,
  committedAt: Date,
): Promise<void> {
  const doc = {
    log_files: [
      {
        key: merged,
        records_count: 2,
        size: 100,
        first_record_time: '2026-11-25T09:59:00+00:00',
        last_record_time: '2026-11-25T09:59:02+00:00',
      },
    ],
    last_compaction_time: formatIsoMicros(toEpochNs(committedAt), 'floor'),
    last_merged_key: lastMergedKey,
  };
  await w.client.send(new PutObjectCommand({ Bucket: w.bucket, Key: metadataKey(pod), Body: JSON.stringify(doc) }));
}

describe('a late raw file uploaded in the second of a Python commit', () => {
  // Keyed before last_merged_key and uploaded after the commit in the same second, it lists as
  // "at or before" last_compaction_time: a whole-second LastModified counts as the end of its second.
  const POD = 'job-py';
  const DIR = { pod: POD, namespace: 'jobs', containerId: 'c0ffee' } as const;

  it('is read and merged, not taken as merged by that commit', async () => {
    const w = await newWorld('python-late-in-commit-second');
    const a = await putRaw(w.client, w.bucket, {
      ...DIR,
      slice: '202611250959',
      index: 1,
      lines: [parsedLine({ time: '2026-11-25T09:59:00Z', log: 'a' })],
    });
    const b = await putRaw(w.client, w.bucket, {
      ...DIR,
      slice: '202611250959',
      index: 3,
      lines: [parsedLine({ time: '2026-11-25T09:59:02Z', log: 'b' })],
    });
    const merged = await putMergedAB(w, POD, DIR.containerId);

    // The files the commit merged were uploaded before its second: listed in a second of
    // their own, they are unambiguously merged (in the commit's second they could be either).
    const uploaded = Math.floor(Date.now() / 1000);
    while (Math.floor(Date.now() / 1000) === uploaded) await new Promise((r) => setTimeout(r, 20));

    // The Python commit, then (in the same second, after it) node uploads _2 late.
    let late = '';
    for (let attempt = 0; attempt < 20 && late === ''; attempt++) {
      while (Date.now() % 1000 > 300) await new Promise((r) => setTimeout(r, 20));
      const committedAt = new Date();
      await putCommitAB(w, POD, merged, b, committedAt);
      await new Promise((r) => setTimeout(r, 5));
      const key = await putRaw(w.client, w.bucket, {
        ...DIR,
        slice: '202611250959',
        index: 2,
        lines: [parsedLine({ time: '2026-11-25T09:59:01Z', log: 'late' })],
      });
      const [listed] = await listAll(w.client, w.bucket, key);
      // Uploaded after the commit (in real time), listed with the commit's second.
      if (Math.floor(listed!.lastModified.getTime() / 1000) === Math.floor(committedAt.getTime() / 1000)) late = key;
    }
    expect(late).not.toBe('');
    expect(a).not.toBe(late);

    const read = async (): Promise<string[]> => (await w.records(POD)).map((r) => r.message);
    expect(await read()).toEqual(['a', 'b', 'late']);

    // And the next pass (a new upload, an hour later) merges it rather than deleting it.
    await putRaw(w.client, w.bucket, {
      ...DIR,
      slice: '202611251001',
      index: 4,
      lines: [parsedLine({ time: '2026-11-25T10:01:00Z', log: 'new' })],
    });
    w.advance(HOUR);
    await w.pass();
    expect(await w.keys('kube.')).toContain(late);
    expect(await read()).toEqual(['a', 'b', 'late', 'new']);
  });
});

describe("the raw file named by a Python commit's last_merged_key, uploaded in the commit's second", () => {
  // A small pod's Python pass lists, merges and commits well within a second, so its newest raw
  // file often shares the commit's second: the commit names it, so it is merged, and must be
  // neither read twice nor merged again (docs/design.md §6 "No duplicates").
  const POD = 'job-py2';
  const DIR = { pod: POD, namespace: 'jobs', containerId: 'c0ffee' } as const;

  it('is taken as merged: read once, never merged again', async () => {
    const w = await newWorld('python-last-merged-key-in-commit-second');
    const a = await putRaw(w.client, w.bucket, {
      ...DIR,
      slice: '202611250959',
      index: 1,
      lines: [parsedLine({ time: '2026-11-25T09:59:00Z', log: 'a' })],
    });
    const merged = await putMergedAB(w, POD, DIR.containerId);

    // _1 was uploaded in an earlier second than the commit below (whole-second listings).
    await new Promise((r) => setTimeout(r, 1100));
    // Fluent Bit uploads _2; the Python pass lists it, merges it and commits, in that second.
    let b = '';
    for (let attempt = 0; attempt < 20 && b === ''; attempt++) {
      while (Date.now() % 1000 > 200) await new Promise((r) => setTimeout(r, 10));
      const key = await putRaw(w.client, w.bucket, {
        ...DIR,
        slice: '202611250959',
        index: 2,
        lines: [parsedLine({ time: '2026-11-25T09:59:02Z', log: 'b' })],
      });
      await new Promise((r) => setTimeout(r, 100));
      const committedAt = new Date();
      await putCommitAB(w, POD, merged, key, committedAt);
      const [listed] = await listAll(w.client, w.bucket, key);
      // Uploaded before the commit (in real time), listed with the commit's second.
      if (Math.floor(listed!.lastModified.getTime() / 1000) === Math.floor(committedAt.getTime() / 1000)) b = key;
    }
    expect(b).not.toBe('');
    expect(a).not.toBe(b);

    const read = async (): Promise<string[]> => (await w.records(POD)).map((r) => r.message);
    expect(await read()).toEqual(['a', 'b']);

    await putRaw(w.client, w.bucket, {
      ...DIR,
      slice: '202611251001',
      index: 3,
      lines: [parsedLine({ time: '2026-11-25T10:01:00Z', log: 'new' })],
    });
    w.advance(HOUR);
    await w.pass();
    expect(await read()).toEqual(['a', 'b', 'new']);
  });
});

describe("a late raw file keyed below last_merged_key that holds an open line's piece", () => {
  // last_merged_key stays below the files that hold an open line's pieces (docs/design.md §3,
  // unfinished_lines), also when such a file is uploaded late, keyed below it: the Python
  // service, which says "merged" by last_merged_key and LastModified alone, must not take it
  // for merged and lose its piece (docs/design.md §6 "No loss" across a move between the two services).
  it('is not taken for merged by the Python service', async () => {
    const w = await newWorld('python-last-merged-key-below-pieces');
    const put = (index: number, line: string): Promise<string> =>
      putRaw(w.client, w.bucket, {
        pod: 'job-1',
        namespace: 'jobs',
        containerId: '0f3a',
        slice: '202611251000',
        index,
        lines: [line],
      });
    await put(5, parsedLine({ time: '2026-11-25T10:00:00Z', log: 'a' }));
    await put(7, parsedLine({ time: '2026-11-25T10:00:02Z', log: 'c' }));
    await w.pass();
    // The retried _6 lands late; it ends inside a long line (the job is still writing it).
    const late = await put(6, parsedLine({ time: '2026-11-25T10:00:01Z', log: 'x ', logtag: 'P' }));
    w.advance(5_000); // the commit comes a few seconds after the upload
    await w.pass({ compactIntervalMs: 0 });
    const meta = await w.metadata('job-1');
    expect(meta.unfinishedLines).toMatchObject([{ key: late, files: [{ key: late, line: 1 }] }]);
    expect((await w.records('job-1')).map((r) => r.message)).toEqual(['a', 'c', 'x ']);

    // last_merged_key moved back below the file holding the piece (it was _7).
    const lmk = parseRawKey(meta.lastMergedKey ?? '');
    expect(compareRawKeys(parseRawKey(late)!, lmk!)).toBeGreaterThan(0);

    // What the Python service reads: the same document without the compactor's own fields.
    const { logFiles, lastCompactionTime, lastMergedKey } = meta;
    await w.client.send(
      new PutObjectCommand({
        Bucket: w.bucket,
        Key: metadataKey('job-1'),
        Body: JSON.stringify({
          log_files: logFiles.map((f) => ({
            key: f.key,
            records_count: f.recordsCount,
            size: f.size,
            first_record_time: f.firstRecordTime,
            last_record_time: f.lastRecordTime,
          })),
          last_compaction_time: lastCompactionTime,
          last_merged_key: lastMergedKey,
        }),
      }),
    );
    const pythonView = (await w.records('job-1')).map((r) => r.message);
    // The piece is read (raw order joins it with what follows it; merged records may come twice).
    expect(pythonView.some((m) => m.startsWith('x '))).toBe(true);
  });
});

describe('a Python-written merged file whose last raw file was a backlog upload', () => {
  // The Python service's writer set first_record_time from the first record it wrote and
  // last_record_time from the last one: a backlog upload (older records under a later key)
  // merged last makes the file's last_record_time earlier than most of its records.
  const sec = (base: string, s: number): string => new Date(Date.parse(base) + s * 1000).toISOString();
  const iso = (t: string): string => t.replace(/\.000Z$/, '+00:00');
  const newer = Array.from({ length: 200 }, (_, i) => ({ time: sec('2026-11-25T10:00:00Z', i), log: `n-${i}\n` }));
  const backlog = Array.from({ length: 100 }, (_, i) => ({ time: sec('2026-11-25T09:00:00Z', i), log: `b-${i}\n` }));
  const later = Array.from({ length: 20 }, (_, i) => ({ time: sec('2026-11-25T10:05:00Z', i), log: `l-${i}\n` }));
  const log = [...newer, ...backlog, ...later];

  async function pythonPod(name: string): Promise<World> {
    const w = await newWorld(name);
    const merged = await putRaw(w.client, w.bucket, raw('202611251005', 9, 'unused', '2026-11-25T10:05:00Z'));
    const second = mergedKey({ pod: POD, containerId: DIR.containerId, slice: '202611251006', index: 2 });
    await putPythonCommit(
      w,
      [
        // First and last *written*, as the Python writer recorded them.
        {
          key: PY_MERGED,
          lines: [...newer, ...backlog],
          firstRecordTime: iso(newer[0]!.time),
          lastRecordTime: iso(backlog[99]!.time),
        },
        { key: second, lines: later, firstRecordTime: iso(later[0]!.time), lastRecordTime: iso(later[19]!.time) },
      ],
      merged,
      formatIsoMicros(toEpochNs(await lastUpload(w)), 'floor'),
    );
    return w;
  }

  const from = (since: string): string[] =>
    log.filter((l) => Date.parse(l.time) >= Date.parse(since)).map((l) => l.log.slice(0, -1));

  it.each([
    ['before every record', '2026-11-25T08:00:00Z'],
    ['inside the backlog', '2026-11-25T09:00:50Z'],
    ['after the backlog, at the midpoint of the newer records', '2026-11-25T10:01:40Z'],
    ['inside the second file', '2026-11-25T10:05:10Z'],
    ['after every record', '2026-11-25T11:00:00Z'],
  ])('returns with `since` %s exactly the records at or after it, in log order', async (_, since) => {
    const w = await pythonPod('python-backlog-since');
    const got = (await w.records(POD, { since })).map((r) => r.message);
    expect(got).toEqual(from(since));
  });

  it.each([
    [30, '2026-11-25T10:01:40Z'],
    [60, '2026-11-25T09:00:50Z'],
    [500, '2026-11-25T09:00:50Z'],
  ])('returns with `tail` %d and `since` %s the last records of those at or after it', async (tail, since) => {
    const w = await pythonPod('python-backlog-tail');
    const got: string[] = [];
    for await (const r of w.reader.records(POD, { since, tail })) got.push(r.message);
    expect(got).toEqual(from(since).slice(-tail));
  });

  it('still returns, for any `since`, a record whose time only the Python parser read, after a pass continues its file', async () => {
    // The Python service's parser took a time without seconds; ours does not, and a read keeps
    // such a record for any `since`: the continued file's range must not skip it.
    const w = await newWorld('python-untimed-record');
    const merged = await putRaw(w.client, w.bucket, raw('202611251000', 1, 'unused', '2026-11-25T10:00:00Z'));
    const lines = [
      { time: '2026-11-25T10:00:00Z', log: 'a\n' },
      { time: '2026-11-25T10:00Z', log: 'b\n' },
    ];
    const times = { firstRecordTime: '2026-11-25T10:00:00+00:00', lastRecordTime: '2026-11-25T10:00:00+00:00' };
    await putPythonCommit(
      w,
      [{ key: PY_MERGED, lines, ...times }],
      merged,
      formatIsoMicros(toEpochNs(await lastUpload(w)), 'floor'),
    );
    await putRaw(w.client, w.bucket, raw('202611251001', 2, 'raw', '2026-11-25T10:01:00Z'));
    const since = '2026-11-25T10:30:00Z';
    expect((await w.records(POD, { since })).map((r) => r.message)).toEqual(['b']);

    w.advance(HOUR);
    await w.pass();
    expect((await w.metadata(POD)).logFiles.map((f) => f.key)).not.toContain(PY_MERGED); // continued, rewritten
    expect((await w.records(POD, { since })).map((r) => r.message)).toEqual(['b']);
  });

  it('keeps reading it exactly after a pass continues the pod (the Python entries keep no range)', async () => {
    const w = await pythonPod('python-backlog-pass');
    await putRaw(w.client, w.bucket, raw('202611251010', 10, 'raw', '2026-11-25T10:10:00Z'));
    w.advance(HOUR);
    await w.pass();
    const since = '2026-11-25T10:01:40Z';
    expect((await w.records(POD, { since })).map((r) => r.message)).toEqual([...from(since), 'raw']);
  });
});
