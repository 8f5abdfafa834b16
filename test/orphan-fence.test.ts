// The fence the clean phase writes on a pod without metadata before deleting its leftovers
// (clean.ts deleteDue, commit.ts fence/unfence): against a stalled holder on a store without
// conditional deletes, and against a reader in flight; and log_id when a bucket goes back to the
// Python service.
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
    { step: 'initialize', name: 'interleave' },
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
    { step: 'build', name: 'dropDeleteConditions' },
  );
  return client;
}

describe('the fence of a pod without metadata, on a store without conditional deletes', () => {
  it('stays (an empty document), so that no stalled compactor can delete the commit of the one that took over', async () => {
    const w = await podWithOrphan('fence-without-conditional-deletes');
    // On such a store, a compactor that stalled between its check of the fence and its DELETE
    // would remove the commit of the one that took the pod over: the fence is never deleted.
    const deletes: string[] = [];
    const client = withoutConditionalDeletes(testS3Client());
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const key = (args.input as { Key?: string }).Key;
        if (context.commandName === 'DeleteObjectCommand' && key !== undefined) deletes.push(key);
        return next(args);
      },
      { step: 'initialize', name: 'recordDeletes' },
    );
    const result = await w.passWith(client);
    expect(result.reports.find((r) => r.pod === 'job-1')).toMatchObject({ deletedOrphans: 1 });
    expect(deletes).not.toContain(META);
    expect(await w.keys('metadata/')).toEqual([META]);
    // The log is whole: what the pass merged is listed there.
    expect((await w.records('job-1')).length).toBe(120);
  });
});

describe("a fence's log_id (commit.ts fence) against a reader in flight", () => {
  it('does not fail a read of a pod that never expired with LogExpiredError', async () => {
    const w = await podWithOrphan('fence-log-id');
    const reader = new LogReader({ client: w.client, bucket: w.bucket, readAhead: 0 });
    const read = reader.records('job-1')[Symbol.asyncIterator]();
    // The reader plans while the fence stands (between the fence's PUT and the orphan's delete).
    const pass = interleavedAt('DeleteObjectsCommand', undefined, async () => {
      // The fence starts no log: it has no log_id (commit.ts logIdOf).
      expect((await w.metadata('job-1')).logId).toBeUndefined();
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
    const w = await newWorld('python-log-id');
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
