// Boolean environment twins as a ConfigMap sets them: `false`, `0` and `no` mean false, and a
// value that is no boolean ends the run with exit 2 and one line naming the variable and the value.
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { rawKey } from '@platform/log-reader/layout';
import { COMPACTOR_BIN, jsonLines, LOG_READER_BIN, runCli, s3Env } from './support/cli.js';
import { messages, newWorld } from './support/world.js';

const T0 = new Date('2026-11-25T10:00:00Z');

describe('compactor run: COMPACTOR_DRY_RUN', () => {
  it.each(['false', 'FALSE', '0', 'no'])('=%s runs a real pass', async (value) => {
    const w = await newWorld('bool-dry-false');
    await w.container('job-1', '0f3a').upload(messages('a', 2, T0));

    const result = await runCli(COMPACTOR_BIN, ['run', '--bucket', w.bucket], { ...s3Env(), COMPACTOR_DRY_RUN: value });

    expect(result.exitCode).toBe(0);
    expect(jsonLines(result.stdout)[0]).toMatchObject({ dryRun: false, pods: { merged: 1 } });
    expect(await w.keys('metadata/')).toEqual(['metadata/job-1.json']);
  });

  it('=yes runs a dry run that writes nothing', async () => {
    const w = await newWorld('bool-dry-yes');
    await w.container('job-1', '0f3a').upload(messages('a', 2, T0));
    const before = await w.listing();

    const result = await runCli(COMPACTOR_BIN, ['run', '--bucket', w.bucket], { ...s3Env(), COMPACTOR_DRY_RUN: 'Yes' });

    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout.trimEnd().split('\n').at(-1)!)).toMatchObject({ dryRun: true });
    expect(await w.listing()).toEqual(before);
  });

  it.each(['', 'maybe'])(
    '=%j exits 2 with one line naming the variable and the value, and touches nothing',
    async (value) => {
      const w = await newWorld('bool-dry-bad');
      await w.container('job-1', '0f3a').upload(messages('a', 2, T0));
      const before = await w.listing();

      const result = await runCli(COMPACTOR_BIN, ['run', '--bucket', w.bucket], {
        ...s3Env(),
        COMPACTOR_DRY_RUN: value,
      });

      expect(result).toEqual({
        exitCode: 2,
        stdout: '',
        stderr: `compactor: COMPACTOR_DRY_RUN: invalid value ${JSON.stringify(value)}: expected true/false, 1/0 or yes/no (any case)\n`,
      });
      expect(await w.listing()).toEqual(before);
    },
  );
});

describe('log-reader logs: LOG_READER_STRICT', () => {
  /** job-bad: a good file, one whose gzip is garbage, a good file. */
  async function podWithUnreadableObject(): Promise<{ bucket: string }> {
    const w = await newWorld('bool-strict');
    const key = (index: number): string =>
      rawKey({
        pod: 'job-bad',
        namespace: 'jobs',
        container: 'job-bad',
        containerId: '0f3a',
        slice: '202611251000',
        index,
      });
    const line = (m: string): string =>
      `${JSON.stringify({ time: '2026-11-25T10:00:00Z', stream: 'stdout', logtag: 'F', log: m })}\n`;
    const bodies = [line('a'), Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), Buffer.alloc(64, 7)]), line('b')];
    for (const [i, body] of bodies.entries())
      await w.client.send(new PutObjectCommand({ Bucket: w.bucket, Key: key(i + 1), Body: body }));
    return { bucket: w.bucket };
  }

  it('=no reads around the unreadable object (exit 0); =YES fails at it (exit 1); =maybe exits 2 naming it', async () => {
    const { bucket } = await podWithUnreadableObject();
    const args = ['logs', 'job-bad', '--bucket', bucket];

    const lenient = await runCli(LOG_READER_BIN, args, { ...s3Env(), LOG_READER_STRICT: 'no' });
    expect(lenient).toMatchObject({ exitCode: 0, stdout: 'a\nb\n' });

    const strict = await runCli(LOG_READER_BIN, args, { ...s3Env(), LOG_READER_STRICT: 'YES' });
    expect(strict.exitCode).toBe(1);

    const bad = await runCli(LOG_READER_BIN, args, { ...s3Env(), LOG_READER_STRICT: 'maybe' });
    expect(bad).toEqual({
      exitCode: 2,
      stdout: '',
      stderr: 'log-reader: LOG_READER_STRICT: invalid value "maybe": expected true/false, 1/0 or yes/no (any case)\n',
    });
  });
});
