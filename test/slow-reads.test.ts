// Reads that take long. One that outlasts many deleting passes: every pass makes the reader meet
// a deleted object and re-plan, and every re-plan takes it further.
// One that starts on a pod's first raw files while the listing goes on (raw-listing.ts). With
// more raw keys than a few listing pages, the order must still be raw-file order (the index is
// a number: `_10` lists before `_9`), and the listing must still be one a reader can rely on:
// a raw file the metadata it read does not cover is only deleted a cleanup interval after a
// later commit, so every listing page has to be read within that time of the metadata, not
// when a slow reader gets to it.
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { LogReader, type LogRecord } from '@platform/log-reader';
import { formatSlice, metadataKey, rawKey } from '@platform/log-reader/layout';
import { parsedLine } from '@platform/testkit';
import { testS3Client } from './support/s3.js';
import { HOUR, MINUTE, messages, newWorld } from './support/world.js';

const POD = 'job-1';
const T0 = new Date('2026-11-25T10:00:00Z');
const DELETING_PASSES = 8;

/** One raw file of one record, `message`, keyed by `slice` and `index`. */
async function putRawRecord(
  client: S3Client,
  bucket: string,
  slice: string,
  index: number,
  message: string,
  containerId = '0f3a',
): Promise<string> {
  const key = rawKey({ pod: POD, namespace: 'jobs', container: POD, containerId, slice, index });
  const time = `${slice.slice(0, 4)}-${slice.slice(4, 6)}-${slice.slice(6, 8)}T${slice.slice(8, 10)}:${slice.slice(10, 12)}:00.000000001Z`;
  await client.send(
    new PutObjectCommand({ Bucket: bucket, Key: key, Body: `${parsedLine({ time, log: message })}\n` }),
  );
  return key;
}

/** Runs `work` on every item, `limit` at a time. */
async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

const slice = (minutes: number): string => formatSlice(new Date(T0.getTime() + minutes * MINUTE));

describe('a read of a pod with more raw files than the listing pages hold', () => {
  it('returns them in raw-file order when their indexes sort differently as text across page boundaries', async () => {
    const w = await newWorld('paced-order');
    // 1,150 files of one slice (one node's counter: `_1`, `_10`, `_100`, `_1000`, … as text),
    // between a slice before and a slice after, and a restarted container's files among them.
    const files: { slice: string; index: number; message: string; containerId: string }[] = [];
    for (let i = 1; i <= 3; i++) files.push({ slice: slice(0), index: i, message: `before-${i}`, containerId: '0f3a' });
    for (let i = 4; i <= 1153; i++)
      files.push({ slice: slice(1), index: i, message: `same-slice-${i}`, containerId: '0f3a' });
    for (let i = 1; i <= 5; i++)
      files.push({ slice: slice(2), index: i, message: `restarted-${i}`, containerId: '0000' });
    for (let i = 1154; i <= 1160; i++)
      files.push({ slice: slice(3), index: i, message: `after-${i}`, containerId: '0f3a' });
    await eachLimited(files, 16, (f) => putRawRecord(w.client, w.bucket, f.slice, f.index, f.message, f.containerId));
    const expected = files.map((f) => f.message);

    expect((await w.records(POD)).map((r) => r.message)).toEqual(expected);
    await w.pass({ compactIntervalMs: 0 });
    expect(await w.keys('metadata/')).toEqual([`metadata/${POD}.json`]);
    expect((await w.records(POD)).map((r) => r.message)).toEqual(expected);
  });

  // A reader reads the merged files first; the raw listing's later pages wait for it (read-ahead
  // of one batch). A slow reader (a paused stream) then lists the raw files its metadata does not
  // cover long after it read that metadata: meanwhile a pass merged them and, a cleanup interval
  // later, another deleted them. They are neither listed nor met as missing: the read ends
  // quietly without their records.
  it('returns the raw files its metadata does not cover even when the reader is slower than the cleanup interval', async () => {
    const w = await newWorld('paced-gap');
    const config = { compactIntervalMs: MINUTE, cleanupIntervalMs: MINUTE };
    // 1,110 raw files, merged by a first pass (still there, waiting for deletion): more than
    // the reader's first page (100 keys) and the next page (1,000).
    const merged = Array.from({ length: 1110 }, (_, i) => ({ slice: slice(i), index: i + 1, message: `merged-${i}` }));
    await eachLimited(merged, 16, (f) => putRawRecord(w.client, w.bucket, f.slice, f.index, f.message));
    await w.pass(config);
    // 20 raw files the first pass did not see: the metadata the reader will read does not cover them.
    const late = Array.from({ length: 20 }, (_, i) => ({
      slice: slice(2000 + i),
      index: 2000 + i,
      message: `late-${i}`,
    }));
    for (const f of late) await putRawRecord(w.client, w.bucket, f.slice, f.index, f.message);

    // The reader's client counts the listing answers it has received.
    const client = testS3Client();
    let listings = 0;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        if (context.commandName === 'ListObjectsV2Command') listings += 1;
        return result;
      },
      { step: 'initialize', name: 'countListings' },
    );
    const records = new LogReader({ client, bucket: w.bucket, readAhead: 1 }).records(POD);
    const read: LogRecord[] = [];
    const first = await records.next();
    if (!first.done) read.push(first.value);
    // Whatever the reader lists while it is busy with the merged file (its listing goes on at
    // its own pace): let every request it has in flight be answered.
    for (let seen = -1; seen !== listings;) {
      seen = listings;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }

    // The reader is slow: a pass merges the late files; a cleanup interval later the next one
    // deletes every merged raw file. The merged files stay (no file was continued).
    w.advance(2 * MINUTE);
    await w.pass({ ...config, maxFileSize: 1024 });
    w.advance(2 * MINUTE);
    await w.pass(config);
    expect(await w.keys('kube.')).toEqual([]);

    for (let next = await records.next(); !next.done; next = await records.next()) read.push(next.value);
    const expected = [...merged, ...late].map((f) => f.message);
    expect(read.length).toBe(expected.length);
    expect(read.map((r) => r.message)).toEqual(expected);
  });
});

describe('a read that outlasts many deleting passes', () => {
  it(`returns every record once, in order, across ${DELETING_PASSES} passes that delete what it planned on`, async () => {
    const w = await newWorld('slow-read');
    const fb = w.container(POD, '0f3a');
    const config = { cleanupIntervalMs: MINUTE };
    let minute = 0;
    const uploaded: string[] = [];
    const upload = async (): Promise<void> => {
      for (let file = 0; file < 2; file++) {
        const batch = messages(`m${minute}`, 2, new Date(T0.getTime() + minute++ * MINUTE));
        await fb.upload(batch);
        uploaded.push(...batch.map((m) => m.log));
      }
    };

    // The reader's own client counts its plans: each one starts with a GET of the metadata.
    const client = testS3Client();
    let plans = 0;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { Key?: string };
        if (context.commandName === 'GetObjectCommand' && input.Key === metadataKey(POD)) plans += 1;
        return next(args);
      },
      { step: 'initialize', name: 'countPlans' },
    );
    const records = new LogReader({ client, bucket: w.bucket, readAhead: 1 }).records(POD);
    const read: LogRecord[] = [];
    /** Pulls until the reader has returned the first `n` records uploaded (no GET ahead of them). */
    const pullTo = async (n: number): Promise<void> => {
      while (read.length < n) {
        const next = await records.next();
        if (next.done) throw new Error(`the read ended after ${read.length} records`);
        read.push(next.value);
      }
    };

    // The reader has read the merged file and planned on raw files it has not opened yet.
    await upload();
    await w.pass(config);
    await upload();
    await pullTo(uploaded.length / 2);
    for (let round = 0; round < DELETING_PASSES; round++) {
      // A pass merges the raw files the reader planned on, continuing the merged file; an
      // hour later the next one deletes them and the replaced merged file.
      w.advance(HOUR);
      await w.pass(config);
      const merged = uploaded.length;
      w.advance(HOUR);
      await w.pass(config);
      expect(await w.keys('kube.')).toEqual([]);
      // New raw files, then the reader reads on: it meets a deleted raw file, re-plans, and
      // stops at the end of the merged file, before the raw files of its new plan.
      await upload();
      await pullTo(merged);
    }
    for (let next = await records.next(); !next.done; next = await records.next()) read.push(next.value);

    expect(read.map((r) => r.message)).toEqual(uploaded);
    expect(plans).toBeGreaterThan(DELETING_PASSES);
    expect(await w.records(POD)).toEqual(read);
  });
});
