// Review of issue 15: "deciding expiry must not list every object of every pod each hour", and
// the orphan sweep must come "without raising the idle-pod cost". The orphan sweep
// (pass/orphan-sweep.ts newestDataObjects) lists the whole of data/ on every pass: every merged
// file of every pod the bucket keeps (90 days of jobs in production: millions of objects, a
// request per 1000, one page after the other, each hourly pass). A pass over pods that are all
// idle lists every merged object of theirs.
import { recordRequests } from './support/requests.js';
import { testS3Client } from './support/s3.js';
import { HOUR, MINUTE, messages, newWorld } from './support/world.js';

const T0 = new Date('2026-11-25T10:00:00Z');
const CONFIG = { compactIntervalMs: 10 * MINUTE, cleanupIntervalMs: HOUR };

describe('review: a pass over idle pods', () => {
  it('does not list every merged object of every pod', async () => {
    const w = await newWorld('review-idle-listings');
    w.advance(-HOUR);
    for (const pod of ['job-a', 'job-b', 'job-c']) await w.container(pod, '0c1').upload(messages(pod, 3, T0));
    w.advance(HOUR);
    await w.pass(CONFIG); // merged
    w.advance(2 * HOUR);
    await w.pass(CONFIG); // the merged raw files deleted: nothing of them left but their merged logs
    expect(await w.keys('kube.')).toEqual([]);

    const client = testS3Client();
    const sent = recordRequests(client);
    w.advance(2 * HOUR);
    const { summary } = await w.passWith(client, CONFIG);
    expect(summary.pods.failed).toBe(0);
    // The pods' merged files are not listed: a listing of data/ costs a request per 1000 merged
    // files of every pod the bucket keeps, on every pass.
    expect(sent.filter((r) => r.command === 'ListObjectsV2' && r.target.startsWith('data/'))).toEqual([]);
  });
});
