// The pass's conditional-delete probe (store-checks.ts conditionalDeletesHold) once took any
// error for "not enforced": a 500 that outlasts the SDK's retries on an enforcing store (AWS,
// moto) made the pass skip retention and log that the store does not enforce If-Match on DELETE
// — which is false. Such an error now fails the pass, before any pod, and says nothing of the kind.
import { CONDITIONAL_DELETE_CHECK_KEY } from '@platform/log-reader/layout';
import { RETENTION_NEEDS_CONDITIONAL_DELETES, runPass } from 'compactor';
import { capturingLogger } from './support/pass-logs.js';
import { INTERNAL_ERROR, PASS, startFaultProxy } from './support/fault-proxy.js';
import { HOUR, MINUTE, messages, newWorld, testConfig } from './support/world.js';

it('a transient error on the conditional-delete probe is not taken for a store without conditional deletes', async () => {
  const proxy = await startFaultProxy((r) =>
    r.operation === 'DeleteObject' && r.key === CONDITIONAL_DELETE_CHECK_KEY ? INTERNAL_ERROR : PASS,
  );
  try {
    const w = await newWorld('probe-transient', proxy.url);
    await w.container('job-1', 'c0ffee').upload(messages('a', 3, new Date('2026-11-25T10:00:00Z')));
    const { logger, lines } = capturingLogger();
    const config = testConfig(w.bucket, { retentionMs: 24 * HOUR, compactIntervalMs: 10 * MINUTE });
    const pass = runPass({ store: { client: w.client, bucket: w.bucket }, config, logger, now: w.now });

    await expect(pass).rejects.toMatchObject({ $metadata: { httpStatusCode: 500 } });
    expect(lines.filter((l) => l.includes(RETENTION_NEEDS_CONDITIONAL_DELETES))).toEqual([]);
    expect(proxy.log.some((e) => e.key === CONDITIONAL_DELETE_CHECK_KEY && e.fault !== 'pass')).toBe(true);
    expect(await w.keys('metadata/')).toEqual([]);
  } finally {
    await proxy.close();
  }
});
