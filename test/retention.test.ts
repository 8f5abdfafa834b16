// Retention (docs/design.md §8): a pod's whole log expires once nothing of it is newer than
// `--retention` — marked first (reads fail with LogExpiredError), deleted a cleanup interval
// later — and never while anything of it (a raw upload of any container, a record time, a
// commit) is recent. Upload times are the S3 server's (real time); the compactor's clock is the
// test's, moved past the retention.
import { setTimeout as sleep } from 'node:timers/promises';
import { LogExpiredError, LogReader, PodNotFoundError, type LogRecord } from '@platform/log-reader';
import { runPass, shardOf, silentLogger, type Config, type PassResult, type PodReport } from 'compactor';
import { LOG_READER_BIN, runCli, s3Env } from './support/cli.js';
import { crashingAt } from './support/hooks.js';
import { byPod, recordRequests } from './support/requests.js';
import { listAll, testS3Client } from './support/s3.js';
import { HOUR, MINUTE, messages, newWorld, testConfig, type World } from './support/world.js';

const DAY = 24 * HOUR;
const RETENTION: Partial<Config> = { retentionMs: DAY, cleanupIntervalMs: HOUR, compactIntervalMs: 10 * MINUTE };
const OLD = new Date(Date.now() - 30 * DAY);

/**
 * A job pod merged, continued (a retired file) and cleaned, with a sidecar's raw file: all of it
 * old. The compactor's clock runs 3 hours behind for it, so that its commit stamps are older
 * than every upload; it ends 40 minutes behind.
 */
async function endedJob(w: World, pod: string, options: { namespace?: string } = {}): Promise<void> {
  w.advance(-3 * HOUR);
  const job = w.container(pod, '0a1', options);
  await job.upload(messages(`${pod}-a`, 3, OLD));
  await w.container(pod, '0b2', { ...options, container: 'istio-proxy' }).upload(messages('proxy', 2, OLD));
  await w.pass(RETENTION);
  await job.upload(messages(`${pod}-b`, 3, new Date(OLD.getTime() + MINUTE)));
  w.advance(20 * MINUTE);
  await w.pass(RETENTION);
  w.advance(2 * HOUR);
  await w.pass(RETENTION);
}

/** Every key of `pod` in the bucket (raw of every container, data/, metadata, queue, lease). */
async function keysOf(w: World, pod: string): Promise<string[]> {
  return (await w.keys()).filter(
    (k) =>
      k.startsWith(`kube.var.log.containers.${pod}_`) ||
      k.startsWith(`data/${pod}/`) ||
      [`metadata/${pod}.json`, `cleanup/${pod}`, `leases/${pod}.json`].includes(k),
  );
}

function reportOf(result: PassResult, pod: string): PodReport | undefined {
  // The last phase's (the expire phase comes last).
  return result.reports.filter((r) => r.pod === pod).at(-1);
}

async function readAll(reader: LogReader, pod: string): Promise<LogRecord[] | Error> {
  const out: LogRecord[] = [];
  try {
    for await (const r of reader.records(pod)) out.push(r);
    return out;
  } catch (error) {
    return error as Error;
  }
}

/** A pass with the clock fixed at `at` (every decision reads it). */
function passAt(w: World, at: number, config: Partial<Config> = {}): Promise<PassResult> {
  const store = { client: w.client, bucket: w.bucket };
  return runPass({
    store,
    config: testConfig(w.bucket, { ...RETENTION, ...config }),
    logger: silentLogger(),
    now: () => new Date(at),
  });
}

/** The latest LastModified of the pod's objects, `but` aside (whole seconds, as listed). */
async function newestUpload(w: World, pod: string, but: (key: string) => boolean = () => false): Promise<number> {
  const listed = await listAll(w.client, w.bucket);
  const own = new Set(await keysOf(w, pod));
  return Math.max(...listed.filter((o) => own.has(o.key) && !but(o.key)).map((o) => o.lastModified.getTime()));
}

describe('retention', () => {
  it('marks an old pod expired (reads fail), then deletes all of it a cleanup interval later', async () => {
    const w = await newWorld('retention-expire');
    await endedJob(w, 'job-old');
    expect((await w.metadata('job-old')).retiredFiles).toHaveLength(0);
    const before = await keysOf(w, 'job-old');
    expect(before.filter((k) => k.includes('istio-proxy'))).toHaveLength(1);
    expect(before.filter((k) => k.startsWith('data/'))).toHaveLength(1);

    w.advance(2 * DAY);
    const marking = await w.pass(RETENTION);
    expect(reportOf(marking, 'job-old')).toMatchObject({ phase: 'expire', status: 'expiring' });
    expect(marking.summary.pods).toMatchObject({ expiring: 1, expired: 0 });
    expect((await w.metadata('job-old')).expiredAt).toBeDefined();
    await expect(w.read('job-old')).rejects.toBeInstanceOf(LogExpiredError);
    // Nothing is deleted while readers that planned before the mark may still be reading.
    w.advance(HOUR - MINUTE);
    expect(reportOf(await w.pass(RETENTION), 'job-old')).toMatchObject({ status: 'skipped' });
    // (The sidecar's raw file goes by its own upload time, older than the retention: docs/design.md §8.)
    const ownLog = before.filter((k) => !k.includes('istio-proxy'));
    expect(await keysOf(w, 'job-old')).toEqual(expect.arrayContaining(ownLog));

    w.advance(2 * MINUTE);
    const deleting = await w.pass(RETENTION);
    expect(reportOf(deleting, 'job-old')).toMatchObject({ status: 'expired', expiredObjects: ownLog.length });
    expect(deleting.summary).toMatchObject({ pods: { expired: 1 }, expiredObjects: ownLog.length });
    expect(deleting.summary.expiredBytes).toBeGreaterThan(0);
    expect(await keysOf(w, 'job-old')).toEqual([]);
  });

  it('keeps a pod whose sidecar uploaded after the rest, until that upload too is older than the retention', async () => {
    const w = await newWorld('retention-upload');
    await endedJob(w, 'job-side');
    // The LastModified of the late upload is at least a whole second after everything else.
    await sleep(2100);
    await w.container('job-side', '0d4', { container: 'istio-proxy' }).upload(messages('late', 1, OLD));
    const isLate = (k: string): boolean => k.includes('_istio-proxy-0d4');
    const rest = await newestUpload(w, 'job-side', isLate);
    const late = await newestUpload(w, 'job-side');
    expect(late - rest).toBeGreaterThanOrEqual(1000);

    const kept = await passAt(w, late + DAY - 500);
    expect(reportOf(kept, 'job-side')).toMatchObject({
      status: 'skipped',
      reason: expect.stringContaining('raw upload'),
    });
    expect((await w.metadata('job-side')).expiredAt).toBeUndefined();

    const marked = await passAt(w, late + DAY + 1000);
    expect(reportOf(marked, 'job-side')).toMatchObject({ status: 'expiring' });
  });

  it('keeps a pod with a record time or a commit newer than the retention', async () => {
    const w = await newWorld('retention-recent');
    const future = new Date(Date.now() + 10 * DAY);
    await w.container('job-records', '0e5').upload(messages('r', 2, future));
    await w.container('job-commit', '0e6').upload(messages('c', 2, OLD));
    await w.pass({ ...RETENTION, pods: ['job-records'] });
    w.advance(5 * DAY); // job-commit's commit is stamped by the compactor's clock, 5 days ahead
    await w.pass({ ...RETENTION, pods: ['job-commit'] });
    w.advance(-5 * DAY + 2 * HOUR);
    await w.pass({ ...RETENTION, pods: ['job-records'] });

    w.advance(2 * DAY);
    const result = await w.pass(RETENTION);
    expect(reportOf(result, 'job-records')).toMatchObject({
      status: 'skipped',
      reason: expect.stringContaining('record time'),
    });
    expect((await w.metadata('job-commit')).expiredAt).toBeUndefined();
    expect(result.summary.pods).toMatchObject({ expiring: 0, expired: 0 });
    expect(await w.read('job-records')).toBe('r-0\nr-1\n');
  });

  it('lists what would expire in a dry run, and writes or deletes nothing', async () => {
    const w = await newWorld('retention-dry');
    await endedJob(w, 'job-dry');
    w.advance(2 * DAY);
    const before = await w.listing();
    const dry = await w.pass({ ...RETENTION, dryRun: true });
    const report = reportOf(dry, 'job-dry');
    expect(report).toMatchObject({ phase: 'expire', status: 'expired' });
    expect(dry.summary).toMatchObject({ dryRun: true, pods: { expired: 1 } });
    expect(dry.summary.expiredObjects).toBe(report?.expiredObjects);
    expect(await w.listing()).toEqual(before);
    expect((await w.metadata('job-dry')).expiredAt).toBeUndefined();
  });

  it('expires only the pods of its --namespace, --pod and --shard', async () => {
    const w = await newWorld('retention-scope');
    await endedJob(w, 'job-ns-a', { namespace: 'team-a' });
    await endedJob(w, 'job-ns-b', { namespace: 'team-b' });
    w.advance(2 * DAY);
    const expiring = (r: PassResult): string[] => r.reports.filter((p) => p.status === 'expiring').map((p) => p.pod);
    expect(expiring(await w.pass({ ...RETENTION, pods: ['job-nothing'] }))).toEqual([]);
    expect(expiring(await w.pass({ ...RETENTION, namespace: 'team-b' }))).toEqual(['job-ns-b']);
    expect((await w.metadata('job-ns-a')).expiredAt).toBeUndefined();
    // Of two shards, the one that is not job-ns-a's leaves it alone.
    const other = { index: 1 - shardOf('job-ns-a', 2), count: 2 };
    expect(expiring(await w.pass({ ...RETENTION, namespace: 'team-a', shard: other }))).toEqual([]);
    expect(expiring(await w.pass({ ...RETENTION, pods: ['job-ns-a'] }))).toEqual(['job-ns-a']);
  });

  it('un-marks a marked pod when its own container uploads again (a late backlog), and loses none of it', async () => {
    const w = await newWorld('retention-late');
    await endedJob(w, 'job-late');
    w.advance(2 * DAY);
    expect(reportOf(await w.pass(RETENTION), 'job-late')).toMatchObject({ status: 'expiring' });
    await w.container('job-late', '0a1').upload(messages('backlog', 2, OLD));
    // The merge of the new file removes the mark at once: reads work again.
    w.advance(15 * MINUTE);
    await w.pass(RETENTION);
    expect((await w.metadata('job-late')).expiredAt).toBeUndefined();
    expect(await w.read('job-late')).toContain('backlog-1\n');
    w.advance(HOUR);
    await w.pass(RETENTION);
    expect(await w.read('job-late')).toContain('backlog-1\n');
    expect((await w.read('job-late')).split('\n')).toHaveLength(9);
  });

  it('un-marks a marked pod whose sidecar uploaded after the mark', async () => {
    const w = await newWorld('retention-unmark');
    await endedJob(w, 'job-um');
    const markAt = (await newestUpload(w, 'job-um')) + DAY + 1;
    expect(reportOf(await passAt(w, markAt, { cleanupIntervalMs: 1000 }), 'job-um')).toMatchObject({
      status: 'expiring',
    });
    await sleep(3100);
    await w.container('job-um', '0f7', { container: 'istio-proxy' }).upload(messages('late', 1, OLD));
    const result = await passAt(w, markAt + 1000, { cleanupIntervalMs: 1000 });
    expect(reportOf(result, 'job-um')).toMatchObject({
      status: 'skipped',
      reason: expect.stringContaining('no longer expired'),
    });
    expect((await w.metadata('job-um')).expiredAt).toBeUndefined();
    expect(await w.read('job-um')).toContain('job-um-b-2\n');
  });

  it('gives a reader reading across the expiry every record or LogExpiredError, never part of the log', async () => {
    const w = await newWorld('retention-reader');
    const job = w.container('job-read', '0a9');
    const all = Array.from({ length: 6 }, (_, i) => messages(`f${i}`, 20, new Date(OLD.getTime() + i * MINUTE)));
    for (const batch of all) await job.upload(batch);
    await w.pass({ ...RETENTION, maxFileSize: 512 });
    // The log's id, given by its first commit, stays through later ones (the cleaning commit here).
    const logId = (await w.metadata('job-read')).logId;
    expect(logId).toEqual(expect.any(String));
    w.advance(2 * HOUR);
    await w.pass(RETENTION);
    expect(await w.metadata('job-read')).toMatchObject({ logId });
    expect((await w.metadata('job-read')).logFiles.length).toBeGreaterThan(3);
    w.advance(2 * DAY);

    const reader = new LogReader({ client: w.client, bucket: w.bucket, readAhead: 0 });
    // One read finishes between the mark and the deletion; one is cut by the deletion.
    const finishing = reader.records('job-read')[Symbol.asyncIterator]();
    const cut = reader.records('job-read')[Symbol.asyncIterator]();
    // Cut too, and a new log of the pod starts before it goes on: it must not go on in that one.
    const cutAcrossNewLog = reader.records('job-read')[Symbol.asyncIterator]();
    const first = [await finishing.next(), await cut.next(), await cutAcrossNewLog.next()];
    expect(first.every((r) => !r.done)).toBe(true);
    await w.pass(RETENTION);
    const rest = async (it: AsyncIterator<LogRecord>): Promise<number | Error> => {
      let n = 1;
      try {
        while (!(await it.next()).done) n += 1;
        return n;
      } catch (error) {
        return error as Error;
      }
    };
    expect(await rest(finishing)).toBe(120);
    w.advance(HOUR + MINUTE);
    await w.pass(RETENTION);
    expect(await keysOf(w, 'job-read')).toEqual([]);
    expect(await rest(cut)).toBeInstanceOf(LogExpiredError);
    await job.upload(messages('new', 3, w.now()));
    await w.pass(RETENTION);
    expect((await w.metadata('job-read')).logFiles).toHaveLength(1);
    expect((await w.metadata('job-read')).logId).not.toBe(logId);
    expect(await rest(cutAcrossNewLog)).toBeInstanceOf(LogExpiredError);
    expect((await w.records('job-read')).map((r) => r.message)).toEqual(['new-0', 'new-1', 'new-2']);
  });

  it('resumes an expiry that a crash cut at any request of its phase', async () => {
    const setup = async (): Promise<World> => {
      const w = await newWorld('retention-crash');
      await endedJob(w, 'job-crash');
      w.advance(2 * DAY);
      return w;
    };
    // Counted once: the requests of the marking pass and of the deleting one, from the expire
    // phase's first (its listing of metadata/) on.
    const counting = await setup();
    const count = async (): Promise<{ from: number; to: number }> => {
      const client = testS3Client();
      const sent = recordRequests(client);
      await counting.passWith(client, RETENTION);
      return { from: sent.findIndex((r) => r.target === 'metadata/') + 1, to: sent.length };
    };
    const marking = await count();
    counting.advance(HOUR + MINUTE);
    const deleting = await count();
    expect(await keysOf(counting, 'job-crash')).toEqual([]);

    for (const [pass, requests] of [
      [0, marking],
      [1, deleting],
    ] as const) {
      for (let k = requests.from; k <= requests.to; k++) {
        const w = await setup();
        if (pass === 1) {
          await w.pass(RETENTION);
          w.advance(HOUR + MINUTE);
        }
        await w.passWith(crashingAt(k), RETENTION).catch(() => undefined);
        const read = await readAll(w.reader, 'job-crash');
        // Whole, expired, or (everything gone) not found: never part of it.
        if (read instanceof PodNotFoundError) {
          // Only once neither its metadata nor a raw file is left (other leftovers go on the next pass).
          const left = (await keysOf(w, 'job-crash')).filter(
            (key) => !key.startsWith('data/') && !/^(cleanup|leases)\//.test(key),
          );
          expect({ k, pass, left }).toEqual({ k, pass, left: [] });
        } else if (read instanceof Error)
          expect({ k, pass, error: read }).toEqual({ k, pass, error: expect.any(LogExpiredError) });
        else expect({ k, pass, lines: [0, 6].includes(read.length) }).toEqual({ k, pass, lines: true });
        for (let i = 0; i < 3 && (await keysOf(w, 'job-crash')).length > 0; i++) {
          w.advance(HOUR + MINUTE);
          await w.pass(RETENTION);
        }
        expect({ k, pass, left: await keysOf(w, 'job-crash') }).toEqual({ k, pass, left: [] });
      }
    }
  });

  it('log-reader says a marked log expired, with exit code 3', async () => {
    const w = await newWorld('retention-cli');
    await endedJob(w, 'job-cli');
    w.advance(2 * DAY);
    await w.pass(RETENTION);
    const result = await runCli(LOG_READER_BIN, ['logs', 'job-cli', '--bucket', w.bucket], s3Env());
    expect(result).toMatchObject({ exitCode: 3, stdout: '' });
    expect(result.stderr).toMatch(/^log-reader: pod job-cli: its log expired \(retention\) at .+\n$/);
  });

  it('costs an idle pod no request more with retention set', async () => {
    const w = await newWorld('retention-cost');
    await endedJob(w, 'job-idle');
    w.advance(2 * HOUR);
    const client = testS3Client();
    const sent = recordRequests(client);
    const { summary } = await w.passWith(client, RETENTION);
    expect(summary.pods.failed).toBe(0);
    // An ended pod, cleaned: no raw file of its own left, and not a candidate. The pass lists
    // metadata/ and cleanup/ once each, for the daily survey's orphan sweep, the clean and the
    // expire phase alike.
    const requests = Object.values(byPod(sent).get('job-idle') ?? {}).reduce((a, b) => a + b, 0);
    expect(requests).toBeLessThanOrEqual(2);
    expect(sent.filter((r) => r.command === 'ListObjectsV2' && /^(metadata|cleanup)\/$/.test(r.target))).toHaveLength(
      2,
    );
  });
});
