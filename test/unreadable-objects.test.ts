// Objects that arrived whole but cannot be decoded (docs/design.md §8): a gzip whose data after
// the magic bytes is garbage, a gzip stored cut short, a merged file damaged in the bucket.
// They never block their pod: the pass merges around them, keeps and records them, counts
// them and exits 0; `inspect` shows them; a read reports them and goes on (or, strict,
// fails with UnreadableObjectError); the CLI warns once and exits 0. A body cut in transit
// is not one of them: it is retried, and merged whole.
import { text } from 'node:stream/consumers';
import { gzipSync } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createS3Client, LogReader, UnreadableObjectError, type LogRecord } from '@platform/log-reader';
import { cleanupKey, metadataKey, rawKey } from '@platform/log-reader/layout';
import { parsedLine } from '@platform/testkit';
import { inspectPod, runPass, silentLogger, type PassResult } from 'compactor';
import { COMPACTOR_BIN, jsonLines, LOG_READER_BIN, runCli, s3Env } from './support/cli.js';
import { PASS, startFaultProxy } from './support/fault-proxy.js';
import { recordRequests } from './support/requests.js';
import { passWithLogs } from './support/pass-logs.js';
import { pseudoRandomBytes } from './support/random-bytes.js';
import { HOUR, messages, newWorld, testConfig, type World } from './support/world.js';

const T0 = new Date('2026-11-25T10:00:00Z');
const NS = 'jobs';
const CLEANUP = 30 * 60_000;

function keyOf(pod: string, index: number): string {
  return rawKey({ pod, namespace: NS, container: pod, containerId: '0f3a', slice: '202611251000', index });
}

async function put(w: World, key: string, body: string | Uint8Array): Promise<string> {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  await w.client.send(new PutObjectCommand({ Bucket: w.bucket, Key: key, Body: bytes, ContentLength: bytes.length }));
  return key;
}

function ndjson(prefix: string, n: number): string {
  return messages(prefix, n, T0)
    .map((m) => `${parsedLine(m)}\n`)
    .join('');
}

/** A gzip whose data after the magic bytes is garbage. */
const BAD_GZIP = Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), pseudoRandomBytes(2000, 7)]);

/** job-bad: good, garbage gzip, good. job-cut: good, a gzip stored cut in half (200 lines), good. */
async function podsWithUnreadableFiles(w: World): Promise<{ bad: string; cut: string }> {
  await put(w, keyOf('job-bad', 1), ndjson('a', 2));
  const bad = await put(w, keyOf('job-bad', 2), BAD_GZIP);
  await put(w, keyOf('job-bad', 3), ndjson('b', 2));
  await put(w, keyOf('job-cut', 1), ndjson('t0', 2));
  const whole = gzipSync(Buffer.from(ndjson('t1', 200)));
  const cut = await put(w, keyOf('job-cut', 2), whole.subarray(0, Math.floor(whole.length / 2)));
  await put(w, keyOf('job-cut', 3), ndjson('t2', 2));
  return { bad, cut };
}

/** A lenient read: its messages and what it reported. */
async function readAround(
  reader: LogReader,
  pod: string,
  options: { tail?: number } = {},
): Promise<{ messages: string[]; reported: string[] }> {
  const reported: string[] = [];
  const out: string[] = [];
  for await (const r of reader.records(pod, { ...options, onUnreadable: (u) => reported.push(u.key) }))
    out.push(r.message);
  return { messages: out, reported };
}

async function strictFailure(reader: LogReader, pod: string): Promise<{ records: LogRecord[]; error: unknown }> {
  const records: LogRecord[] = [];
  try {
    for await (const r of reader.records(pod, { strict: true })) records.push(r);
  } catch (error) {
    return { records, error };
  }
  return { records, error: undefined };
}

const range = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

describe('unreadable objects', () => {
  it('a pass merges every other record around them, keeps and records them, warns once, counts them and fails no pod', async () => {
    const w = await newWorld('unreadable-pass');
    const { bad, cut } = await podsWithUnreadableFiles(w);
    await w.container('job-good', 'bb').upload(messages('g', 2, T0));
    const before = { bad: await readAround(w.reader, 'job-bad'), cut: await readAround(w.reader, 'job-cut') };
    expect(before.bad).toEqual({ messages: [...range('a', 2), ...range('b', 2)], reported: [bad] });
    // Nothing of the cut gzip (checked whole before its first line), then the file after it.
    expect(before.cut).toEqual({ messages: [...range('t0', 2), ...range('t2', 2)], reported: [cut] });
    const etags = Object.fromEntries((await w.listing()).map((o) => [o.key, o.etag]));

    const {
      result: { summary },
      logs,
    } = await passWithLogs(w);
    expect(summary.failures).toEqual([]);
    expect(summary.pods).toMatchObject({ merged: 3, failed: 0 });
    expect(summary.unreadableObjects).toBe(2);
    expect(summary.unreadable).toEqual(
      expect.arrayContaining([
        { pod: 'job-bad', key: bad, reason: expect.stringMatching(/^gzip: /) as unknown },
        { pod: 'job-cut', key: cut, reason: 'gzip: unexpected end of file' },
      ]),
    );
    for (const [pod, key] of [
      ['job-bad', bad],
      ['job-cut', cut],
    ]) {
      const warnings = logs.filter((l) => l['level'] === 'warn' && l['key'] === key);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({ pod, message: expect.stringContaining('cannot be decoded') as unknown });
      const meta = await w.metadata(pod as string);
      expect(meta.unreadableObjects).toEqual([
        { key, reason: expect.stringMatching(/^gzip: /) as unknown, foundAt: meta.lastCompactionTime },
      ]);
      // Counted as merged (the Python service takes it so too), but not a raw file to delete.
      expect(meta.lastMergedKey).toBe(keyOf(pod as string, 3));
      expect((meta.mergedRawFiles ?? []).map((p) => p.key)).toEqual([keyOf(pod as string, 1), keyOf(pod as string, 3)]);
    }
    // Reads after the pass: the same records in the same order, the object still reported.
    expect(await readAround(w.reader, 'job-bad')).toEqual(before.bad);
    expect(await readAround(w.reader, 'job-cut')).toEqual(before.cut);
    expect(await w.read('job-good')).toBe('g-0\ng-1\n');

    // Later passes: nothing fails or is counted again, the objects are never read or deleted,
    // and the pods leave the cleanup queue once their other raw files are gone.
    const sent = recordRequests(w.client);
    for (let pass = 0; pass < 3; pass++) {
      w.advance(2 * HOUR);
      const later = await w.pass({ cleanupIntervalMs: CLEANUP });
      expect(later.summary.failures).toEqual([]);
      expect(later.summary.unreadableObjects).toBe(0);
    }
    expect(sent.filter((r) => r.target === bad || r.target === cut)).toEqual([]);
    const after = Object.fromEntries((await w.listing()).map((o) => [o.key, o.etag]));
    expect(after[bad]).toBe(etags[bad]);
    expect(after[cut]).toBe(etags[cut]);
    expect(after).not.toHaveProperty(keyOf('job-bad', 1));
    expect(after).not.toHaveProperty(keyOf('job-bad', 3));
    expect(after).not.toHaveProperty(cleanupKey('job-bad'));
    expect(after).not.toHaveProperty(cleanupKey('job-cut'));
    expect((await w.metadata('job-bad')).unreadableObjects.map((u) => u.key)).toEqual([bad]);
    expect(await readAround(w.reader, 'job-bad')).toEqual(before.bad);
  });

  it('gives nothing of a raw gzip damaged in its middle, to reads before and after the pass alike', async () => {
    const w = await newWorld('unreadable-middle');
    await put(w, keyOf('job-1', 1), ndjson('a', 2));
    const gz = gzipSync(Buffer.from(ndjson('m', 5000)));
    const damaged = Buffer.from(gz);
    for (let i = Math.floor(gz.length / 2); i < Math.floor(gz.length / 2) + 40; i++) damaged[i] = 0xff;
    const key = await put(w, keyOf('job-1', 2), damaged);
    await put(w, keyOf('job-1', 3), ndjson('b', 2));
    const expected = { messages: [...range('a', 2), ...range('b', 2)], reported: [key] };
    expect(await readAround(w.reader, 'job-1')).toEqual(expected);
    expect((await w.pass()).summary).toMatchObject({ failures: [], unreadableObjects: 1 });
    expect(await readAround(w.reader, 'job-1')).toEqual(expected);
    expect((await w.metadata('job-1')).logFiles.map((f) => f.recordsCount)).toEqual([4]);
  });

  it('a pass does not continue an unreadable last merged file: it starts a new one and keeps the old one listed', async () => {
    const w = await newWorld('unreadable-merged');
    await put(w, keyOf('job-1', 1), ndjson('a', 3));
    await w.pass();
    const [damaged] = (await w.metadata('job-1')).logFiles;
    // The merged file is damaged in the bucket: a line that is not a merged record.
    await put(w, damaged!.key, gzipSync('{"time":"2026-11-25T10:00:00.123456789Z","log":"a-0"}\nnot a record\n'));
    await put(w, keyOf('job-1', 2), ndjson('b', 2));
    w.advance(2 * HOUR);

    const {
      result: { summary },
      logs,
    } = await passWithLogs(w);
    expect(summary.failures).toEqual([]);
    expect(summary.unreadable).toEqual([
      { pod: 'job-1', key: damaged!.key, reason: 'line 2 is not a merged log record' },
    ]);
    expect(logs.filter((l) => l['level'] === 'warn' && l['key'] === damaged!.key)).toHaveLength(1);
    const meta = await w.metadata('job-1');
    expect(meta.logFiles.map((f) => f.key)).toEqual([damaged!.key, expect.not.stringMatching(damaged!.key) as unknown]);
    expect(meta.retiredFiles).toEqual([]);
    expect(meta.unreadableObjects.map((u) => u.key)).toEqual([damaged!.key]);
    // A read: the damaged file's readable record, its other records' places skipped, then the new file.
    expect(await readAround(w.reader, 'job-1')).toEqual({ messages: ['a-0', 'b-0', 'b-1'], reported: [damaged!.key] });
    expect(await readAround(w.reader, 'job-1', { tail: 2 })).toEqual({
      messages: ['b-0', 'b-1'],
      reported: [damaged!.key],
    });

    await put(w, keyOf('job-1', 3), ndjson('c', 1));
    w.advance(2 * HOUR);
    expect((await w.pass()).summary).toMatchObject({ failures: [], unreadableObjects: 0 });
    expect((await w.metadata('job-1')).logFiles[0]?.key).toBe(damaged!.key);
    expect((await readAround(w.reader, 'job-1')).messages).toEqual(['a-0', 'b-0', 'b-1', 'c-0']);
  });

  it('a strict read fails with UnreadableObjectError naming the pod and the key, before and after a pass', async () => {
    const w = await newWorld('unreadable-strict');
    const { bad } = await podsWithUnreadableFiles(w);
    for (const when of ['before', 'after']) {
      const { records, error } = await strictFailure(w.reader, 'job-bad');
      expect(error).toBeInstanceOf(UnreadableObjectError);
      expect(error).toMatchObject({ code: 'ERR_UNREADABLE_OBJECT', key: bad, pod: 'job-bad' });
      expect((error as Error).message).toContain(`pod job-bad: object ${bad} is unreadable: gzip: `);
      if (when === 'before') expect(records.map((r) => r.message)).toEqual(range('a', 2));
      await w.pass();
    }
  });

  it('compactor inspect shows each recorded unreadable object with its reason and exits 0', async () => {
    const w = await newWorld('unreadable-inspect');
    const { bad } = await podsWithUnreadableFiles(w);
    await w.pass();
    const i = await inspectPod({ client: w.client, bucket: w.bucket }, 'job-bad', {
      now: w.now(),
      cleanupIntervalMs: CLEANUP,
    });
    expect(i.unreadableObjects).toEqual([
      {
        key: bad,
        reason: expect.stringMatching(/^gzip: /) as unknown,
        foundAt: expect.any(String) as unknown,
        present: true,
      },
    ]);
    expect(i.problems).toEqual([]);
    const result = await runCli(COMPACTOR_BIN, ['inspect', 'job-bad', '--bucket', w.bucket], s3Env());
    expect(result).toMatchObject({ exitCode: 0, stderr: '' });
    expect(result.stdout).toMatch(/^unreadable objects +1, arrived whole but cannot be decoded/m);
    expect(result.stdout).toMatch(new RegExp(`^  ${bad.replace(/\./g, '\\.')} +gzip: `, 'm'));
  });

  it('compactor run exits 0 with the object in its summary JSON', async () => {
    const w = await newWorld('unreadable-run');
    const { bad } = await podsWithUnreadableFiles(w);
    const result = await runCli(COMPACTOR_BIN, ['run', '--bucket', w.bucket], s3Env());
    expect(result.exitCode).toBe(0);
    const summary = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
    expect(summary).toMatchObject({ unreadableObjects: 2, failures: [] });
    const warned = jsonLines(result.stderr).filter((l) => l['key'] === bad && l['level'] === 'warn');
    expect(warned).toHaveLength(1);
  });

  it('log-reader logs prints every other line, warns once on stderr naming the key, exits 0; --strict exits 1', async () => {
    const w = await newWorld('unreadable-cli');
    const { bad } = await podsWithUnreadableFiles(w);
    const args = ['logs', 'job-bad', '--bucket', w.bucket];
    for (const when of ['before', 'after']) {
      const all = await runCli(LOG_READER_BIN, args, s3Env());
      expect(all).toMatchObject({ exitCode: 0, stdout: 'a-0\na-1\nb-0\nb-1\n' });
      expect(all.stderr.split('\n').filter(Boolean)).toEqual([expect.stringContaining(`object ${bad} is unreadable`)]);
      const tail = await runCli(LOG_READER_BIN, [...args, '--tail', '3'], s3Env());
      expect(tail).toMatchObject({ exitCode: 0, stdout: 'a-1\nb-0\nb-1\n' });
      expect(tail.stderr.split('\n').filter(Boolean)).toHaveLength(1);
      const strict = await runCli(LOG_READER_BIN, [...args, '--strict'], s3Env());
      expect(strict.exitCode).toBe(1);
      expect(strict.stderr).toContain(`pod job-bad: object ${bad} is unreadable`);
      if (when === 'before') await w.pass();
    }
  });

  it('a body cut in transit is retried, never taken for unreadable: the pod fails this pass and the next merges it whole', async () => {
    const w = await newWorld('unreadable-transit');
    const whole = gzipSync(Buffer.from(ndjson('t', 300)));
    const key = await put(w, keyOf('job-1', 1), whole);
    // The next GETs of the file to cut in the middle, for the read, then for the pass.
    let cutsLeft = 1;
    const proxy = await startFaultProxy((r) => {
      if (r.operation !== 'GetObject' || r.key !== key || cutsLeft === 0) return PASS;
      cutsLeft -= 1;
      return { kind: 'cut-body', afterBytes: Math.floor(whole.length / 2) };
    });
    const client = createS3Client({ endpoint: proxy.url, maxAttempts: 3, retryBaseDelayMs: 5 });
    try {
      const reader = new LogReader({ client, bucket: w.bucket });
      // A read re-plans after the cut and returns the whole log, reporting nothing.
      const reported: string[] = [];
      const read = await text(reader.createReadStream('job-1', { onUnreadable: (u) => reported.push(u.key) }));
      expect(read).toBe(
        range('t', 300)
          .map((m) => `${m}\n`)
          .join(''),
      );
      expect(reported).toEqual([]);
      expect(cutsLeft).toBe(0);
      cutsLeft = 1;
      const pass = (): Promise<PassResult> =>
        runPass({
          store: { client, bucket: w.bucket },
          config: testConfig(w.bucket),
          logger: silentLogger(),
          now: w.now,
        });
      const first = await pass();
      expect(first.summary.failures.map((f) => f.pod)).toEqual(['job-1']);
      expect(first.summary.failures[0]?.error).toMatch(/aborted|cut in transit/);
      expect(first.summary.unreadableObjects).toBe(0);
      expect(await w.keys(metadataKey('job-1'))).toEqual([]);
      const second = await pass();
      expect(second.summary).toMatchObject({ failures: [], unreadableObjects: 0 });
      const meta = await w.metadata('job-1');
      expect(meta.unreadableObjects).toEqual([]);
      expect(meta.logFiles.map((f) => f.recordsCount)).toEqual([300]);
      expect(await w.read('job-1')).toBe(read);
    } finally {
      client.destroy();
      await proxy.close();
    }
  });
});
