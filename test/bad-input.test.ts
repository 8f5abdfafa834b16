// Bad input gets a clear error, and nothing is lost (docs/design.md §1, §6): corrupt and truncated
// gzip, binary garbage, empty files, a 50 MB line, keys outside the layout, bad metadata, a
// listed merged file deleted by hand, and pod names that could leave their prefixes. Each
// test runs the real reader and a real pass against the test S3 server, with a moved clock.
//
// A raw or merged file that arrived whole but cannot be decoded is read and merged around,
// reported and recorded (docs/design.md §8): test/unreadable-objects.test.ts.
import { createHash } from 'node:crypto';
import { text } from 'node:stream/consumers';
import { gzipSync } from 'node:zlib';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  InvalidPodNameError,
  LogReader,
  MetadataError,
  ObjectVanishedError,
  type LogRecord,
} from '@platform/log-reader';
import { cleanupKey, mergedPodPrefix, metadataKey, rawKey, rawPodPrefix } from '@platform/log-reader/layout';
import { criPieces, parsedLine, putRaw } from '@platform/testkit';
import { passWithLogs } from './support/pass-logs.js';
import { pseudoRandomBytes } from './support/random-bytes.js';
import { HOUR, MINUTE, messages, newWorld, type World } from './support/world.js';

const T0 = new Date('2026-11-25T10:00:00Z');
const NS = 'jobs';

/** The raw key of `pod`'s own container (id `0f3a`) for upload `index` of minute 10:00. */
function keyOf(pod: string, index: number, slice = '202611251000'): string {
  return rawKey({ pod, namespace: NS, container: pod, containerId: '0f3a', slice, index });
}

async function put(w: World, key: string, body: string | Uint8Array): Promise<string> {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  await w.client.send(
    new PutObjectCommand({
      Bucket: w.bucket,
      Key: key,
      Body: bytes,
      ContentLength: bytes.byteLength,
      ContentType: 'application/octet-stream',
    }),
  );
  return key;
}

/** One raw file of parsed lines (`n` messages from `start`) as upload `index`. */
async function good(w: World, pod: string, index: number, prefix: string, n = 2): Promise<string> {
  return put(
    w,
    keyOf(pod, index),
    messages(prefix, n, T0)
      .map((m) => `${parsedLine(m)}\n`)
      .join(''),
  );
}

/** Every object that belongs to `pod` (raw, merged, metadata), as key → ETag. */
async function podObjects(w: World, pod: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const o of await w.listing()) {
    if (o.key.startsWith(rawPodPrefix(pod)) || o.key.startsWith(mergedPodPrefix(pod)) || o.key === metadataKey(pod))
      out[o.key] = o.etag;
  }
  return out;
}

/** The records a read returns before it fails, and its error (or `undefined` when it did not). */
async function readUntilError(reader: LogReader, pod: string): Promise<{ records: LogRecord[]; error: unknown }> {
  const records: LogRecord[] = [];
  try {
    for await (const r of reader.records(pod)) records.push(r);
  } catch (error) {
    return { records, error };
  }
  return { records, error: undefined };
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

// Corrupt and truncated gzip raw files, and damaged merged files: test/unreadable-objects.test.ts.

describe('binary garbage as a raw file', () => {
  /**
   * What docs/design.md §1 says a body of non-JSON lines gives: each line whole (U+FFFD for bad UTF-8), at the file's
   * minute.
   */
  function expectedRecords(body: Buffer, slice: string): { time: string; message: string }[] {
    const time = `${slice.slice(0, 4)}-${slice.slice(4, 6)}-${slice.slice(6, 8)}T${slice.slice(8, 10)}:${slice.slice(10, 12)}:00Z`;
    return new TextDecoder('utf-8')
      .decode(body)
      .split('\n')
      .map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line))
      .filter((line) => line.length > 0)
      .map((message) => ({ time, message }));
  }

  it('keeps every line as a message, counts and warns once per file, never aborts the pod, and reads the same before and after a pass', async () => {
    const w = await newWorld('garbage');
    const pod = 'job-bin';
    // Random bytes (never starting with the gzip magic), with a newline now and then.
    const random = pseudoRandomBytes(64 * 1024, 42);
    random[0] = 0x00;
    for (let i = 97; i < random.length; i += 211) random[i] = 0x0a;
    // Mostly NUL, with invalid UTF-8, a lone CR line and a CRLF ending in between.
    const nul = Buffer.concat([
      Buffer.alloc(3000),
      Buffer.from([0x0a, 0x00, 0xff, 0xfe, 0x00, 0x41, 0xc3, 0x0a, 0x0d, 0x0a, 0x00, 0x00, 0x0d, 0x0a]),
      Buffer.alloc(500),
    ]);
    await good(w, pod, 1, 'before');
    const randomKey = await put(w, keyOf(pod, 2), random);
    const nulKey = await put(w, keyOf(pod, 3), nul);
    await put(w, keyOf(pod, 4), `${parsedLine({ time: '2026-11-25T10:00:05Z', log: 'after' })}\n`);
    await w.container('job-good', 'bb').upload(messages('g', 1, T0));

    const expected = [
      ...messages('before', 2, T0).map((m) => ({ time: m.time, message: m.log })),
      ...expectedRecords(random, '202611251000'),
      ...expectedRecords(nul, '202611251000'),
      { time: '2026-11-25T10:00:05Z', message: 'after' },
    ];
    const randomLines = expectedRecords(random, '202611251000').length;
    const nulLines = expectedRecords(nul, '202611251000').length;
    // The NUL blob: 3000 NULs, then "\0\uFFFD\uFFFD\0A\uFFFD", then "\0\0", then 500 NULs.
    expect(expectedRecords(nul, '202611251000').map((r) => r.message)).toEqual([
      '\0'.repeat(3000),
      '\0\ufffd\ufffd\0A\ufffd',
      '\0\0',
      '\0'.repeat(500),
    ]);
    expect((await w.records(pod)).map(({ time, message }) => ({ time, message }))).toEqual(expected);
    const before = await w.read(pod, { timestamps: true });

    const { result, logs } = await passWithLogs(w);

    expect(result.summary.pods).toMatchObject({ merged: 2, failed: 0 });
    expect(result.reports.find((r) => r.pod === pod)).toMatchObject({
      status: 'merged',
      rawFilesMerged: 4,
      invalidLines: randomLines + nulLines,
      recordsWritten: expected.length,
    });
    const warnings = logs.filter((l) => l['level'] === 'warn');
    expect(warnings.map((l) => [l['pod'], l['key'], l['lines']])).toEqual([
      [pod, randomKey, randomLines],
      [pod, nulKey, nulLines],
    ]);
    expect(await w.read(pod, { timestamps: true })).toBe(before);
    // Once the raw files are gone, the merged file alone gives the same bytes.
    w.advance(HOUR);
    await w.pass();
    expect(await w.keys(rawPodPrefix(pod))).toEqual([]);
    expect((await w.plan(pod)).raw).toEqual([]);
    expect(await w.read(pod, { timestamps: true })).toBe(before);
    expect(
      Buffer.from(before).includes(
        Buffer.from([0x00, 0xef, 0xbf, 0xbd, 0xef, 0xbf, 0xbd, 0x00, 0x41, 0xef, 0xbf, 0xbd, 0x0a]),
      ),
    ).toBe(true);
  });
});

describe('empty raw files', () => {
  it('give no records, are merged (counted) and later deleted, without a crash', async () => {
    const w = await newWorld('empty');
    // job-empty has nothing but empty files: a 0-byte body and a gzip of nothing.
    const zero = await put(w, keyOf('job-empty', 1), new Uint8Array(0));
    const gzEmpty = await put(w, keyOf('job-empty', 2), gzipSync(Buffer.alloc(0)));
    // job-mixed has them between records.
    await good(w, 'job-mixed', 1, 'a', 1);
    await put(w, keyOf('job-mixed', 2), new Uint8Array(0));
    await put(w, keyOf('job-mixed', 3), gzipSync(Buffer.alloc(0)));
    await put(w, keyOf('job-mixed', 4), gzipSync(`${parsedLine({ time: '2026-11-25T10:00:09Z', log: 'b-0' })}\n`));
    expect(await w.read('job-empty')).toBe('');
    expect(await w.read('job-mixed')).toBe('a-0\nb-0\n');

    const { summary, reports } = await w.pass();

    expect(summary.pods).toMatchObject({ merged: 2, failed: 0 });
    expect(reports.find((r) => r.pod === 'job-empty')).toMatchObject({
      status: 'merged',
      rawFilesRead: 2,
      rawFilesMerged: 2,
      recordsWritten: 0,
      mergedFilesWritten: 0,
    });
    expect(reports.find((r) => r.pod === 'job-mixed')).toMatchObject({
      status: 'merged',
      rawFilesMerged: 4,
      recordsWritten: 2,
      mergedFilesWritten: 1,
    });
    const meta = await w.metadata('job-empty');
    expect(meta.logFiles).toEqual([]);
    expect(meta.mergedRawFiles?.map((p) => p.key)).toEqual([zero, gzEmpty]);
    expect(await w.read('job-empty')).toBe('');
    expect(await w.read('job-mixed')).toBe('a-0\nb-0\n');

    w.advance(HOUR);
    const later = await w.pass();
    expect(later.summary.pods.failed).toBe(0);
    expect(await w.keys(rawPodPrefix('job-empty'))).toEqual([]);
    expect(await w.keys(rawPodPrefix('job-mixed'))).toEqual([]);
    expect(await w.keys('cleanup/')).toEqual([]);
    expect(await w.read('job-empty')).toBe('');
    expect(await w.read('job-mixed')).toBe('a-0\nb-0\n');
  });
});

describe('a 50 MB line', () => {
  const SIZE = 50 * 1024 * 1024;

  /** 50 MB of text with some variety (and 2-byte UTF-8 characters), the same on every run. */
  function bigMessage(tag: string): string {
    const block = Array.from(pseudoRandomBytes(4093, tag.length + 11), (b) =>
      b % 5 === 0 ? 'é' : String.fromCharCode(97 + (b % 26)),
    ).join('');
    return `${tag}:${block.repeat(Math.ceil(SIZE / block.length))}`.slice(0, SIZE - 4) + ':end';
  }

  it('is read back whole, as 16 KiB P pieces and as one F line, before and after a pass, in bounded memory', async () => {
    const w = await newWorld('big-line');
    const pod = 'job-big';
    const pieced = bigMessage('pieces');
    const single = bigMessage('single');
    const pieces = criPieces({ time: '2026-11-25T10:00:00.1Z', log: pieced });
    expect(pieces.length).toBeGreaterThan(3000);
    await put(w, keyOf(pod, 1), pieces.map((p) => `${parsedLine(p)}\n`).join(''));
    await put(
      w,
      keyOf(pod, 2),
      `${parsedLine({ time: '2026-11-25T10:00:01.2Z', log: single })}\n${parsedLine({ time: '2026-11-25T10:00:02Z', log: 'small' })}\n`,
    );
    const expected = [
      ['2026-11-25T10:00:00.1Z', pieced.length, sha256(pieced)],
      ['2026-11-25T10:00:01.2Z', single.length, sha256(single)],
      ['2026-11-25T10:00:02Z', 5, sha256('small')],
    ];
    const summarize = (records: LogRecord[]): unknown[] =>
      records.map((r) => [r.time, r.message.length, sha256(r.message)]);
    const rssBefore = process.memoryUsage().rss;

    expect(summarize(await w.records(pod))).toEqual(expected);
    const { summary, reports } = await w.pass();
    expect(summary.pods).toMatchObject({ merged: 1, failed: 0 });
    // Each record is larger than max-file-size: a file of its own, and the small one after it.
    expect(reports[0]).toMatchObject({ rawFilesMerged: 2, recordsWritten: 3 });
    expect((await w.metadata(pod)).logFiles.map((f) => f.recordsCount)).toEqual([1, 1, 1]);
    expect(summarize(await w.records(pod))).toEqual(expected);
    const text = await w.read(pod);
    expect(text.length).toBe(pieced.length + single.length + 'small'.length + 3);
    expect(sha256(text)).toBe(sha256(`${pieced}\n${single}\nsmall\n`));

    // Loose on purpose: a few copies of a 50 MB line are expected, a copy per chunk (quadratic) is not.
    const growth = process.memoryUsage().rss - rssBefore;
    expect(growth).toBeLessThan(2 * 1024 ** 3);
  });
});

describe('keys under the raw prefix that are not raw files of a pod', () => {
  it('are ignored by the reader and the compactor, and never deleted, over passes and days', async () => {
    const w = await newWorld('stray-keys');
    const dir = 'kube.var.log.containers.job-1_jobs_job-1-0f3a.log/';
    const stray = [
      `${dir}202611251000_1.gz.tmp`, // wrong suffixes
      `${dir}202611251000_2.json`,
      `${dir}202611251000_3`,
      `${dir}202611251000-4.gz`,
      `${dir}20261125100_5.gz`, // an 11-digit slice
      `${dir}sub/202611251000_6.gz`, // extra path segments
      `${dir}..202611251000_7.gz`, // `..` (not as a path segment: some stores resolve those)
      `${dir}202611251000_8.gz..`,
      'kube.var.log.containers.job-1_jobs_job-1-0f3a.log', // no file part (a posix-backed store cannot hold it next to the directory)
      'kube.var.log.containers.job-1_jobs_istio-proxy-7e7e.log/202611251000_1.gz', // another container of the pod
      'kube.var.log.containers.job-1_jobs_job-2-0f3a.log/202611251000_1.gz', // the container of another pod
      'kube.var.log.containers.Job-1_jobs_Job-1-0f3a.log/202611251000_1.gz', // uppercase
      'kube.var.log.containers.JOB-1_jobs_JOB-1-0f3a.log/202611251000_1.gz',
      'kube.var.log.containers.job-1.._jobs_job-1..-0f3a.log/202611251000_1.gz', // `..`
      'kube.var.log.containers.._jobs_..-0f3a.log/202611251000_1.gz',
      'kube.var.log.containers.job-1_.._job-1-0f3a.log/202611251000_1.gz', // a namespace `..`
      'kube.var.log.containers.job-1_JOBS_job-1-0f3a.log/202611251000_1.gz', // an uppercase namespace
      'kube.var.log.containers.jöb-1_jobs_jöb-1-0f3a.log/202611251000_1.gz', // unicode
      'kube.var.log.containers.job-2_jobs_job-2-0f3a.log/202611251000_1.gz.partial', // a pod with stray keys only
      'kube.var.log.containers.',
    ];
    const stored: string[] = [];
    for (const key of stray) {
      try {
        await put(w, key, `${parsedLine({ time: '2026-11-25T10:00:00Z', log: `stray ${key}` })}\n`);
        stored.push(key);
      } catch (error) {
        // versitygw keeps objects as files: a key cannot also be a "directory" of other keys.
        if ((error as Error).name !== 'ExistingObjectIsDirectory') throw error;
      }
    }
    expect(stored.length).toBeGreaterThanOrEqual(stray.length - 1);
    const real = await good(w, 'job-1', 1, 'real');
    const expected = 'real-0\nreal-1\n';
    expect(await w.read('job-1')).toBe(expected);
    expect((await w.plan('job-1')).raw.map((f) => f.key)).toEqual([real]);
    expect(await w.read('job-2')).toBe('');

    const first = await w.pass();
    expect(first.summary.pods).toMatchObject({ merged: 1, failed: 0 });
    expect(first.reports.filter((r) => r.status !== 'skipped').map((r) => r.pod)).toEqual(['job-1']);
    for (const advance of [HOUR, 2 * HOUR, 3 * 24 * HOUR, 30 * 24 * HOUR]) {
      w.advance(advance);
      const { summary } = await w.pass();
      expect(summary.pods.failed).toBe(0);
    }

    expect(await w.keys('kube.')).toEqual([...stored].sort());
    expect(await w.keys('metadata/')).toEqual([metadataKey('job-1')]);
    expect(await w.keys('cleanup/')).toEqual([]);
    expect(await w.read('job-1')).toBe(expected);
    expect(await w.read('job-2')).toBe('');
  });
});

describe('malformed metadata', () => {
  const bad: Array<[string, string, RegExp]> = [
    ['job-notjson', '{"log_files": [', /is invalid: not JSON/],
    [
      'job-types',
      JSON.stringify({
        log_files: [
          {
            key: 'data/job-types/0f3a/202611251000_1.gz',
            records_count: '3',
            size: 1,
            first_record_time: '2026-11-25T10:00:00Z',
            last_record_time: '2026-11-25T10:00:00Z',
          },
        ],
      }),
      /log_files\[0\]\.records_count is not a count/,
    ],
    ['job-list', '[]', /the document is not an object/],
    // Lists the compactor deletes from must name the pod's own objects, never another pod's.
    [
      'job-foreign',
      JSON.stringify({
        log_files: [],
        merged_raw_files: [{ key: metadataKey('job-good'), committed_at: '2026-11-01T00:00:00Z' }],
      }),
      /merged_raw_files\[0\]\.key "metadata\/job-good\.json" is not a raw key of pod job-foreign's own container/,
    ],
    [
      'job-sidecar',
      JSON.stringify({
        log_files: [],
        merged_raw_files: [
          {
            key: rawKey({
              pod: 'job-sidecar',
              namespace: NS,
              container: 'istio-proxy',
              containerId: '7e7e',
              slice: '202611251000',
              index: 1,
            }),
            committed_at: '2026-11-01T00:00:00Z',
          },
        ],
      }),
      /is not a raw key of pod job-sidecar's own container/,
    ],
    [
      'job-retired',
      JSON.stringify({
        log_files: [],
        retired_files: [{ key: keyOf('job-good', 1), retired_at: '2026-11-01T00:00:00Z' }],
      }),
      /retired_files\[0\]\.key .* is not a merged key of pod job-retired/,
    ],
  ];

  it('fails that pod with the metadata key named, deletes nothing of it (nor of another pod), and merges the others', async () => {
    const w = await newWorld('bad-meta');
    await good(w, 'job-good', 1, 'g');
    const sidecarKey = await putRaw(w.client, w.bucket, {
      pod: 'job-sidecar',
      namespace: NS,
      container: 'istio-proxy',
      containerId: '7e7e',
      slice: '202611251000',
      index: 1,
      lines: [parsedLine({ time: '2026-11-25T10:00:00Z', log: 'sidecar' })],
    });
    for (const [pod, doc] of bad) {
      await good(w, pod, 1, pod);
      await put(w, metadataKey(pod), doc);
    }
    // job-good is merged first, so that its metadata and raw file exist for the others to name.
    await w.pass({ pods: ['job-good'] });
    const before = Object.fromEntries(
      await Promise.all(bad.map(async ([pod]) => [pod, await podObjects(w, pod)] as const)),
    );
    const goodMeta = (await w.listing()).find((o) => o.key === metadataKey('job-good'))!;

    let index = 1;
    for (const advance of [2 * HOUR, 2 * 24 * HOUR]) {
      w.advance(advance);
      await good(w, 'job-good', ++index, 'more');
      const { summary } = await w.pass();

      expect(summary.pods).toMatchObject({ merged: 1, failed: bad.length });
      const failures = Object.fromEntries(summary.failures.map((f) => [f.pod, f.error]));
      for (const [pod, , message] of bad) {
        expect(failures[pod]).toContain(`metadata ${metadataKey(pod)} is invalid`);
        expect(failures[pod]).toMatch(message);
        expect(await podObjects(w, pod)).toEqual(before[pod]);
        expect(await w.keys(cleanupKey(pod))).toEqual([]);
      }
    }
    expect(await w.keys(sidecarKey)).toEqual([sidecarKey]);
    const goodAfter = (await w.listing()).find((o) => o.key === metadataKey('job-good'));
    expect(goodAfter).toBeDefined();
    expect(goodAfter!.etag).not.toBe(goodMeta.etag); // it went on merging
    expect(await w.read('job-good')).toBe('g-0\ng-1\nmore-0\nmore-1\nmore-0\nmore-1\n');
  });

  it('fails the read with MetadataError naming the key', async () => {
    const w = await newWorld('bad-meta-read');
    for (const [pod, doc, message] of bad) {
      await good(w, pod, 1, pod);
      await put(w, metadataKey(pod), doc);
      const { records, error } = await readUntilError(w.reader, pod);
      expect(records).toEqual([]);
      expect(error).toBeInstanceOf(MetadataError);
      expect(error).toMatchObject({ code: 'ERR_BAD_METADATA', key: metadataKey(pod) });
      expect((error as Error).message).toMatch(message);
    }
  });
});

describe('a merged file the metadata lists, deleted by hand', () => {
  /** job-1 with two merged files (a container restart splits them), a newer raw file, and job-2. */
  async function twoMergedFiles(w: World): Promise<{ first: string; last: string }> {
    await w.container('job-1', '0f3a').upload(messages('a', 2, T0));
    await w.container('job-1', 'ffff', { firstIndex: 2 }).upload(messages('b', 2, new Date(T0.getTime() + MINUTE)));
    await w.pass();
    const [first, last] = (await w.metadata('job-1')).logFiles.map((f) => f.key) as [string, string];
    expect(last).toBeDefined();
    return { first, last };
  }

  it.each([
    ['the last listed file', 'last', ['a-0', 'a-1']],
    ['an earlier listed file', 'first', []],
  ] as const)(
    'fails the read with ObjectVanishedError naming the pod and %s, after re-planning, without repeating a record',
    async (_what, which, returned) => {
      const w = await newWorld('gone-read');
      const files = await twoMergedFiles(w);
      await w.client.send(new DeleteObjectCommand({ Bucket: w.bucket, Key: files[which] }));

      const { records, error } = await readUntilError(w.reader, 'job-1');

      expect(error).toBeInstanceOf(ObjectVanishedError);
      expect(error).toMatchObject({ code: 'ERR_OBJECT_VANISHED', pod: 'job-1', key: files[which] });
      expect((error as Error).message).toBe(
        `pod job-1: object ${files[which]} vanished while reading, even after re-reading the metadata`,
      );
      expect(records.map((r) => r.message)).toEqual(returned);
    },
  );

  it.each([
    ['the last listed file (the one a pass would continue)', 'last'],
    ['an earlier listed file', 'first'],
  ] as const)(
    'fails the pod naming the pod and %s, and deletes nothing of it, even the raw files due',
    async (_what, which) => {
      const w = await newWorld('gone-pass');
      const files = await twoMergedFiles(w);
      await w.client.send(new DeleteObjectCommand({ Bucket: w.bucket, Key: files[which] }));
      await w.container('job-1', 'ffff', { firstIndex: 3 }).upload(messages('c', 1, new Date(T0.getTime() + HOUR)));
      await w.container('job-2', '0f3b').upload(messages('x', 1, T0));
      // The raw files merged into the deleted file now hold its only copy: they must stay.
      const before = await podObjects(w, 'job-1');
      expect(Object.keys(before).filter((k) => k.startsWith('kube.'))).toHaveLength(3);

      for (const advance of [HOUR, 2 * HOUR, 7 * 24 * HOUR]) {
        w.advance(advance);
        const { summary } = await w.pass();

        expect(summary.pods).toMatchObject({ merged: advance === HOUR ? 1 : 0, failed: 1 });
        expect(summary.failures).toEqual([
          {
            pod: 'job-1',
            error: `pod job-1: metadata/job-1.json lists ${files[which]}, which is not in the bucket (deleted by hand?); nothing of the pod is merged or deleted until it is restored or its entry removed from the metadata`,
          },
        ]);
        expect(await podObjects(w, 'job-1')).toEqual(before);
      }
      expect(await w.read('job-2')).toBe('x-0\n');
    },
  );
});

describe('pod names that could leave their prefixes', () => {
  const BAD_NAMES = [
    '..',
    '../metadata/job-1',
    'a/b',
    'job-1/',
    '/job-1',
    'jöb-1',
    'јob-1',
    'Job-1',
    'job_1',
    'job 1',
    ' job-1',
    'job\u0000',
    'job-1\n',
    'job\u001b[31m',
    'job\t1',
    '',
    '-job',
    'a..b',
    'a'.repeat(254),
  ];

  it.each(BAD_NAMES.map((pod) => [JSON.stringify(pod), pod]))(
    'LogReader refuses %s before any request',
    async (_shown, pod) => {
      const w = await newWorld('bad-pod-reader');
      let requests = 0;
      const client = { send: (command: never) => ((requests += 1), w.client.send(command)) };
      const reader = new LogReader({ client: client as unknown as typeof w.client, bucket: w.bucket });

      await expect(reader.plan(pod)).rejects.toThrow(InvalidPodNameError);
      await expect(readUntilError(reader, pod)).resolves.toMatchObject({
        records: [],
        error: { code: 'ERR_INVALID_POD_NAME', pod },
      });
      await expect(text(reader.createReadStream(pod))).rejects.toThrow(InvalidPodNameError);
      expect(requests).toBe(0);
    },
  );

  it('ignores raw keys whose pod part is not a pod name, and writes or deletes only under valid pods', async () => {
    const w = await newWorld('bad-pod-keys');
    const names = [
      'a..b',
      '..',
      'jöb-1',
      'Job-1',
      'job 1',
      'job\t1',
      'job\u0001',
      'job\u001b',
      '-job',
      'a/b',
      'job-1.',
    ];
    for (const pod of names) {
      await put(
        w,
        rawKey({ pod, namespace: NS, container: pod, containerId: '0f3a', slice: '202611251000', index: 1 }),
        `${parsedLine({ time: '2026-11-25T10:00:00Z', log: `stray ${pod}` })}\n`,
      );
    }
    // Cleanup-queue entries that are not pod names: never taken for a pod. (`..` not as a
    // whole path segment: versitygw, a file system underneath, refuses those.)
    for (const key of [
      'cleanup/a..b',
      'cleanup/..job',
      'cleanup/Job-1',
      'cleanup/a/b',
      'cleanup/jöb-1',
      'cleanup/job\u0001',
    ])
      await put(w, key, '');
    await good(w, 'job-1', 1, 'ok');
    // As listed (versitygw lists a control character as U+FFFD): compared listing to listing.
    const strays = (await w.listing()).filter((o) => !o.key.startsWith(rawPodPrefix('job-1')));
    expect(strays).toHaveLength(names.length + 6);
    const before = new Set((await w.listing()).map((o) => o.key));

    for (const advance of [0, HOUR, 30 * 24 * HOUR]) {
      w.advance(advance);
      const { summary, reports } = await w.pass();
      expect(summary.pods.failed).toBe(0);
      expect(reports.filter((r) => r.pod !== 'job-1')).toEqual([]);
    }

    const listing = await w.listing();
    const after = listing.map((o) => o.key);
    // Every stray object is still there, unchanged; every key the passes wrote belongs to job-1.
    expect(listing).toEqual(expect.arrayContaining(strays));
    const written = after.filter((k) => !before.has(k));
    const ownKey = /^(data\/job-1\/.+|metadata\/job-1\.json|cleanup\/job-1|leases\/job-1\.json|leases\/\.[^/]+)$/;
    expect(written.filter((k) => !ownKey.test(k))).toEqual([]);
    expect(written).toContain(metadataKey('job-1'));
    expect(await w.read('job-1')).toBe('ok-0\nok-1\n');
    await expect(w.read('job-2')).rejects.toMatchObject({ code: 'ERR_POD_NOT_FOUND', pod: 'job-2' });
  });
});
