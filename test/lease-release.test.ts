// A lease's release (docs/design.md §6, one writer per pod) on every kind of store: one that
// enforces If-Match on DELETE (moto, versitygw, AWS), one that answers it 501 NotImplemented
// (LocalStack; a fault proxy answers so in front of the other servers), one that ignores the
// header. A released lease must let the next compactor in at once, a lease taken over must stay
// its new holder's, a release that fails must say so, and an expired pod's lease goes with it.
import { leaseKey } from '@platform/log-reader/layout';
import { Lease, RETENTION_NEEDS_CONDITIONAL_DELETES, runPass } from 'compactor';
import { capturingLogger } from './support/pass-logs.js';
import type { S3Client } from '@aws-sdk/client-s3';
import { INTERNAL_ERROR, NOT_IMPLEMENTED, PASS, startFaultProxy, type FaultProxy } from './support/fault-proxy.js';
import { ignoringConditionalDeletes } from './support/hooks.js';
import { getObjectBytes, serverKind, testS3Client } from './support/s3.js';
import { HOUR, MINUTE, messages, newWorld, testConfig, type World } from './support/world.js';

const T0 = new Date('2026-11-25T10:00:00Z');
const DAY = 24 * HOUR;

/** A World on a store of one kind, and the client its passes use. */
interface Store {
  readonly w: World;
  readonly client: S3Client;
  /** Whether the store refuses a DELETE whose If-Match does not hold. */
  readonly conditionalDeletes: boolean;
}

const proxies: FaultProxy[] = [];
afterEach(async () => {
  for (const proxy of proxies.splice(0)) await proxy.close();
});

/** DeleteObject with If-Match answered 501, as LocalStack does (on LocalStack itself: by the server). */
async function refusingStore(name: string): Promise<Store> {
  if (serverKind() === 'localstack') {
    const w = await newWorld(name);
    return { w, client: w.client, conditionalDeletes: false };
  }
  const proxy = await startFaultProxy((r) =>
    r.operation === 'DeleteObject' && r.headers['if-match'] !== undefined ? NOT_IMPLEMENTED : PASS,
  );
  proxies.push(proxy);
  const w = await newWorld(name, proxy.url);
  return { w, client: w.client, conditionalDeletes: false };
}

async function ignoringStore(name: string): Promise<Store> {
  const w = await newWorld(name);
  return { w, client: ignoringConditionalDeletes(testS3Client()), conditionalDeletes: false };
}

async function enforcingStore(name: string): Promise<Store> {
  const w = await newWorld(name);
  return { w, client: w.client, conditionalDeletes: true };
}

const STORES: [string, (name: string) => Promise<Store>][] = [
  ['refuses conditional deletes (501)', refusingStore],
  ['ignores If-Match on DELETE', ignoringStore],
  // LocalStack refuses them: the first row is its own.
  ...(serverKind() === 'localstack'
    ? []
    : ([['enforces conditional deletes', enforcingStore]] as [string, (name: string) => Promise<Store>][])),
];

async function storedLease(w: World, pod: string): Promise<{ holder: string; expires_at: string } | undefined> {
  const keys = await w.keys(leaseKey(pod));
  if (keys.length === 0) return undefined;
  return JSON.parse((await getObjectBytes(w.client, w.bucket, leaseKey(pod))).toString('utf8')) as {
    holder: string;
    expires_at: string;
  };
}

describe.each(STORES)('a store that %s', (_name, storeOf) => {
  it('lets a second pass right after the first compact the pod: the released lease binds no one', async () => {
    const { w, client } = await storeOf('lease-release-twice');
    const fb = w.container('job-1', 'c0ffee');
    await fb.upload(messages('a', 3, T0));
    const first = await w.passWith(client, { compactIntervalMs: 0 });
    expect(first.summary.pods).toMatchObject({ merged: 1, busy: 0, failed: 0 });

    await fb.upload(messages('b', 2, new Date(T0.getTime() + MINUTE)));
    const second = await w.passWith(client, { compactIntervalMs: 0 });

    expect(second.summary.pods).toMatchObject({ merged: 1, busy: 0, failed: 0 });
    expect(await w.read('job-1')).toBe('a-0\na-1\na-2\nb-0\nb-1\n');
    const left = await storedLease(w, 'job-1');
    if (left !== undefined) expect(Date.parse(left.expires_at)).toBeLessThan(w.now().getTime());
  });

  it('never releases a lease that was taken over from its stalled holder', async () => {
    const { w, client, conditionalDeletes } = await storeOf('lease-release-taken-over');
    const store = { client, bucket: w.bucket };
    const options = { store, pod: 'job-1', durationMs: MINUTE, clock: w.now, conditionalDeletes };
    const stalled = await Lease.acquire({ ...options, holder: 'stalled/1' });
    w.advance(2 * MINUTE);
    const fresh = await Lease.acquire({ ...options, holder: 'fresh/2' });

    await stalled.release();

    const left = await storedLease(w, 'job-1');
    expect(left?.holder).toBe('fresh/2');
    expect(Date.parse(left?.expires_at ?? '')).toBeGreaterThan(w.now().getTime());
    await expect(fresh.confirm()).resolves.toBeUndefined();
    await fresh.release();
  });
});

describe('a release that fails', () => {
  it('logs a warning naming the pod, and the lease binds until it expires', async () => {
    const proxy = await startFaultProxy();
    proxies.push(proxy);
    const w = await newWorld('lease-release-fails', proxy.url);
    const { logger, lines } = capturingLogger();
    const store = { client: w.client, bucket: w.bucket };
    const lease = await Lease.acquire({ store, pod: 'job-1', holder: 'h/1', durationMs: MINUTE, clock: w.now, logger });
    proxy.setRule((r) => (r.key === leaseKey('job-1') ? INTERNAL_ERROR : PASS));

    await lease.release();

    const warnings = lines.filter((l) => l.includes('"level":"warn"'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('pod job-1: lease leases/job-1.json not released');
    proxy.setRule(() => PASS);
    expect((await storedLease(w, 'job-1'))?.holder).toBe('h/1');
  });
});

describe('retention on a store without conditional deletes', () => {
  it.each(STORES.filter(([name]) => name !== 'enforces conditional deletes'))(
    'on a store that %s: marks and deletes nothing, says so once, and the log stays readable',
    async (_name, storeOf) => {
      const { w, client } = await storeOf('retention-no-cond-deletes');
      const config = { retentionMs: DAY, cleanupIntervalMs: HOUR, compactIntervalMs: 10 * MINUTE };
      const old = new Date(Date.now() - 30 * DAY);
      await w.container('job-old', '0a1').upload(messages('old', 3, old));
      w.advance(-3 * HOUR); // its commit is older than its upload, as in retention.test.ts
      await w.passWith(client, config);
      // The clean phase still deletes the merged raw file; the merged log must stay.
      const merged = async (): Promise<string[]> => [...(await w.keys('data/')), ...(await w.keys('metadata/'))].sort();
      const before = await merged();
      w.advance(3 * HOUR + 2 * DAY);

      const { logger, lines } = capturingLogger();
      const marking = await runPass({
        store: { client, bucket: w.bucket },
        config: testConfig(w.bucket, config),
        logger,
        now: w.now,
      });
      w.advance(HOUR + MINUTE);
      const deleting = await w.passWith(client, config);

      for (const pass of [marking, deleting])
        expect(pass.summary.pods).toMatchObject({ expiring: 0, expired: 0, failed: 0 });
      expect(lines.filter((l) => l.includes(RETENTION_NEEDS_CONDITIONAL_DELETES))).toHaveLength(1);
      expect((await w.metadata('job-old')).expiredAt).toBeUndefined();
      expect(await merged()).toEqual(before);
      expect(await w.read('job-old')).toBe('old-0\nold-1\nold-2\n');
    },
  );
});
