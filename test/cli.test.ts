// The built `compactor` and `log-reader` bins as users run them: flags, environment
// variables, output on stdout and stderr, exit codes, and nothing secret in any of it.
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createServer } from 'node:net';
import { COMPACTOR_BIN, LOG_READER_BIN, runCli, s3Env } from './support/cli.js';
import { messages, newWorld } from './support/world.js';

const T0 = new Date('2026-11-25T10:00:00Z');

function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** A loopback port nobody listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as { port: number };
  await new Promise((ok) => server.close(ok));
  return port;
}

describe('compactor run', () => {
  it('merges, logs JSON per pod on stderr and prints one summary line on stdout', async () => {
    const w = await newWorld('cli-run');
    await w.container('job-1', '0f3a').upload(messages('a', 2, T0));
    await w.container('job-2', '0f3b').upload(messages('b', 1, T0));

    const result = await runCli(COMPACTOR_BIN, ['run', '--bucket', w.bucket], s3Env());

    expect(result.exitCode).toBe(0);
    const out = jsonLines(result.stdout);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ pods: { merged: 2, failed: 0 }, rawFilesRead: 2, mergedFilesWritten: 2, dryRun: false });
    const logs = jsonLines(result.stderr);
    expect(logs.filter((l) => l['message'] === 'pod merged').map((l) => l['pod']).sort()).toEqual(['job-1', 'job-2']);
    expect(await w.read('job-1')).toBe('a-0\na-1\n');
  });

  it('takes every flag from the environment too', async () => {
    const w = await newWorld('cli-env');
    await w.container('job-1', '0f3a').upload(messages('a', 1, T0));
    await w.container('job-2', '0f3b').upload(messages('b', 1, T0));

    const result = await runCli(COMPACTOR_BIN, ['run'], {
      ...s3Env(),
      COMPACTOR_BUCKET: w.bucket,
      COMPACTOR_PODS: 'job-2',
      COMPACTOR_MAX_FILE_SIZE: '64KiB',
      COMPACTOR_CLEANUP_INTERVAL: '90s',
      COMPACTOR_COMPACT_INTERVAL: '1h',
    });

    expect(result.exitCode).toBe(0);
    expect(jsonLines(result.stdout)[0]).toMatchObject({ pods: { merged: 1 } });
    expect(await w.keys('metadata/')).toEqual(['metadata/job-2.json']);
  });

  it('limits the pass to --pod and --namespace', async () => {
    const w = await newWorld('cli-filter');
    await w.container('job-1', '0f3a', { namespace: 'team-a' }).upload(messages('a', 1, T0));
    await w.container('job-2', '0f3b', { namespace: 'team-b' }).upload(messages('b', 1, T0));
    await w.container('job-3', '0f3c', { namespace: 'team-b' }).upload(messages('c', 1, T0));

    const byNamespace = await runCli(COMPACTOR_BIN, ['run', '--bucket', w.bucket, '--namespace', 'team-b', '--pod', 'job-1', '--pod', 'job-3'], s3Env());

    expect(byNamespace.exitCode).toBe(0);
    expect(await w.keys('metadata/')).toEqual(['metadata/job-3.json']);
  });

  it('prints what it would do with --dry-run and changes nothing', async () => {
    const w = await newWorld('cli-dry');
    await w.container('job-1', '0f3a').upload(messages('a', 3, T0));
    const before = await w.listing();

    const result = await runCli(COMPACTOR_BIN, ['run', '--bucket', w.bucket, '--dry-run'], s3Env());

    expect(result.exitCode).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^merge job-1: would merge 1 raw file\(s\) \(\d+ B read\) into 1 merged file\(s\) of 3 line\(s\)$/);
    expect(JSON.parse(lines[1]!)).toMatchObject({ dryRun: true, pods: { merged: 1 } });
    expect(await w.listing()).toEqual(before);
  });

  it('exits 1 when a pod fails, after processing the others', async () => {
    const w = await newWorld('cli-fail');
    await w.container('job-1', '0f3a', { namespace: 'a' }).upload(messages('a', 1, T0));
    await w.container('job-1', '0f3b', { namespace: 'b' }).upload(messages('b', 1, T0));
    await w.container('job-2', '0f3c').upload(messages('c', 1, T0));

    const result = await runCli(COMPACTOR_BIN, ['run', '--bucket', w.bucket], s3Env());

    expect(result.exitCode).toBe(1);
    const summary = jsonLines(result.stdout)[0]!;
    expect(summary).toMatchObject({ pods: { merged: 1, failed: 1 }, failures: [{ pod: 'job-1' }] });
    const error = jsonLines(result.stderr).find((l) => l['level'] === 'error');
    expect(error).toMatchObject({ pod: 'job-1', status: 'failed' });
    expect(String(error?.['reason'])).toContain('several namespaces');
  });

  it.each([
    ['a missing bucket', [], /--bucket is required/],
    ['an unknown flag', ['--bucket', 'b', '--frobnicate'], /unknown option '--frobnicate'/],
    ['a bad duration', ['--bucket', 'b', '--cleanup-interval', 'soon'], /--cleanup-interval: invalid duration "soon"/],
    ['a bad size', ['--bucket', 'b', '--max-file-size', '10 parsecs'], /--max-file-size: invalid size "10 parsecs"/],
    ['a bad concurrency', ['--bucket', 'b', '--concurrency', '0'], /--concurrency must be between 1 and 64/],
    ['a bad pod name', ['--bucket', 'b', '--pod', '../etc'], /--pod: invalid pod name/],
  ])('exits 2 with one line and no stack trace for %s', async (_name, args, message) => {
    const result = await runCli(COMPACTOR_BIN, ['run', ...args], s3Env());
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.stdout).toBe('');
  });

  it('exits 2 naming the endpoint when S3 cannot be reached', async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const result = await runCli(COMPACTOR_BIN, ['run', '--bucket', 'b', '--endpoint', endpoint]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr.trim()).toBe(`compactor: cannot reach S3 at ${endpoint}: ECONNREFUSED`);
  });

  it('exits 2 naming the bucket when it does not exist', async () => {
    const result = await runCli(COMPACTOR_BIN, ['run', '--bucket', 'no-such-bucket-here'], s3Env());
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/bucket no-such-bucket-here does not exist/);
  });

  it('never prints the credentials', async () => {
    const w = await newWorld('cli-secret');
    await w.container('job-1', '0f3a').upload(messages('a', 1, T0));
    const secret = process.env['AWS_SECRET_ACCESS_KEY']!;
    const keyId = process.env['AWS_ACCESS_KEY_ID']!;
    const results = [
      await runCli(COMPACTOR_BIN, ['run', '--bucket', w.bucket, '--log-level', 'debug'], s3Env()),
      await runCli(COMPACTOR_BIN, ['run', '--bucket', 'no-such-bucket-here'], s3Env()),
      await runCli(LOG_READER_BIN, ['cat', 'job-1', '--bucket', w.bucket], s3Env()),
    ];
    for (const r of results) {
      expect(r.stdout + r.stderr).not.toContain(secret);
      expect(r.stdout + r.stderr).not.toContain(keyId);
      expect(r.stdout + r.stderr).not.toMatch(/X-Amz-Signature|Credential=/i);
    }
  });
});

describe('log-reader cat', () => {
  it("writes the pod's log, with --timestamps and --since", async () => {
    const w = await newWorld('cli-cat');
    await w.container('job-1', '0f3a').upload(messages('a', 3, T0));
    await w.pass();
    await w.container('job-1', '0f3a', { firstIndex: 2 }).upload(messages('b', 1, new Date(T0.getTime() + 60_000)));

    const plain = await runCli(LOG_READER_BIN, ['cat', 'job-1', '--bucket', w.bucket], s3Env());
    expect(plain).toEqual({ exitCode: 0, stdout: 'a-0\na-1\na-2\nb-0\n', stderr: '' });

    const since = await runCli(LOG_READER_BIN, ['cat', 'job-1', '--bucket', w.bucket, '--timestamps', '--since', '2026-11-25T10:00:01.123456789Z'], s3Env());
    expect(since.stdout).toBe('2026-11-25T10:00:01.123456789Z a-1\n2026-11-25T10:00:02.123456789Z a-2\n2026-11-25T10:01:00.123456789Z b-0\n');
  });

  it('exits 2 for a bad --since or pod name, and 1 for a corrupt file', async () => {
    const w = await newWorld('cli-cat-bad');
    const badSince = await runCli(LOG_READER_BIN, ['cat', 'job-1', '--bucket', w.bucket, '--since', 'yesterday'], s3Env());
    expect(badSince.exitCode).toBe(2);
    expect(badSince.stderr).toMatch(/--since: invalid time "yesterday"/);
    const badPod = await runCli(LOG_READER_BIN, ['cat', 'a/b', '--bucket', w.bucket], s3Env());
    expect(badPod.exitCode).toBe(2);

    await w.client.send(new PutObjectCommand({ Bucket: w.bucket, Key: 'metadata/job-1.json', Body: '{"log_files": 7' }));
    const corrupt = await runCli(LOG_READER_BIN, ['cat', 'job-1', '--bucket', w.bucket], s3Env());
    expect(corrupt.exitCode).toBe(1);
    expect(corrupt.stderr.trim()).toMatch(/^log-reader: metadata metadata\/job-1\.json is invalid: not JSON/);
  });
});
