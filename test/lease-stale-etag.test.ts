// A lease whose holder's ETag went stale — its renewal landed but the
// answer was lost and the SDK's last attempt failed otherwise (5xx) — must not be left binding
// silently by the release (issue 16: "never leave a lease behind silently"). Before the fix the
// release's If-Match fails on our own lease, which release() takes for "taken over" and returns
// without a word: the lease stays ours, live, for its whole duration.
import { leaseKey } from '@platform/log-reader/layout';
import { Lease } from 'compactor';
import { capturingLogger } from './support/pass-logs.js';
import { DROP_AFTER, INTERNAL_ERROR, PASS, startFaultProxy, type FaultProxy } from './support/fault-proxy.js';
import { getObjectBytes } from './support/s3.js';
import { MINUTE, newWorld } from './support/world.js';

const proxies: FaultProxy[] = [];
afterEach(async () => {
  for (const proxy of proxies.splice(0)) await proxy.close();
});

describe.each([
  ['rewrites a released lease (no conditional deletes)', false],
  ['deletes a released lease (conditional deletes)', true],
])('a release that %s, after a renewal whose answer was lost', (_name, conditionalDeletes) => {
  it('does not leave its own lease binding silently', async () => {
    const proxy = await startFaultProxy();
    proxies.push(proxy);
    const w = await newWorld('stale-etag', proxy.url);
    const { logger, lines } = capturingLogger();
    const store = { client: w.client, bucket: w.bucket };
    const lease = await Lease.acquire({
      store,
      pod: 'job-1',
      holder: 'h/1',
      durationMs: 5 * MINUTE,
      clock: w.now,
      logger,
      conditionalDeletes,
    });
    // The renewal (confirm) lands but its answer is lost; every retry meets a 5xx.
    let renewals = 0;
    proxy.setRule((r) => {
      if (r.key !== leaseKey('job-1') || r.operation !== 'PutObject') return PASS;
      renewals += 1;
      return renewals === 1 ? DROP_AFTER : INTERNAL_ERROR;
    });
    w.advance(MINUTE);
    await expect(lease.confirm()).rejects.toThrow();
    proxy.setRule(() => PASS);

    await lease.release();

    const keys = await w.keys(leaseKey('job-1'));
    const stored =
      keys.length === 0
        ? undefined
        : (JSON.parse((await getObjectBytes(w.client, w.bucket, leaseKey('job-1'))).toString('utf8')) as {
            holder: string;
            expires_at: string;
          });
    const binds = stored !== undefined && Date.parse(stored.expires_at) > w.now().getTime();
    const warned = lines.some((l) => l.includes('"level":"warn"') && l.includes('job-1'));
    // Released, or at least said: never our own lease left live without a word.
    expect({ binds, warned, holder: stored?.holder }).not.toMatchObject({ binds: true, warned: false });
  });
});
