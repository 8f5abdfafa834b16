// The conditional-delete probe (store-checks.ts conditionalDeletesHold) asks on an object of its
// own: on a store that ignores If-Match on DELETE it once deleted leases/.conditional-write-check.
// A second compactor running at the same time (a --shard CronJob, a manual run) whose probe lands
// between this pass's two If-None-Match creates of that object makes the second create succeed:
// this pass then ends with exit 2, "ignores conditional writes", on a store that enforces them.
import type { S3Client } from '@aws-sdk/client-s3';
import { conditionalDeletesHold } from 'compactor';
import { CONDITIONAL_WRITE_CHECK_KEY } from '@platform/log-reader/layout';
import { ignoringConditionalDeletes } from './support/hooks.js';
import { testS3Client } from './support/s3.js';
import { MINUTE, messages, newWorld } from './support/world.js';

const T0 = new Date('2026-11-25T10:00:00Z');

/** Before this client's second PUT of the check object, `between` runs (another pass's probe). */
function probedBetweenCreates(client: S3Client, between: () => Promise<void>): S3Client {
  let puts = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const key = (args.input as { Key?: string }).Key;
      if (context.commandName === 'PutObjectCommand' && key === CONDITIONAL_WRITE_CHECK_KEY) {
        puts += 1;
        if (puts === 2) await between();
      }
      return next(args);
    },
    { step: 'initialize', name: 'otherPassProbe' },
  );
  return client;
}

describe('two passes at once on a store that ignores If-Match on DELETE', () => {
  it("one pass's conditional-delete probe does not fail the other's conditional-write check", async () => {
    const w = await newWorld('probe-race');
    await w.container('job-1', 'c0ffee').upload(messages('a', 3, T0));
    const other = ignoringConditionalDeletes(testS3Client());
    // The other pass's probe, as it asks (its If-Match is ignored by this store).
    const probe = async (): Promise<void> => {
      await conditionalDeletesHold({ client: other, bucket: w.bucket });
    };
    const client = probedBetweenCreates(ignoringConditionalDeletes(testS3Client()), probe);

    const pass = w.passWith(client, { compactIntervalMs: 10 * MINUTE });

    await expect(pass).resolves.toMatchObject({ summary: { pods: { merged: 1, failed: 0 } } });
  });
});
