// One client of the factory shared by work on several buckets at once (a consumer's service
// that serves the logs of two clusters, say): every request must go to its own bucket. The
// SDK's `cacheMiddleware` option, which would save 6–12% of a request's CPU, shares one
// request context between the concurrent requests of a command and sends some of them to the
// other bucket (docs/performance.md, "The S3 client's CPU per request"); this keeps the
// factory from taking it.
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { createS3Client } from '@platform/log-reader';
import { createTestBucket } from './support/s3.js';

const GETS_PER_BUCKET = 50;

describe('one createS3Client client used on two buckets at once', () => {
  it("answers every GET from the request's own bucket, never the other", async () => {
    const client = createS3Client({ endpoint: process.env['S3_TEST_ENDPOINT'] });
    try {
      const buckets = [await createTestBucket('client-a', client), await createTestBucket('client-b', client)];
      // The same key in both, with different bodies: a request sent to the wrong bucket
      // finds the key and answers with the other bucket's body.
      for (const Bucket of buckets) await client.send(new PutObjectCommand({ Bucket, Key: 'same-key', Body: Bucket }));
      const gets = Array.from({ length: GETS_PER_BUCKET * buckets.length }, async (_, n) => {
        const Bucket = buckets[n % buckets.length] as string;
        const response = await client.send(new GetObjectCommand({ Bucket, Key: 'same-key' }));
        return { asked: Bucket, body: await response.Body?.transformToString() };
      });
      const crossed = (await Promise.all(gets)).filter((g) => g.body !== g.asked);
      expect(crossed).toEqual([]);
    } finally {
      client.destroy();
    }
  });
});
