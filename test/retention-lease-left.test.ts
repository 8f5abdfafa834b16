// An expired pod's lease (docs/design.md §8: "all of it goes … lease") whose
// release fails once (a 500 outlasting the SDK's retries) is only warned about; the expire phase
// then deletes the pod's queue entry, and nothing ever finds leases/{pod}.json again: it stays in
// the bucket for good. expire.ts's leaveQueue says the entry goes after the lease precisely so
// that a lease is never "left behind with nothing to find it" — true for a crash, not for a
// release that failed without throwing.
import { leaseKey } from '@platform/log-reader/layout';
import { INTERNAL_ERROR, PASS, startFaultProxy } from './support/fault-proxy.js';
import { HOUR, MINUTE, messages, newWorld } from './support/world.js';

const DAY = 24 * HOUR;

it('an expired pod whose lease release failed once has its lease deleted by a later pass', async () => {
  const proxy = await startFaultProxy();
  try {
    const w = await newWorld('expired-lease-left', proxy.url);
    const config = { retentionMs: DAY, cleanupIntervalMs: HOUR, compactIntervalMs: 10 * MINUTE };
    await w.container('job-old', '0a1').upload(messages('old', 3, new Date(Date.now() - 30 * DAY)));
    w.advance(-3 * HOUR); // its commit older than its upload, as in retention.test.ts
    await w.pass(config);
    w.advance(2 * HOUR); // its raw file cleaned
    await w.pass(config);
    w.advance(2 * DAY);
    const marking = await w.pass(config);
    expect(marking.summary.pods).toMatchObject({ expiring: 1 });
    w.advance(HOUR + 2 * MINUTE);
    // The release after the expiry fails (the clean phase's release before it goes through).
    let metadataDeleted = false;
    proxy.setRule((r) => {
      if (r.operation === 'DeleteObject' && r.key === 'metadata/job-old.json') metadataDeleted = true;
      return metadataDeleted && r.operation === 'DeleteObject' && r.key === leaseKey('job-old') ? INTERNAL_ERROR : PASS;
    });
    const deleting = await w.pass(config);
    expect(deleting.reports.filter((r) => r.pod === 'job-old').at(-1)).toMatchObject({ status: 'expired' });
    expect(await w.keys(leaseKey('job-old'))).toEqual([leaseKey('job-old')]);
    proxy.setRule(() => PASS);

    for (let i = 0; i < 3; i += 1) {
      w.advance(HOUR + MINUTE);
      await w.pass(config);
    }

    expect((await w.keys()).filter((k) => k.includes('job-old'))).toEqual([]);
  } finally {
    await proxy.close();
  }
});
