// Orphans (docs/design.md §8, §5's leftover rule): every object the compactor writes under
// data/ is found by a later pass, even for a pod nothing gives work any more, and deleted once
// it is older than the cleanup interval; files a commit lists never are; an idle pod costs no
// more requests for it.
import { gzipSync } from 'node:zlib';
import { DeleteObjectsCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { metadataKey } from '@platform/log-reader/layout';
import type { FluentBitContainer } from '@platform/testkit';
import { byPod, recordRequests } from './support/requests.js';
import { stallingAt } from './support/hooks.js';
import { testS3Client } from './support/s3.js';
import { startStoreClock } from './support/store-clock.js';
import { passHoursLater, T0, uploadedPod } from './support/stalled-holders.js';
import { HOUR, MINUTE, messages, newWorld, type World } from './support/world.js';

const isMergedWrite = (command: string, key: string): boolean =>
  command === 'PutObjectCommand' && key.startsWith('data/job-1/');

/**
 * A holder's client that stalls right before its merged file's PUT, for longer than its lease.
 * Meanwhile another compactor merges the pod (and a later upload), and hours later cleans it:
 * the cleanup entry is gone, and the job has ended. `after` runs at the end of the stall.
 */
function stalledUntilCleaned(
  w: World,
  fb: FluentBitContainer,
  options: { client?: S3Client; after?: () => Promise<void> } = {},
): S3Client {
  return stallingAt(
    1,
    async () => {
      w.advance(10 * MINUTE);
      await fb.upload(messages('b', 2, new Date(T0.getTime() + 40 * MINUTE)));
      await w.pass({ compactIntervalMs: 0 });
      await passHoursLater(w);
      expect(await w.keys('cleanup/')).toEqual([]);
      await options.after?.();
    },
    { skip: (command, key) => !isMergedWrite(command, key), client: options.client },
  );
}

describe('a stalled holder whose merged file lands after the takeover cleaned the pod', () => {
  it('has the file deleted by a later pass, and never a listed one', async () => {
    const { w, fb } = await uploadedPod('orphan-after-cleanup', 2);
    const expected = ['a-0', 'a-1', 'b-0', 'b-1'];
    const stalled = stalledUntilCleaned(w, fb, {
      // A stall lasts minutes or hours; here at least past the second of the last commit
      // (a listing's LastModified may have a precision of a second).
      after: async () => {
        expect(await w.keys('kube.')).toEqual([]);
        await new Promise((resolve) => setTimeout(resolve, 1100));
      },
    });
    // Killed right after its file lands: it never learns that it lost the pod.
    let landed = false;
    stalled.middlewareStack.add(
      (next, context) => async (args) => {
        if (landed) throw new Error('killed');
        const out = await next(args);
        if (isMergedWrite(context.commandName ?? '', (args.input as { Key?: string }).Key ?? '')) landed = true;
        return out;
      },
      { step: 'initialize', name: 'killedAfterLanding', priority: 'low' },
    );
    await expect(w.passWith(stalled)).rejects.toThrow('killed');
    const listed = (await w.metadata('job-1')).logFiles.map((f) => f.key);
    const orphans = (await w.keys('data/')).filter((k) => !listed.includes(k));
    expect(orphans).toHaveLength(1);
    expect(await w.keys('cleanup/')).toEqual([]);
    // The next daily survey's sweep finds it (newer than the pod's last commit) and queues the pod
    // again; its clean phase deletes it (the clock is hours past its upload).
    const found = await w.pass({ survey: true });
    expect(found.summary.orphanPodsQueued).toBe(1);
    expect(found.reports.find((r) => r.pod === 'job-1')).toMatchObject({ phase: 'clean', deletedOrphans: 1 });
    expect((await w.keys('data/')).sort()).toEqual([...listed].sort());
    expect((await w.records('job-1')).map((r) => r.message)).toEqual(expected);
    // Done: nothing left queued, and nothing found again.
    expect(await w.keys('cleanup/')).toEqual([]);
    expect((await w.pass({ survey: true })).summary.orphanPodsQueued).toBe(0);
  });
});

describe("a stalled holder whose merged file lands in the second of the takeover's last commit", () => {
  it('puts the pod back in the queue when its own commit fails, and a later pass deletes the file', async () => {
    // Every write stamped with one second (store-clock.ts): the late file is not newer than the
    // takeover's last commit, so the sweep cannot tell it from an old listed file.
    let world: World | undefined;
    const second = new Date(Math.floor(Date.now() / 1000) * 1000);
    const store = await startStoreClock(() => second);
    try {
      world = await newWorld('orphan-same-second', store.url);
      const w = world;
      const fb = w.container('job-1', '0f3a');
      await fb.upload(messages('a', 2, T0));
      const stalled = stalledUntilCleaned(w, fb, { client: testS3Client(store.url) });
      const late = await w.passWith(stalled);
      stalled.destroy();
      expect(late.summary.pods.failed).toBe(1);
      expect(late.summary.orphanPodsQueued).toBe(0);
      // The holder that lost its commit put the entry back for what it wrote.
      expect(await w.keys('cleanup/')).toEqual(['cleanup/job-1']);
      const listed = (await w.metadata('job-1')).logFiles.map((f) => f.key);
      expect((await w.keys('data/')).filter((k) => !listed.includes(k))).toHaveLength(1);

      w.advance(HOUR);
      const found = await w.pass();
      expect(found.reports.find((r) => r.pod === 'job-1')).toMatchObject({ phase: 'clean', deletedOrphans: 1 });
      expect((await w.keys('data/')).sort()).toEqual([...listed].sort());
      expect((await w.records('job-1')).map((r) => r.message)).toEqual(['a-0', 'a-1', 'b-0', 'b-1']);
    } finally {
      world?.client.destroy();
      await store.close();
    }
  });
});

describe("a merged file landing after the pod's metadata was deleted", () => {
  it('is deleted once it is older than the cleanup interval, not before, and leaves no metadata', async () => {
    const { w } = await uploadedPod('orphan-without-metadata', 2);
    await w.pass();
    w.advance(HOUR);
    await w.pass();
    // Whole-pod retention deletes everything of the pod; then a stalled writer's file lands.
    const all = [...(await w.keys('data/job-1/')), metadataKey('job-1'), ...(await w.keys('cleanup/'))];
    await w.client.send(
      new DeleteObjectsCommand({ Bucket: w.bucket, Delete: { Objects: all.map((Key) => ({ Key })) } }),
    );
    const key = 'data/job-1/0f3a/202611251000_7.gz';
    await w.client.send(new PutObjectCommand({ Bucket: w.bucket, Key: key, Body: gzipSync('{"log":"x"}\n') }));

    w.advance(-HOUR); // the pass's clock is the upload's again: the file is new to it
    const first = await w.pass({ survey: true });
    expect(first.summary.orphanPodsQueued).toBe(1);
    expect(await w.keys('data/')).toEqual([key]);

    w.advance(31 * MINUTE);
    const due = await w.pass();
    expect(due.reports.find((r) => r.pod === 'job-1')).toMatchObject({ deletedOrphans: 1 });
    expect(await w.keys('data/')).toEqual([]);
    expect(await w.keys('cleanup/')).toEqual([]);
    // The fence before the delete wrote a metadata document for the deleted log: it goes too,
    // or the pod would be back in the bucket (an empty log) for good.
    expect(await w.keys('metadata/')).toEqual([]);
    expect((await w.pass({ survey: true })).summary.orphanPodsQueued).toBe(0);
  });
});

describe('idle pods', () => {
  it('cost no request of their own to the orphan sweep', async () => {
    const { w } = await uploadedPod('orphan-sweep-idle', 2);
    await w.pass();
    w.advance(HOUR);
    await w.pass();
    expect(await w.keys('cleanup/')).toEqual([]);
    const client = testS3Client();
    const sent = recordRequests(client);
    for (let i = 0; i < 2; i++) {
      w.advance(HOUR);
      const { summary } = await w.passWith(client);
      expect(summary.orphanPodsQueued).toBe(0);
    }
    expect(byPod(sent).get('job-1')).toBeUndefined();
  });
});

describe('the orphan sweep', () => {
  it('lists data/ in the daily survey only, not every pass', async () => {
    const { w } = await uploadedPod('orphan-sweep-daily', 2);
    await w.pass(); // merged; the first pass surveys (no stamp yet)
    w.advance(HOUR);
    await w.pass(); // the merged raw files deleted
    expect(await w.keys('kube.')).toEqual([]);
    const client = testS3Client();
    const sent = recordRequests(client);
    const dataListings = (): number =>
      sent.filter((r) => r.command === 'ListObjectsV2' && r.target.startsWith('data/')).length;
    // A listing of data/ costs a request per 1000 merged files of every pod the bucket keeps.
    w.advance(2 * HOUR);
    await w.passWith(client);
    expect(dataListings()).toBe(0);
    // A day after the first pass's survey: the next survey.
    w.advance(21 * HOUR);
    await w.passWith(client);
    expect(dataListings()).toBe(1);
    w.advance(HOUR);
    await w.passWith(client);
    expect(dataListings()).toBe(1);
  });
});

describe('the orphan sweep of the daily survey', () => {
  it("goes on with the other pods' phases when giving one pod back to the queue fails", async () => {
    const w = await newWorld('orphan-sweep-failure');
    await w.container('job-1', '0f3a').upload(messages('a', 3, T0));
    await w.container('job-1', '0f3a', { container: 'istio-proxy' }).upload(messages('p', 2, T0));
    // job-2: only a stalled writer's file under data/ (retention deleted the rest).
    await w.client.send(new PutObjectCommand({ Bucket: w.bucket, Key: 'data/job-2/late.ndjson.gz', Body: 'late' }));
    w.advance(2 * HOUR);
    const client = testS3Client();
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { Key?: string };
        if (context.commandName === 'PutObjectCommand' && input.Key === 'cleanup/job-2')
          throw new Error('injected: the store failed this PUT (cleanup/job-2)');
        return next(args);
      },
      { step: 'initialize', name: 'failOnePut' },
    );
    // job-2's failure is reported; the pass still surveys the other containers and summarizes.
    const result = await w.passWith(client, { survey: true });
    expect(result.summary.otherContainers).toMatchObject({ surveyed: true, containers: 1 });
    expect(result.summary.failures).toEqual([{ pod: 'job-2', error: expect.stringContaining('cleanup/job-2') }]);
    expect(result.reports.find((r) => r.pod === 'job-1')).toMatchObject({ status: 'merged' });
    // Not stamped: the next pass sweeps again.
    expect(await w.keys('leases/.daily-survey')).toEqual([]);
    const again = await w.pass();
    expect(again.summary.otherContainers.surveyed).toBe(true);
    expect(await w.keys('leases/.daily-survey')).toEqual(['leases/.daily-survey']);
  });
});
