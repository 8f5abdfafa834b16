// MergeWriter against the real server: lines go to gzip in 64 KiB chunks, so a file's bytes
// reach gzip later than its records are counted. File boundaries must still fall at
// max-file-size, every line must be in the file it was counted in, and an upload that fails
// must fail the merge (no hang), whether the lines were still waiting for their chunk or not.
import { randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { encodeMergedLine, type LogRecord } from '@platform/log-reader/layout';
import { MergeWriter } from 'compactor';
import { createTestBucket, getObjectBytes, testS3Client } from './support/s3.js';

const clock = (): Date => new Date('2026-11-25T11:00:00Z');

function record(i: number, containerId: string, length: number): LogRecord {
  const time = `2026-11-25T10:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}.123456789Z`;
  return { time, message: `${i} ${'x'.repeat(length)}`, stream: i % 7 === 0 ? 'stderr' : 'stdout', containerId };
}

/** A writer into a new bucket, its files numbered in the order they start. */
async function writerIn(
  name: string,
  maxFileSize: number,
): Promise<{ client: ReturnType<typeof testS3Client>; bucket: string; writer: MergeWriter }> {
  const client = testS3Client();
  const bucket = await createTestBucket(name, client);
  let n = 0;
  const nextKey = (id: string): string => `data/job-1/${id}/202611251100_${++n}.gz`;
  const writer = new MergeWriter({ store: { client, bucket }, maxFileSize, nextKey, clock, dryRun: false });
  return { client, bucket, writer };
}

describe('MergeWriter', () => {
  it('puts each line in the file it was counted in, files at most max-file-size, across chunks and container ids', async () => {
    const maxFileSize = 300 * 1024;
    const { client, bucket, writer } = await writerIn('merge-writer', maxFileSize);
    // ~1 MiB of one container (several files, many chunks each), a record larger than a file,
    // a container change while lines wait for their chunk, and one exactly filling a file.
    const records: LogRecord[] = [];
    for (let i = 0; i < 5000; i++) records.push(record(i, '0f3a', 100 + (i % 300)));
    records.push(record(5000, '0f3a', 400 * 1024));
    for (let i = 5001; i < 5010; i++) records.push(record(i, '0f3a', 50));
    for (let i = 5010; i < 5020; i++) records.push(record(i, '0000', 50));
    const exact = `${encodeMergedLine(record(5020, '0000', 0))}\n`.length;
    records.push(record(5020, '0000', maxFileSize - exact));
    for (const r of records) await writer.write(r);
    const files = await writer.close();
    expect(files.length).toBeGreaterThan(5);

    let at = 0;
    for (const file of files) {
      const text = gunzipSync(await getObjectBytes(client, bucket, file.key)).toString('utf8');
      const lines = records.slice(at, at + file.recordsCount);
      at += file.recordsCount;
      expect(text).toBe(lines.map((r) => `${encodeMergedLine(r)}\n`).join(''));
      expect(Buffer.byteLength(text)).toBe(file.size);
      if (file.recordsCount > 1) expect(file.size).toBeLessThanOrEqual(maxFileSize);
      expect(new Set(lines.map((r) => r.containerId))).toEqual(new Set([file.containerId]));
    }
    expect(at).toBe(records.length);
    // Boundaries where the rule puts them: a file ends only when the next line would not fit.
    for (let i = 0; i + 1 < files.length; i++) {
      const next = records[files.slice(0, i + 1).reduce((s, f) => s + f.recordsCount, 0)] as LogRecord;
      const file = files[i] as (typeof files)[number];
      if (next.containerId === file.containerId)
        expect(file.size + Buffer.byteLength(`${encodeMergedLine(next)}\n`)).toBeGreaterThan(maxFileSize);
    }
  });

  it('writes text beyond ASCII byte for byte, files cut by its UTF-8 bytes, records given a batch at a time', async () => {
    const maxFileSize = 256 * 1024;
    const { client, bucket, writer } = await writerIn('merge-writer-utf8', maxFileSize);
    const texts = ['zweite Zeile – ü', '世界', '🎉 done', 'lone \ud800 surrogate', 'ascii'];
    const at = (i: number, message: string): LogRecord => ({ ...record(i, '0f3a', 0), message });
    const size = (r: LogRecord): number => Buffer.byteLength(`${encodeMergedLine(r)}\n`);
    const records: LogRecord[] = [];
    for (let i = 0; i < 200; i++)
      records.push(at(i, `${i} ${(texts[i % texts.length] as string).repeat(1 + (i % 40))}`));
    // Three bytes a character, more than the room left after the lines before it.
    records.push(at(200, '世'.repeat(30_000)));
    for (let i = 201; i < 300; i++)
      records.push(at(i, `${i} ${(texts[i % texts.length] as string).repeat(1 + (i % 40))}`));
    // A line larger than a file (a file of its own); then a file filled to the byte by a line that
    // fits by its bytes though not by three bytes a character: it must stay in that file.
    records.push(at(300, 'é'.repeat(maxFileSize)));
    const last = at(302, 'x'.repeat(100));
    records.push(at(301, 'a'.repeat(maxFileSize - size(last) - size(at(301, '')))));
    records.push(last);
    records.push(at(303, 'é'.repeat(20_000)));
    for (let i = 0; i < records.length; i += 37) await writer.writeAll(records.slice(i, i + 37));
    const files = await writer.close();

    let next = 0;
    for (const file of files) {
      const bytes = gunzipSync(await getObjectBytes(client, bucket, file.key));
      const lines = records.slice(next, next + file.recordsCount);
      next += file.recordsCount;
      expect(bytes.equals(Buffer.from(lines.map((r) => `${encodeMergedLine(r)}\n`).join('')))).toBe(true);
      expect(bytes.length).toBe(file.size);
      if (file.recordsCount > 1) expect(file.size).toBeLessThanOrEqual(maxFileSize);
    }
    expect(next).toBe(records.length);
    // A file ends only when the next line's bytes would not fit.
    let done = 0;
    for (const file of files.slice(0, -1)) {
      done += file.recordsCount;
      expect(file.size + size(records[done] as LogRecord)).toBeGreaterThan(maxFileSize);
    }
    expect(files.at(-2)).toMatchObject({ recordsCount: 2, size: maxFileSize });
  });

  it.each([
    ['lines still waiting for their chunk (under 64 KiB)', 10],
    ['lines handed to gzip (several chunks)', 20_000],
  ])('fails the merge when the upload fails: %s', async (_what, count) => {
    const client = testS3Client();
    // A bucket that does not exist: every upload fails.
    const writer = new MergeWriter({
      store: { client, bucket: 'no-such-bucket-merge-writer' },
      maxFileSize: 10 * 1024 * 1024,
      nextKey: () => 'data/job-1/0f3a/202611251100_1.gz',
      clock,
      dryRun: false,
    });
    const written = (async () => {
      for (let i = 0; i < count; i++) await writer.write(record(i, '0f3a', 100));
      return writer.close();
    })();
    await expect(written).rejects.toThrow();
  });

  it('fails the merge when a part of a multipart upload fails half-way', async () => {
    const client = testS3Client();
    const bucket = await createTestBucket('merge-writer-part', client);
    let parts = 0;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'UploadPartCommand' && ++parts === 2) throw new Error('injected: part 2 lost');
        return next(args);
      },
      { step: 'initialize', name: 'failPart' },
    );
    const writer = new MergeWriter({
      store: { client, bucket },
      maxFileSize: 100 * 1024 * 1024,
      nextKey: () => 'data/job-1/0f3a/202611251100_1.gz',
      clock,
      dryRun: false,
    });
    // Hex does not compress below half: ~14 MiB of it is more than two 5 MiB parts of gzip.
    const noise = (i: number): string => randomBytes(500).toString('hex') + String(i);
    const written = (async () => {
      for (let i = 0; i < 14_000; i++)
        await writer.write({ time: '2026-11-25T10:00:00Z', message: noise(i), stream: 'stdout', containerId: '0f3a' });
      return writer.close();
    })();
    await expect(written).rejects.toThrow('part 2 lost');
    expect(parts).toBeGreaterThanOrEqual(2);
  });
});
