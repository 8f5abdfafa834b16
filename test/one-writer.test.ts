// One writer per pod (docs/design.md §6), enforced by the store: leases with conditional writes,
// and a metadata commit conditional on the ETag it read.
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { CONDITIONAL_WRITE_CHECK_KEY, dailySurveyKey, leaseKey } from '@platform/log-reader/layout';
import { LeaseHeldError, LeaseLostError, Lease } from 'compactor';
import { pausingAt, recording, withoutConditionalWrites } from './support/hooks.js';
import { MINUTE, messages, newWorld, type World } from './support/world.js';
import { testS3Client } from './support/s3.js';
import { unreleasedLeaseKeys } from './support/leases.js';
import { COMPACTOR_BIN, runCli, s3Env } from './support/cli.js';

const T0 = new Date('2026-11-25T10:00:00Z');

async function leaseHolder(w: World, pod: string): Promise<string> {
  const response = await w.client.send(new GetObjectCommand({ Bucket: w.bucket, Key: leaseKey(pod) }));
  return (JSON.parse(await response.Body!.transformToString()) as { holder: string }).holder;
}

describe('one writer per pod', () => {
  it('leaves a pod alone while another compactor holds its lease, and says so', async () => {
    const w = await newWorld('lease-held');
    await w.container('job-1', '0f3a').upload(messages('a', 1, T0));
    await w.container('job-2', '0f3b').upload(messages('b', 1, T0));
    const other = await Lease.acquire({
      store: { client: w.client, bucket: w.bucket },
      pod: 'job-1',
      holder: 'manual-run/42',
      durationMs: 5 * MINUTE,
      clock: w.now,
    });

    const { summary, reports } = await w.pass();

    expect(summary.pods).toMatchObject({ merged: 1, busy: 1, failed: 0 });
    expect(summary.busy).toEqual([
      { pod: 'job-1', reason: expect.stringContaining('being processed by manual-run/42') },
    ]);
    expect(reports.find((r) => r.pod === 'job-1')?.status).toBe('busy');
    expect(await w.keys('metadata/')).toEqual(['metadata/job-2.json']);
    expect(await w.keys('cleanup/')).toEqual(['cleanup/job-2']);
    expect(await leaseHolder(w, 'job-1')).toBe('manual-run/42');
    await other.release();
    expect(await unreleasedLeaseKeys(w)).toEqual([CONDITIONAL_WRITE_CHECK_KEY, dailySurveyKey({})]);
  });

  it('takes over the lease of a compactor that crashed, once it has expired', async () => {
    const w = await newWorld('lease-expired');
    await w.container('job-1', '0f3a').upload(messages('a', 1, T0));
    const body = JSON.stringify({
      holder: 'crashed/1',
      expires_at: new Date(w.now().getTime() + 2 * MINUTE).toISOString(),
    });
    await w.client.send(new PutObjectCommand({ Bucket: w.bucket, Key: leaseKey('job-1'), Body: body }));

    expect((await w.pass()).summary.pods.busy).toBe(1);
    w.advance(3 * MINUTE);
    expect((await w.pass()).summary.pods.merged).toBe(1);
    expect(await w.read('job-1')).toBe('a-0\n');
  });

  it('keeps its lease when a confirmation and the background renewal run at the same time', async () => {
    const w = await newWorld('lease-renewal-race');
    const store = { client: w.client, bucket: w.bucket };
    // Renewed every 10 ms in the background: confirmations keep meeting renewals in flight.
    const lease = await Lease.acquire({ store, pod: 'job-1', holder: 'busy/1', durationMs: 30, clock: w.now });
    try {
      for (let i = 0; i < 60; i++) await lease.confirm();
    } finally {
      await lease.release();
    }
    expect(await unreleasedLeaseKeys(w)).toEqual([]);
  });

  it('stops a compactor that stalled past its lease from writing after another took over', async () => {
    const w = await newWorld('lease-lost');
    const store = { client: w.client, bucket: w.bucket };
    const stalled = await Lease.acquire({ store, pod: 'job-1', holder: 'stalled/1', durationMs: MINUTE, clock: w.now });
    w.advance(2 * MINUTE);
    const fresh = await Lease.acquire({ store, pod: 'job-1', holder: 'fresh/2', durationMs: MINUTE, clock: w.now });

    await expect(stalled.confirm()).rejects.toThrow(LeaseLostError);
    await stalled.release();
    expect(await leaseHolder(w, 'job-1')).toBe('fresh/2');
    await expect(
      Lease.acquire({ store, pod: 'job-1', holder: 'third/3', durationMs: MINUTE, clock: w.now }),
    ).rejects.toThrow(LeaseHeldError);
    await fresh.confirm();
    await fresh.release();
  });

  // moto checks a precondition and writes without a lock in between, so a true race could
  // slip through it: interleave two passes deterministically instead, at every request.
  it('lets exactly one of two interleaved passes work on a pod, whatever the interleaving', async () => {
    const probe = await newWorld('interleave-probe');
    await seedTwoPods(probe);
    const { client: counting, log } = recording(testS3Client());
    await probe.passWith(counting);
    const requests = log.commands.length;
    expect(requests).toBeGreaterThan(10);

    for (let k = 1; k <= requests; k++) {
      const w = await newWorld(`interleave-${k}`);
      await seedTwoPods(w);
      const expected = { 'job-1': await w.read('job-1'), 'job-2': await w.read('job-2') };
      let second: Awaited<ReturnType<World['pass']>> | undefined;
      const first = await w.passWith(
        pausingAt(k, async () => {
          second = await w.pass();
        }),
      );

      const merged =
        first.reports.filter((r) => r.status === 'merged').length +
        second!.reports.filter((r) => r.status === 'merged').length;
      expect({ k, merged }).toEqual({ k, merged: 2 });
      expect(first.summary.pods.failed + second!.summary.pods.failed).toBe(0);
      for (const pod of ['job-1', 'job-2'] as const) {
        expect((await w.metadata(pod)).logFiles).toHaveLength(1);
        expect(await w.read(pod)).toBe(expected[pod]);
      }
      expect(await unreleasedLeaseKeys(w)).toEqual([CONDITIONAL_WRITE_CHECK_KEY, dailySurveyKey({})]);
    }
  }, 300_000);

  it('refuses a store that ignores conditional writes unless the risk is accepted', async () => {
    const w = await newWorld('no-conditions');
    await w.container('job-1', '0f3a').upload(messages('a', 1, T0));
    const careless = withoutConditionalWrites(testS3Client());

    await expect(w.passWith(careless)).rejects.toThrow(
      /ignores conditional writes.*--unsafe-without-conditional-writes/,
    );
    expect(await w.keys('metadata/')).toEqual([]);
    expect(await w.keys('leases/')).toEqual([CONDITIONAL_WRITE_CHECK_KEY]);

    const { summary } = await w.passWith(careless, { unsafeWithoutConditionalWrites: true });
    expect(summary.pods.merged).toBe(1);
    // A dry run writes nothing, so it needs no conditional writes.
    expect((await w.passWith(careless, { dryRun: true })).summary.pods.failed).toBe(0);
  });
});

describe('two compactor processes at once', () => {
  it('merge every pod exactly once between them', async () => {
    const w = await newWorld('two-processes');
    const pods = Array.from({ length: 6 }, (_, i) => `job-${i}`);
    for (const pod of pods) {
      const fb = w.container(pod, 'c0ffee');
      for (let m = 0; m < 4; m++) await fb.upload(messages(`${pod}-${m}`, 5, new Date(T0.getTime() + m * MINUTE)));
    }
    const expected = await Promise.all(pods.map((pod) => w.read(pod)));

    const runs = await Promise.all(
      [1, 2].map(() => runCli(COMPACTOR_BIN, ['run', '--bucket', w.bucket, '--concurrency', '3'], s3Env())),
    );

    for (const run of runs) expect(run.exitCode).toBe(0);
    const summaries = runs.map((run) => JSON.parse(run.stdout) as { pods: { merged: number; busy: number } });
    expect(summaries[0]!.pods.merged + summaries[1]!.pods.merged).toBe(pods.length);
    for (const pod of pods) expect((await w.metadata(pod)).logFiles).toHaveLength(1);
    expect(await Promise.all(pods.map((pod) => w.read(pod)))).toEqual(expected);
    // Whoever found a pod leased by the other said so, in its logs and its summary.
    const busyLogs = runs.flatMap((run) => run.stderr.split('\n').filter((l) => l.includes('"status":"busy"')));
    expect(busyLogs.length).toBe(summaries[0]!.pods.busy + summaries[1]!.pods.busy);
  }, 60_000);
});

async function seedTwoPods(w: World): Promise<void> {
  await w.container('job-1', '0f3a').upload(messages('a', 2, T0));
  await w.container('job-2', '0f3b').upload(messages('b', 2, T0));
}
