// The reader against a real S3 server: raw only, merged only, both; `since` at nanosecond
// precision; timestamps; a bucket laid out by the Python service.
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { text } from 'node:stream/consumers';
import { gzipSync } from 'node:zlib';
import { metadataKey, rawKey } from '@platform/log-reader/layout';
import { parsedLine, putRaw, unparsedLine } from '@platform/testkit';
import { HOUR, MINUTE, messages, newWorld, type World } from './support/world.js';

const T0 = new Date('2026-11-25T10:00:00Z');

async function mixedPod(w: World): Promise<void> {
  const fb = w.container('job-1', '0f3a');
  await fb.upload(messages('merged', 3, T0));
  await w.pass();
  await fb.upload(messages('raw', 2, new Date(T0.getTime() + 5 * MINUTE)));
}

describe('LogReader', () => {
  it('reads raw files only, joining pieces and decoding every shape', async () => {
    const w = await newWorld('raw-only');
    const fb = w.container('job-1', '0f3a', { gzip: true });
    await fb.uploadLines(
      [
        parsedLine(
          { time: '2026-11-25T10:00:00.000000001Z', log: 'docker line\n' },
          { dateKeyTime: '2026-11-25T10:00:00.000000Z' },
        ),
        unparsedLine({ time: '2026-11-25T10:00:01Z', log: 'from the runtime', stream: 'stderr' }),
        parsedLine({ time: '2026-11-25T10:00:02Z', log: 'long ', logtag: 'P' }),
      ],
      '202611251000',
    );
    await fb.uploadLines([parsedLine({ time: '2026-11-25T10:00:03Z', log: 'line' }), 'garbage {'], '202611251000');

    expect(await w.records('job-1')).toEqual([
      { time: '2026-11-25T10:00:00.000000001Z', message: 'docker line', stream: 'stdout', containerId: '0f3a' },
      { time: '2026-11-25T10:00:01Z', message: 'from the runtime', stream: 'stderr', containerId: '0f3a' },
      { time: '2026-11-25T10:00:02Z', message: 'long line', stream: 'stdout', containerId: '0f3a' },
      { time: '2026-11-25T10:00:03Z', message: 'garbage {', stream: 'stdout', containerId: '0f3a' },
    ]);
  });

  it('reads merged files only', async () => {
    const w = await newWorld('merged-only');
    await w.container('job-1', '0f3a').upload(messages('m', 3, T0));
    await w.pass();
    w.advance(HOUR);
    await w.pass();
    expect(await w.keys('kube.')).toEqual([]);
    expect(await w.read('job-1')).toBe('m-0\nm-1\nm-2\n');
  });

  it('reads merged files then raw files not merged yet, with timestamps', async () => {
    const w = await newWorld('mixed');
    await mixedPod(w);
    expect(await w.read('job-1', { timestamps: true })).toBe(
      [
        '2026-11-25T10:00:00.123456789Z merged-0',
        '2026-11-25T10:00:01.123456789Z merged-1',
        '2026-11-25T10:00:02.123456789Z merged-2',
        '2026-11-25T10:05:00.123456789Z raw-0',
        '2026-11-25T10:05:01.123456789Z raw-1',
        '',
      ].join('\n'),
    );
  });

  it('returns the same bytes before and after a pass', async () => {
    const w = await newWorld('identical');
    await mixedPod(w);
    const before = await w.read('job-1', { timestamps: true });
    w.advance(HOUR);
    await w.pass();
    expect((await w.plan('job-1')).raw).toHaveLength(0);
    expect(await w.read('job-1', { timestamps: true })).toBe(before);
  });

  it('filters by since at nanosecond precision, in merged and raw files', async () => {
    const w = await newWorld('since');
    const fb = w.container('job-1', '0f3a');
    const times = [
      '2026-11-25T10:00:00.123456788Z',
      '2026-11-25T10:00:00.123456789Z',
      '2026-11-25T11:00:00.123456790+01:00',
    ];
    await fb.uploadLines(
      times.map((time, i) => parsedLine({ time, log: `m${i}` })),
      '202611251000',
    );
    await w.pass();
    await fb.uploadLines(
      times.map((time, i) => parsedLine({ time, log: `r${i}` })),
      '202611251001',
    );

    expect(await w.read('job-1', { since: '2026-11-25T10:00:00.123456789Z' })).toBe('m1\nm2\nr1\nr2\n');
    expect(await w.read('job-1', { since: '2026-11-25T12:00:00.123456789+02:00' })).toBe('m1\nm2\nr1\nr2\n');
    // A Date has milliseconds only: .123 keeps everything at or after .123000000.
    expect(await w.read('job-1', { since: new Date('2026-11-25T10:00:00.124Z') })).toBe('');
    expect(await w.read('job-1', { since: new Date('2026-11-25T10:00:00.123Z') })).toBe('m0\nm1\nm2\nr0\nr1\nr2\n');
  });

  it('does not fetch a merged file whose time range ends before since', async () => {
    const w = await newWorld('since-skip');
    await w.container('job-1', '0f3a').upload(messages('old', 2, T0));
    await w.pass();
    const [old] = (await w.metadata('job-1')).logFiles;
    // Make the listed file unreadable: a strict read that fetched it would fail.
    await w.client.send(new PutObjectCommand({ Bucket: w.bucket, Key: old!.key, Body: gzipSync('not a record\n') }));
    const strictRead = (since?: string): Promise<string> =>
      text(w.reader.createReadStream('job-1', { strict: true, ...(since === undefined ? {} : { since }) }));
    await expect(strictRead()).rejects.toThrow(/not a merged log record/);
    expect(await strictRead('2026-11-25T11:00:00Z')).toBe('');
  });

  it('reads a bucket laid out by the Python service and compacts it further', async () => {
    const w = await newWorld('python');
    const pod = 'job-py';
    const dir = { pod, namespace: 'jobs', container: pod, containerId: 'c0ffee' };
    const oldRaw = await putRaw(w.client, w.bucket, {
      ...dir,
      slice: '202611250959',
      index: 61,
      lines: [parsedLine({ time: '2026-11-25T09:59:00Z', log: 'merged by python' })],
    });
    const newRaw = await putRaw(w.client, w.bucket, {
      ...dir,
      slice: '202611251001',
      index: 62,
      lines: [parsedLine({ time: '2026-11-25T10:01:00Z', log: 'new' })],
    });
    const pyFile = `logs/${pod}/202611251000.gz`;
    await w.client.send(
      new PutObjectCommand({
        Bucket: w.bucket,
        Key: pyFile,
        Body: gzipSync(
          '{"time":"2026-11-25T09:00:01.123456Z","log":"from python"}\n{"time":"2026-11-25T09:59:00Z","log":"merged by python"}\n',
        ),
      }),
    );
    const pythonDoc = {
      log_files: [
        {
          key: pyFile,
          records_count: 2,
          size: 100,
          first_record_time: '2026-11-25T09:00:01.123456+00:00',
          last_record_time: '2026-11-25T09:59:00+00:00',
        },
      ],
      // Committed after both raw files were uploaded (a raw file uploaded after the commit is not covered by it).
      last_compaction_time: new Date(Date.now() + 1000).toISOString().replace('Z', '+00:00'),
      last_merged_key: oldRaw,
    };
    await w.client.send(
      new PutObjectCommand({ Bucket: w.bucket, Key: metadataKey(pod), Body: JSON.stringify(pythonDoc) }),
    );
    const expected = 'from python\nmerged by python\nnew\n';
    expect(await w.read(pod)).toBe(expected);

    w.advance(2 * HOUR);
    await w.pass();

    const meta = await w.metadata(pod);
    expect(meta.logFiles[0]!.key).toBe(pyFile);
    expect(meta.logFiles).toHaveLength(2);
    expect(meta.lastMergedKey).toBe(newRaw);
    // The raw file Python merged two hours ago is due; the one merged now is not.
    expect(await w.keys('kube.')).toEqual([newRaw]);
    expect(await w.read(pod)).toBe(expected);
    expect(rawKey({ ...dir, slice: '202611250959', index: 61 })).toBe(oldRaw);
  });

  it('fails with a clear error for a pod name that could leave its prefixes', async () => {
    const w = await newWorld('bad-pod');
    await expect(w.read('../metadata/x')).rejects.toThrow(/invalid pod name/);
  });
});

describe('LogReader: signal', () => {
  // Everything left to read is already in memory (one raw file, one merged file, read ahead):
  // no request is left for the abort to cancel, and the read must end with an AbortError all the same.
  it.each([
    ['raw', false],
    ['merged', true],
  ])(
    'ends a read of a %s file aborted after its first record with an AbortError, returning nothing after it',
    async (_, merge) => {
      const w = await newWorld(`abort-${merge ? 'merged' : 'raw'}`);
      await w.container('job-1', '0f3a').upload(messages('line', 5, T0));
      if (merge) await w.pass();
      const controller = new AbortController();
      const seen: string[] = [];
      const reading = (async () => {
        for await (const r of w.reader.records('job-1', { signal: controller.signal })) {
          seen.push(r.message);
          controller.abort();
        }
      })();
      await expect(reading).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
      expect(seen).toEqual(['line-0']);
    },
  );
});

describe('LogReader and deletions', () => {
  it('re-reads the metadata when an object vanished mid-read and carries on without repeating a record', async () => {
    const w = await newWorld('resume');
    const fb = w.container('job-1', '0f3a');
    const first = await fb.upload(messages('a', 3, T0));
    const second = await fb.upload(messages('b', 3, new Date(T0.getTime() + MINUTE)));
    const expected = await w.records('job-1');

    const read: string[] = [];
    const records = w.reader.records('job-1');
    for (let i = 0; i < 2; i++) read.push((await records.next()).value!.message);
    // Meanwhile a pass merges both raw files, and (a reader slower than the cleanup
    // interval) the second one is deleted before the reader gets to it.
    await w.pass();
    await w.client.send(new DeleteObjectCommand({ Bucket: w.bucket, Key: second }));
    for await (const r of records) read.push(r.message);

    expect(read).toEqual(expected.map((r) => r.message));
    expect(read).toEqual(['a-0', 'a-1', 'a-2', 'b-0', 'b-1', 'b-2']);
    expect(first).not.toBe(second);
  });
});
