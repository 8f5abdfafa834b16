// The streaming raw listing against the real server with seeded indexes
// (rawOrderSlice lifts a key's order minute above its slice). Each batch must end before the
// next starts and the whole must be listRawFiles' order, whatever the page sizes and however
// the keys of several container ids and of seeded and stock Fluent Bits interleave.
import { PutObjectCommand } from '@aws-sdk/client-s3';
import fc from 'fast-check';
import { compareRawKeys, rawKey } from '@platform/log-reader/layout';
import { listRawFiles, listRawFilesInOrder, type RawFile } from '@platform/log-reader/s3';
import { createTestBucket, pagedS3Client, testS3Client } from './support/s3.js';

const POD = 'job-1';

const start = Date.parse('2026-11-25T10:00:50Z');
const keyArb = fc.record({
  containerId: fc.constantFrom('aaaa', '0000', 'ffff'),
  slice: fc.constantFrom('202611250958', '202611250959', '202611251000', '202611251001', '202611251002'),
  index: fc.oneof(
    fc.integer({ min: 1, max: 30 }),
    // Seeded around a start at 10:00:50: the lift crosses 10:01 -> 10:02 within the range.
    fc.integer({ min: start - 120_000, max: start + 20_000 }),
  ),
  separator: fc.constantFrom<'_' | '__'>('_', '__'),
});

describe('listRawFilesInOrder with seeded indexes', () => {
  it('gives batches in raw-file order, each before the next, for any mix of seeded and stock keys', async () => {
    const client = testS3Client();
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(keyArb, {
          minLength: 2,
          maxLength: 9,
          selector: (k) => `${k.containerId}/${k.slice}/${k.index}`,
        }),
        async (parts) => {
          const bucket = await createTestBucket(`seeded-listing-${run++}`, client);
          for (const p of parts) {
            const key = rawKey(
              {
                pod: POD,
                namespace: 'jobs',
                container: POD,
                containerId: p.containerId,
                slice: p.slice,
                index: p.index,
              },
              p.separator,
            );
            await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: '{"log":"x"}\n' }));
          }
          const expected = (await listRawFiles({ client, bucket }, POD)).map((f) => f.key);
          for (const [maxKeys, firstPageKeys] of [
            [1, 1],
            [2, 1],
            [1, 3],
          ] as const) {
            const batches: RawFile[][] = [];
            for await (const b of listRawFilesInOrder({ client: pagedS3Client(maxKeys), bucket }, POD, firstPageKeys))
              batches.push(b);
            expect(batches.flat().map((f) => f.key)).toEqual(expected);
            for (let i = 1; i < batches.length; i++) {
              const prev = batches[i - 1] as RawFile[];
              const next = batches[i] as RawFile[];
              if (prev.length > 0 && next.length > 0)
                expect(compareRawKeys(prev.at(-1) as RawFile, next[0] as RawFile)).toBeLessThan(0);
            }
          }
        },
      ),
      { numRuns: 12, seed: 1616 },
    );
  }, 240_000);
});
