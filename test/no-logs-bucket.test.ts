// A bucket with nothing in Fluent Bit's layout and nothing of the compactor: a pass writes
// nothing into it (no conditional-write check, no survey stamp), exits 0, and says once, in its
// log and in its summary, that nothing there looks like Fluent Bit's layout. Runs on every
// server `make test` runs (moto, versitygw).
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { CONDITIONAL_WRITE_CHECK_KEY, cleanupKey, RAW_PREFIX } from '@platform/log-reader/layout';
import { COMPACTOR_BIN, jsonLines, runCli, s3Env } from './support/cli.js';
import { newWorld, type World } from './support/world.js';

async function put(w: World, key: string): Promise<void> {
  await w.client.send(new PutObjectCommand({ Bucket: w.bucket, Key: key, Body: '{}' }));
}

describe('a pass over a bucket with no logs', () => {
  it('writes nothing into an empty bucket, exits 0, and says so once in the log and the summary', async () => {
    const w = await newWorld('no-logs-cli');

    const result = await runCli(COMPACTOR_BIN, ['run', '--bucket', w.bucket], s3Env());

    expect(result.exitCode).toBe(0);
    expect(jsonLines(result.stdout)).toEqual([
      expect.objectContaining({ bucketHasLogs: false, pods: expect.objectContaining({ merged: 0, failed: 0 }) }),
    ]);
    const warnings = jsonLines(result.stderr).filter((l) => l['level'] === 'warn');
    expect(warnings).toEqual([
      expect.objectContaining({
        bucket: w.bucket,
        prefix: RAW_PREFIX,
        message: expect.stringContaining(
          `nothing in bucket ${w.bucket} looks like Fluent Bit's layout: no key under ${RAW_PREFIX}`,
        ) as unknown,
      }),
    ]);
    expect(await w.listing()).toEqual([]);
  });

  it('writes nothing either in a dry run, a surveying pass, or beside objects that are not logs', async () => {
    const w = await newWorld('no-logs-lib');
    await put(w, 'notes/readme.txt');
    await put(w, `${RAW_PREFIX}not-a-container-dir`);

    for (const config of [{}, { dryRun: true }, { survey: true }]) {
      const { summary } = await w.pass(config);
      expect(summary).toMatchObject({ bucketHasLogs: false, rawFilesRead: 0, objectsDeleted: 0 });
    }
    expect(await w.keys()).toEqual([`${RAW_PREFIX}not-a-container-dir`, 'notes/readme.txt']);
  });

  it.each([
    ['a metadata document', 'metadata/job-1.json'],
    ['a cleanup queue entry', cleanupKey('job-1')],
    ['a raw directory of a container that is not a job', `${RAW_PREFIX}web-1_default_nginx-0a01.log/202611251000_1.gz`],
  ])('runs as before on a bucket that holds only %s', async (_what, key) => {
    const w = await newWorld('no-logs-work');
    await put(w, key);

    const { summary } = await w.pass();

    expect(summary.bucketHasLogs).toBe(true);
    expect(await w.keys('leases/')).toContain(CONDITIONAL_WRITE_CHECK_KEY);
  });
});
