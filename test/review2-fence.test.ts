// Review 2 of issue 15's last fixes: the fence of a pod without metadata (clean.ts deleteDue,
// commit.ts fence/unfence) against a stalled holder and against a reader in flight.
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { LogReader, type LogRecord } from '@platform/log-reader';
import { testS3Client } from './support/s3.js';
import { HOUR, messages, newWorld, type World } from './support/world.js';

const T0 = new Date('2026-11-25T10:00:00Z');
const META = 'metadata/job-1.json';

/** job-1: six raw files of 20 records, no metadata, and a crashed pass's merged file under data/. */
async function podWithOrphan(name: string): Promise<World> {
  const w = await newWorld(name);
  const fb = w.container('job-1', '0f3a');
  for (let i = 0; i < 6; i++) await fb.upload(messages(`f${i}`, 20, new Date(T0.getTime() + i * 60_000)));
  await w.client.send(
    new PutObjectCommand({ Bucket: w.bucket, Key: 'data/job-1/crashed-pass.ndjson.gz', Body: 'left by a crash' }),
  );
  // The orphan is due (older than the cleanup interval, by the compactor's clock).
  w.advance(2 * HOUR);
  return w;
}

/** A client that runs `before` once, right before its first request of `command` on `key`. */
function interleavedAt(command: string, key: string | undefined, before: () => Promise<void>): S3Client {
  const client = testS3Client();
  let done = false;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { Key?: string };
      if (!done && context.commandName === command && (key === undefined || input.Key === key)) {
        done = true;
        await before();
      }
      return next(args);
    },
    { step: 'initialize', name: 'review2Interleave' },
  );
  return client;
}

/** Drops If-Match / If-None-Match of DeleteObject only: a store without conditional deletes. */
function withoutConditionalDeletes(client: S3Client): S3Client {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const request = args.request as { headers?: Record<string, string> };
      if (context.commandName === 'DeleteObjectCommand' && request.headers)
        for (const name of Object.keys(request.headers))
          if (/^if-(none-)?match$/i.test(name)) delete request.headers[name];
      return next(args);
    },
    { step: 'build', name: 'review2DropDeleteConditions' },
  );
  return client;
}

describe('unfence (commit.ts) against a holder that stalls between its HEAD and its DELETE', () => {
  it('never deletes the commit of the compactor that took the pod over (store without conditional deletes)', async () => {
    const w = await podWithOrphan('review2-unfence');
    // A fences job-1 (no metadata), deletes the orphan, HEADs the fence, then stalls past its
    // lease: B takes the pod over and commits on top of the fence. Then A's DELETE goes out.
    let takeover: unknown;
    let committed: string[] = [];
    const stalled = interleavedAt('DeleteObjectCommand', META, async () => {
      w.advance(HOUR);
      takeover = (await w.pass()).reports.find((r) => r.pod === 'job-1');
      committed = (await w.metadata('job-1')).logFiles.map((f) => f.key);
    });
    await w.passWith(withoutConditionalDeletes(stalled)).catch(() => undefined);
    expect(takeover).toMatchObject({ status: 'merged' });
    expect(committed.length).toBeGreaterThan(0);
    // B's commit must stand: it lists the merged files and the raw files it merged.
    expect(await w.keys('metadata/')).toEqual([META]);
    expect((await w.metadata('job-1')).logFiles.length).toBeGreaterThan(0);
  });
});

describe("a fence's log_id (commit.ts fence) against a reader in flight", () => {
  it('does not fail a read of a pod that never expired with LogExpiredError', async () => {
    const w = await podWithOrphan('review2-fence-logid');
    const reader = new LogReader({ client: w.client, bucket: w.bucket, readAhead: 0 });
    const read = reader.records('job-1')[Symbol.asyncIterator]();
    // The reader plans while the fence stands (between the fence's PUT and the orphan's delete).
    const pass = interleavedAt('DeleteObjectsCommand', undefined, async () => {
      expect((await w.metadata('job-1')).logId).toEqual(expect.any(String));
      expect((await read.next()).done).toBe(false);
    });
    const merged = await w.passWith(pass);
    expect(merged.reports.find((r) => r.pod === 'job-1')).toMatchObject({ status: 'merged', deletedOrphans: 1 });
    // A cleanup interval on, the merged raw files go (the reader planned on them: it re-plans).
    w.advance(2 * HOUR);
    await w.pass();
    expect(await w.keys('kube.')).toEqual([]);
    const out: LogRecord[] = [];
    const rest = async (): Promise<number | Error> => {
      try {
        for (let r = await read.next(); !r.done; r = await read.next()) out.push(r.value);
        return out.length + 1;
      } catch (error) {
        return error as Error;
      }
    };
    // Nothing expired: every record, in order (the first was returned before).
    expect(await rest()).toBe(120);
  });
});

describe('log_id and a document the Python service rewrote (docs/operations.md: going back to it)', () => {
  it('does not fail a read in flight with LogExpiredError when the Python service commits', async () => {
    const w = await newWorld('review2-python-logid');
    const fb = w.container('job-1', '0f3a');
    for (let i = 0; i < 3; i++) await fb.upload(messages(`f${i}`, 20, new Date(T0.getTime() + i * 60_000)));
    await w.pass();
    expect((await w.metadata('job-1')).logId).toEqual(expect.any(String));
    for (let i = 3; i < 6; i++) await fb.upload(messages(`f${i}`, 20, new Date(T0.getTime() + i * 60_000)));
    const reader = new LogReader({ client: w.client, bucket: w.bucket, readAhead: 0 });
    const read = reader.records('job-1')[Symbol.asyncIterator]();
    expect((await read.next()).done).toBe(false);
    // The Python service's pass: the new raw files merged, its own document (log_files,
    // last_compaction_time, last_merged_key: no field of ours), the merged raw files deleted at once.
    w.advance(HOUR);
    await w.pass();
    const ours = JSON.parse(
      (await (await w.client.send(new GetObjectCommand({ Bucket: w.bucket, Key: META }))).Body?.transformToString()) ??
        '{}',
    ) as Record<string, unknown>;
    const python = {
      log_files: ours['log_files'],
      last_compaction_time: ours['last_compaction_time'],
      last_merged_key: ours['last_merged_key'],
    };
    await w.client.send(new PutObjectCommand({ Bucket: w.bucket, Key: META, Body: JSON.stringify(python) }));
    for (const key of await w.keys('kube.'))
      await w.client.send(new DeleteObjectCommand({ Bucket: w.bucket, Key: key }));
    let n = 1;
    let outcome: number | Error;
    try {
      while (!(await read.next()).done) n += 1;
      outcome = n;
    } catch (error) {
      outcome = error as Error;
    }
    // The log never expired: the read re-plans on the Python document and ends whole.
    expect(outcome).toBe(120);
  });
});
