// Review 2 of issue 15's last fixes: the daily survey's orphan sweep (orphan-sweep.ts) and one
// pod's failure, which must never stop the others (docs/design.md §8).
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { testS3Client } from './support/s3.js';
import { HOUR, messages, newWorld } from './support/world.js';

const T0 = new Date('2026-11-25T10:00:00Z');

describe('the orphan sweep of the daily survey', () => {
  it("goes on with the other pods' phases when giving one pod back to the queue fails", async () => {
    const w = await newWorld('review2-sweep-failure');
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
      { step: 'initialize', name: 'review2FailOnePut' },
    );
    // job-2's failure is reported; the pass still surveys the other containers and summarizes.
    const result = await w.passWith(client, { survey: true });
    expect(result.summary.otherContainers).toMatchObject({ surveyed: true, containers: 1 });
  });
});
