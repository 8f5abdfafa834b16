// An expired pod's lease (docs/design.md §8: "all of it goes … lease") whose
// release fails once (a 500 outlasting the SDK's retries) is only warned about; the expire phase
// then deletes the pod's queue entry, and nothing ever finds leases/{pod}.json again: it stays in
// the bucket for good. expire.ts's leaveQueue says the entry goes after the lease precisely so
// that a lease is never "left behind with nothing to find it" — true for a crash, not for a
// release that failed without throwing. Nor for a release failing in two passes in a row (the
// second pass's clean phase left the queue under the lease), nor for the expire phase's check of
// what is left failing after it deleted the entry (found by review 4 of issue 16).
import { leaseKey } from '@platform/log-reader/layout';
import { INTERNAL_ERROR, PASS, startFaultProxy, type FaultRule } from './support/fault-proxy.js';
import { HOUR, MINUTE, messages, newWorld } from './support/world.js';

const DAY = 24 * HOUR;

const config = { retentionMs: DAY, cleanupIntervalMs: HOUR, compactIntervalMs: 10 * MINUTE };

/** A world whose pod `job-old` is marked expired and due for deletion at the next pass. */
async function expiredPodDue(name: string, proxyUrl: string): Promise<Awaited<ReturnType<typeof newWorld>>> {
  const w = await newWorld(name, proxyUrl);
  await w.container('job-old', '0a1').upload(messages('old', 3, new Date(Date.now() - 30 * DAY)));
  w.advance(-3 * HOUR); // its commit older than its upload, as in retention.test.ts
  await w.pass(config);
  w.advance(2 * HOUR); // its raw file cleaned
  await w.pass(config);
  w.advance(2 * DAY);
  const marking = await w.pass(config);
  expect(marking.summary.pods).toMatchObject({ expiring: 1 });
  w.advance(HOUR + 2 * MINUTE);
  return w;
}

/**
 * Deletes expired `job-old` in a pass where `failing` (started once its metadata is deleted)
 * faults requests, runs `failingPasses - 1` more passes under it, then 3 passes without
 * faults: nothing of the pod may be left.
 */
async function expireUnder(name: string, failing: FaultRule, failingPasses: number): Promise<void> {
  const proxy = await startFaultProxy();
  try {
    const w = await expiredPodDue(name, proxy.url);
    let metadataDeleted = false;
    proxy.setRule((r) => {
      if (r.operation === 'DeleteObject' && r.key === 'metadata/job-old.json') metadataDeleted = true;
      return metadataDeleted ? failing(r) : PASS;
    });
    for (let i = 0; i < failingPasses; i += 1) {
      if (i > 0) w.advance(HOUR + MINUTE);
      await w.pass(config);
    }
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
}

/** The lease's DELETE (its release) fails, every attempt. */
const releaseFails: FaultRule = (r) =>
  r.operation === 'DeleteObject' && r.key === leaseKey('job-old') ? INTERNAL_ERROR : PASS;

it('an expired pod whose lease release failed once has its lease deleted by a later pass', async () => {
  await expireUnder('expired-lease-left', releaseFails, 1);
});

it('an expired pod whose lease release fails in two passes in a row still has its lease deleted', async () => {
  // The second pass's clean phase takes the empty pod's lease, leaves the queue, fails to release.
  await expireUnder('expired-lease-left-twice', releaseFails, 2);
});

it('an expired pod whose release fails and whose check of what is left fails too keeps its queue entry', async () => {
  let entryDeleted = false;
  await expireUnder(
    'expired-lease-left-check',
    (r) => {
      if (r.operation === 'DeleteObject' && r.key === 'cleanup/job-old') entryDeleted = true;
      if (entryDeleted && r.operation === 'GetObject' && r.key === 'metadata/job-old.json') return INTERNAL_ERROR;
      return releaseFails(r);
    },
    1,
  );
});
