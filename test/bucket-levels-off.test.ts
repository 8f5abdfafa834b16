// A cluster's bucket over 100 simulated days with retention set (docs/design.md §8): jobs start
// and end every day, some with a sidecar, and a Deployment pod that is not a job uploads all
// along. A pass runs once a day. The bucket must level off: once the first jobs are older than
// the retention, every day deletes about as much as it adds, and nothing older than the
// retention (plus the pass that finds it) stays. Objects carry the simulated upload time
// (store-clock.ts), so "old" and "recent" are what the days say, not the seconds the test takes.
import { text } from 'node:stream/consumers';
import type { S3Client } from '@aws-sdk/client-s3';
import { LogReader } from '@platform/log-reader';
import { CONDITIONAL_DELETE_CHECK_KEY, CONDITIONAL_WRITE_CHECK_KEY } from '@platform/log-reader/layout';
import { FluentBitContainer } from '@platform/testkit';
import { runPass, silentLogger } from 'compactor';
import { createTestBucket, listAll, testS3Client } from './support/s3.js';
import { startStoreClock, type StoreClock } from './support/store-clock.js';
import { HOUR, messages, testConfig } from './support/world.js';

const DAY = 24 * HOUR;
const DAYS = 100;
const RETENTION = 10 * DAY;
const JOBS_PER_DAY = 2;

let store: StoreClock;
let client: S3Client;
let sim = Math.floor(Date.now() / DAY) * DAY;

beforeAll(async () => {
  store = await startStoreClock(() => new Date(sim));
  client = testS3Client(store.url);
});
afterAll(async () => {
  client.destroy();
  await store.close();
});

/** A day of the cluster: its jobs (one with a sidecar) and the Deployment pod's uploads. */
async function day(bucket: string, d: number, start: number): Promise<void> {
  for (let k = 0; k < JOBS_PER_DAY; k += 1) {
    const pod = `job-d${d}-${k}`;
    const job = new FluentBitContainer(client, bucket, pod, 'c0ffee');
    const sidecar =
      k === 0 ? new FluentBitContainer(client, bucket, pod, 'beef42', { container: 'istio-proxy' }) : undefined;
    for (let hour = 1; hour <= 2; hour += 1) {
      sim = start + hour * HOUR + k * 60_000;
      await job.upload(messages(`${pod}-h${hour}`, 5, new Date(sim - 30_000)));
      await sidecar?.upload(messages(`${pod}-proxy-h${hour}`, 2, new Date(sim - 30_000)));
    }
  }
  const web = new FluentBitContainer(client, bucket, 'web-7d9c8b-abcde', 'fade01', {
    namespace: 'default',
    container: 'nginx',
    firstIndex: 1 + d * 2,
  });
  for (const hour of [4, 16]) {
    sim = start + hour * HOUR;
    await web.upload(messages(`web-d${d}-h${hour}`, 3, new Date(sim - 30_000)));
  }
}

async function pass(bucket: string): Promise<void> {
  const result = await runPass({
    store: { client, bucket },
    config: testConfig(bucket, { endpoint: store.url, retentionMs: RETENTION }),
    logger: silentLogger(),
    now: () => new Date(sim),
  });
  expect(result.summary.failures).toEqual([]);
  // A pass a day is a day apart: each runs the daily survey (orphans, other containers).
  expect(result.summary.otherContainers.surveyed).toBe(true);
}

test(
  'with retention set, the bucket of a cluster levels off over 100 days of jobs and other pods',
  async () => {
    const bucket = await createTestBucket('levels-off', client);
    const start = sim;
    const counts: number[] = [];
    for (let d = 0; d < DAYS; d += 1) {
      const dayStart = start + d * DAY;
      await day(bucket, d, dayStart);
      sim = dayStart + 6 * HOUR;
      await pass(bucket);
      counts.push((await listAll(client, bucket)).length);
    }

    // Level: once the first days have expired, the count stays in the band of the days after.
    const settled = counts.slice(Math.ceil(RETENTION / DAY) + 3);
    const low = Math.min(...settled);
    const high = Math.max(...settled);
    if (high - low > JOBS_PER_DAY * 4)
      throw new Error(`the bucket did not level off: objects by day ${counts.join(' ')}`);
    expect(counts[DAYS - 1]).toBeLessThan(counts[Math.ceil(RETENTION / DAY)]! * 1.5);
    // Nothing older than the retention and a day (the pass that finds it) is left, of any kind
    // (but the store check's object, written once for good).
    // The store checks' two objects stay for good, by design (pass/store-checks.ts).
    const checks = new Set([CONDITIONAL_WRITE_CHECK_KEY, CONDITIONAL_DELETE_CHECK_KEY]);
    const kept = (await listAll(client, bucket)).filter((o) => !checks.has(o.key));
    const oldest = Math.min(...kept.map((o) => (store.stampOf(bucket, o.key) ?? o.lastModified).getTime()));
    expect(sim - oldest).toBeLessThanOrEqual(RETENTION + DAY);
    // An old job is gone as a whole; a recent one reads whole.
    const reader = new LogReader({ client, bucket });
    expect(await listAll(client, bucket, 'metadata/job-d0-')).toEqual([]);
    expect(await listAll(client, bucket, 'kube.var.log.containers.job-d0-')).toEqual([]);
    const recent = await text(reader.createReadStream(`job-d${DAYS - 2}-0`));
    expect(recent.split('\n').filter(Boolean)).toHaveLength(10);
  },
  10 * 60_000,
);
