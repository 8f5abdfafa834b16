// Containers the compactor never merges (a job's sidecar, a Deployment's pod, a system pod):
// the summary and the metrics say what they hold, and with --retention their raw objects go by
// their own upload time, nothing else (docs/operations.md#other-containers, docs/design.md §8).
import { rawPodPrefix } from '@platform/log-reader/layout';
import { shardOf } from 'compactor';
import { byPod, recordRequests } from './support/requests.js';
import { testS3Client } from './support/s3.js';
import { HOUR, MINUTE, messages, newWorld, type World } from './support/world.js';

const T0 = new Date('2026-11-25T10:00:00Z');
const DAY = 24 * HOUR;

/** job-1 (its own container and an istio-proxy sidecar) and a Deployment's nginx pod. */
async function cluster(name: string): Promise<{ w: World; others: string[] }> {
  const w = await newWorld(name);
  await w.container('job-1', '0f3a').upload(messages('job', 3, T0));
  const sidecar = w.container('job-1', '0e11', { container: 'istio-proxy' });
  const nginx = w.container('web-7d9c8b-abcde', '0a01', { namespace: 'default', container: 'nginx' });
  const others = [
    await sidecar.upload(messages('proxy', 2, T0)),
    await sidecar.upload(messages('proxy-2', 2, new Date(T0.getTime() + MINUTE))),
    await nginx.upload(messages('nginx', 4, T0)),
  ];
  return { w, others };
}

async function bytesOf(w: World, keys: readonly string[]): Promise<number> {
  return (await w.listing()).filter((o) => keys.includes(o.key)).reduce((n, o) => n + o.size, 0);
}

describe('containers the compactor never merges', () => {
  it('are counted in the summary and never touched without retention', async () => {
    const { w, others } = await cluster('other-containers-count');
    const bytes = await bytesOf(w, others);
    const first = await w.pass();
    expect(first.summary.otherContainers).toEqual({
      surveyed: true,
      containers: 2,
      objects: 3,
      bytes,
      expiredObjects: 0,
      expiredBytes: 0,
      failed: 0,
    });
    // The job's own container is merged as always; the sidecar's files are not in its log.
    expect(first.reports.find((r) => r.pod === 'job-1')).toMatchObject({ status: 'merged', rawFilesMerged: 1 });
    expect((await w.records('job-1')).map((r) => r.message)).toEqual(['job-0', 'job-1', 'job-2']);

    w.advance(400 * DAY);
    const later = await w.pass();
    expect(later.summary.otherContainers).toMatchObject({ containers: 2, objects: 3, expiredObjects: 0 });
    expect((await w.keys('kube.')).sort()).toEqual([...others].sort());
  });

  it('expire by their upload time once it is older than the retention, and not before', async () => {
    const { w, others } = await cluster('other-containers-expire');
    const bytes = await bytesOf(w, others);
    w.advance(23 * HOUR);
    const early = await w.pass({ retentionMs: DAY, survey: true });
    expect(early.summary.otherContainers).toMatchObject({ objects: 3, expiredObjects: 0 });
    expect((await w.keys('kube.')).filter((k) => others.includes(k)).sort()).toEqual([...others].sort());

    w.advance(2 * HOUR);
    const due = await w.pass({ retentionMs: DAY, survey: true });
    expect(due.summary.otherContainers).toEqual({
      surveyed: true,
      containers: 2,
      objects: 3,
      bytes,
      expiredObjects: 3,
      expiredBytes: bytes,
      failed: 0,
    });
    expect((await w.keys('kube.')).filter((k) => others.includes(k))).toEqual([]);
    // The job's own log is not theirs to expire.
    expect((await w.records('job-1')).map((r) => r.message)).toEqual(['job-0', 'job-1', 'job-2']);
  });

  it('are only counted in a dry run', async () => {
    const { w, others } = await cluster('other-containers-dry-run');
    w.advance(2 * DAY);
    const dry = await w.pass({ retentionMs: DAY, dryRun: true });
    expect(dry.summary.otherContainers).toMatchObject({ objects: 3, expiredObjects: 3 });
    expect((await w.keys('kube.')).filter((k) => others.includes(k)).sort()).toEqual([...others].sort());
  });

  it('are scoped by --namespace, --pod and --shard like the pods', async () => {
    const { w } = await cluster('other-containers-scoped');
    w.advance(2 * DAY);
    const jobs = await w.pass({ retentionMs: DAY, namespace: 'jobs' });
    expect(jobs.summary.otherContainers).toMatchObject({ containers: 1, objects: 2, expiredObjects: 2 });
    expect(await w.keys(rawPodPrefix('web-7d9c8b-abcde'))).toHaveLength(1);

    const pods = ['web-a', 'web-b', 'web-c', 'web-d', 'web-e', 'web-f'];
    for (const pod of pods) await w.container(pod, '0b0b', { container: 'nginx' }).upload(messages(pod, 1, T0));
    w.advance(2 * DAY);
    // A --pod run (by hand) surveys only with --survey: it has no daily stamp of its own.
    expect((await w.pass({ retentionMs: DAY, pods: ['web-a'] })).summary.otherContainers.surveyed).toBe(false);
    const only = await w.pass({ retentionMs: DAY, pods: ['web-a'], survey: true });
    expect(only.summary.otherContainers).toMatchObject({ containers: 1, expiredObjects: 1 });
    expect(await w.keys(rawPodPrefix('web-a'))).toEqual([]);

    const shard = { index: 0, count: 2 };
    const mine = ['web-7d9c8b-abcde', ...pods.slice(1)].filter((p) => shardOf(p, 2) === 0);
    const sharded = await w.pass({ retentionMs: DAY, shard });
    expect(sharded.summary.otherContainers).toMatchObject({ containers: mine.length, expiredObjects: mine.length });
    for (const pod of pods.slice(1))
      expect({ pod, left: await w.keys(rawPodPrefix(pod)) }).toEqual({
        pod,
        left: mine.includes(pod) ? [] : [expect.any(String)],
      });
  });
});

describe('the daily survey of containers never merged', () => {
  it('runs once a day by its stamp, in every dry run and with --survey, and a dry run never stamps', async () => {
    const { w } = await cluster('other-containers-daily');
    const surveyed = async (config = {}): Promise<boolean> => (await w.pass(config)).summary.otherContainers.surveyed;
    expect(await surveyed({ dryRun: true })).toBe(true);
    expect(await surveyed({ namespace: 'jobs' })).toBe(true);
    // Neither the dry run nor the survey of one namespace stamped the whole bucket's.
    expect(await surveyed()).toBe(true);
    expect(await surveyed({ namespace: 'jobs' })).toBe(false);
    w.advance(22 * HOUR);
    expect(await surveyed()).toBe(false);
    const skipped = await w.pass();
    expect(skipped.summary.otherContainers).toMatchObject({ surveyed: false, containers: 0, objects: 0 });
    expect(await surveyed({ dryRun: true })).toBe(true);
    expect(await surveyed({ survey: true })).toBe(true); // stamps: a day from now again
    w.advance(22 * HOUR);
    expect(await surveyed()).toBe(false);
    w.advance(HOUR);
    expect(await surveyed()).toBe(true);
  });

  it('makes an idle job pod with a sidecar cost no more than two requests a pass', async () => {
    const w = await newWorld('other-containers-idle-sidecar');
    w.advance(-HOUR);
    await w.container('job-a', '0c1').upload(messages('job', 3, T0));
    await w.container('job-a', '0c2', { container: 'istio-proxy' }).upload(messages('proxy', 3, T0));
    w.advance(HOUR);
    const config = { compactIntervalMs: 10 * MINUTE, cleanupIntervalMs: HOUR };
    const client = testS3Client();
    const sent = recordRequests(client);
    await w.passWith(client, config); // merged, and the day's survey
    // Past the compact interval, nothing new, nothing due: idle. The sidecar's directory is
    // listed by the daily survey only.
    w.advance(20 * MINUTE);
    sent.length = 0;
    const { summary } = await w.passWith(client, config);
    expect(summary.pods.failed).toBe(0);
    const requests = Object.values(byPod(sent).get('job-a') ?? {}).reduce((n, c) => n + c, 0);
    expect(requests).toBeLessThanOrEqual(2);
  });
});
