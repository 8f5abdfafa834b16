// A slow read of a growing log while passes merge and delete under it: every pass makes the
// reader meet a deleted object and re-plan, and every re-plan takes it further.
import { LogReader, type LogRecord } from '@platform/log-reader';
import { metadataKey } from '@platform/log-reader/layout';
import { testS3Client } from './support/s3.js';
import { HOUR, MINUTE, messages, newWorld } from './support/world.js';

const POD = 'job-1';
const T0 = new Date('2026-11-25T10:00:00Z');
const DELETING_PASSES = 8;

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
