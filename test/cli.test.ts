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

  it('never prints secret-looking credentials, even when the store rejects them', async () => {
    const w = await newWorld('cli-secret-looking');
    await w.container('job-1', '0f3a').upload(messages('a', 1, T0));
    const leaked = {
      AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      AWS_SESSION_TOKEN: 'FwoGZXIvYXdzEXAMPLESESSIONTOKENdGhpcyBpcyBub3QgYSByZWFsIHRva2Vu',
    };
    const results = [
      await runCli(COMPACTOR_BIN, ['run', '--bucket', w.bucket, '--log-level', 'debug'], { ...s3Env(), ...leaked }),
      await runCli(LOG_READER_BIN, ['cat', 'job-1', '--bucket', w.bucket], { ...s3Env(), ...leaked }),
      await runCli(COMPACTOR_BIN, ['run', '--bucket', 'b', '--endpoint', `http://127.0.0.1:${await closedPort()}`], leaked),
    ];
    for (const r of results) {
      for (const value of Object.values(leaked)) expect(r.stdout + r.stderr).not.toContain(value);
      expect(r.stdout + r.stderr).not.toMatch(/X-Amz-Signature|X-Amz-Security-Token|Credential=/i);
    }
    // Whatever the store made of them (moto takes any), every run ended with a message, not a stack.
    for (const r of results) expect(r.stderr).not.toMatch(/\n\s+at /);
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

describe('bad values, pod names and corrupt input at the CLIs', () => {
  const oneLineExit2 = (result: { exitCode: number | null; stdout: string; stderr: string }, message: RegExp): void => {
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.stdout).toBe('');
  };

  it.concurrent.each([
    ['a zero cleanup interval', ['--cleanup-interval', '0'], /--cleanup-interval must be greater than 0/],
    ['a zero compact interval', ['--compact-interval', '0s'], /--compact-interval must be greater than 0/],
    ['a compact interval that rounds to zero', ['--compact-interval', '0.1ms'], /--compact-interval must be greater than 0/],
    ['a negative duration', ['--cleanup-interval', '-5m'], /--cleanup-interval: invalid duration "-5m"/],
    ['an empty duration', ['--compact-interval', ''], /--compact-interval: invalid duration ""/],
    ['a duration in exponent notation', ['--cleanup-interval', '1e3'], /--cleanup-interval: invalid duration "1e3"/],
    ['a zero lease duration', ['--lease-duration', '0'], /--lease-duration must be at least 1s/],
    ['a zero max file size', ['--max-file-size', '0'], /--max-file-size must be at least 1KiB, got 0 bytes/],
    ['a negative max file size', ['--max-file-size', '-1'], /--max-file-size: invalid size "-1"/],
    ['a fractional max file size', ['--max-file-size', '1.5MiB'], /--max-file-size: invalid size "1.5MiB"/],
    ['a non-numeric concurrency', ['--concurrency', 'abc'], /--concurrency: invalid number "abc"/],
    ['a negative concurrency', ['--concurrency', '-1'], /--concurrency: invalid number "-1"/],
    ['a fractional concurrency', ['--concurrency', '1.5'], /--concurrency: invalid number "1.5"/],
    ['a concurrency above 64', ['--concurrency', '65'], /--concurrency must be between 1 and 64, got 65/],
    ['an endpoint that is not a URL', ['--endpoint', 'notaurl'], /--endpoint: invalid URL "notaurl"/],
    ['an endpoint of another scheme', ['--endpoint', 'ftp://127.0.0.1:9000'], /--endpoint: invalid URL "ftp:/],
    ['an endpoint with a space', ['--endpoint', 'http://local host:9000'], /--endpoint: invalid URL/],
    ['an unknown log level', ['--log-level', 'loud'], /argument 'loud' is invalid/],
    ['a namespace with a slash', ['--namespace', 'a/b'], /--namespace: invalid namespace "a\/b"/],
    ['a pod name `..`', ['--pod', '..'], /--pod: invalid pod name "\.\."/],
    ['a pod name with a slash', ['--pod', 'job-1/x'], /--pod: invalid pod name "job-1\/x"/],
    ['a unicode pod name', ['--pod', 'jöb-1'], /--pod: invalid pod name "jöb-1"/],
    ['an uppercase pod name', ['--pod', 'Job-1'], /--pod: invalid pod name "Job-1"/],
    ['a pod name with a control character', ['--pod', 'job\u0001'], /--pod: invalid pod name "job\\u0001"/],
    ['a bad pod among good ones', ['--pod', 'job-1,job-2,../x'], /--pod: invalid pod name "\.\.\/x"/],
  ])('compactor run exits 2 with one line and no stack trace for %s', async (_name, args, message) => {
    oneLineExit2(await runCli(COMPACTOR_BIN, ['run', '--bucket', 'b', ...args], s3Env()), message);
  });

  it('compactor run exits 2 for a bad pod name or endpoint from the environment', async () => {
    oneLineExit2(await runCli(COMPACTOR_BIN, ['run', '--bucket', 'b'], { ...s3Env(), COMPACTOR_PODS: 'job-1,a..b' }), /--pod: invalid pod name "a\.\.b"/);
    oneLineExit2(await runCli(COMPACTOR_BIN, ['run', '--bucket', 'b'], { ...s3Env(), COMPACTOR_ENDPOINT: 'not a url' }), /invalid URL "not a url"/);
  });

  // Values that pass a first look: validated with `new URL()`, and numbers must stay finite.
  it.each([
    ['an endpoint that only looks like a URL', ['--endpoint', 'http://:::'], /--endpoint/],
    ['a duration too large to be a number', ['--cleanup-interval', '9'.repeat(400)], /--cleanup-interval/],
  ])('compactor run exits 2 for %s', async (_name, args, message) => {
    const w = await newWorld('cli-bad-number');
    await w.container('job-1', '0f3a').upload(messages('a', 1, T0));
    oneLineExit2(await runCli(COMPACTOR_BIN, ['run', '--bucket', w.bucket, ...args], s3Env()), message);
  });

  it.concurrent.each([['..'], ['a/b'], ['../metadata/job-1'], ['jöb-1'], ['Job-1'], ['job\u0001'], ['job 1'], ['']])('log-reader cat exits 2 for the pod name %j', async (pod) => {
    const result = await runCli(LOG_READER_BIN, ['cat', pod, '--bucket', 'b'], s3Env());
    oneLineExit2(result, /^log-reader: invalid pod name /);
    expect(result.stderr).toContain(JSON.stringify(pod));
  });

  it('log-reader cat exits 1 naming the pod and the key for a corrupt gzip, after the lines before it', async () => {
    const w = await newWorld('cli-cat-corrupt');
    await w.container('job-1', '0f3a').upload(messages('a', 2, T0));
    const key = 'kube.var.log.containers.job-1_jobs_job-1-0f3a.log/202611251001_2.gz';
    await w.client.send(new PutObjectCommand({ Bucket: w.bucket, Key: key, Body: Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0xde, 0xad, 0xbe, 0xef]) }));

    const result = await runCli(LOG_READER_BIN, ['cat', 'job-1', '--bucket', w.bucket], s3Env());

    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe('a-0\na-1\n');
    expect(result.stderr.trim()).toMatch(new RegExp(`^log-reader: pod job-1: object ${key.replace(/\./g, '\\.')} is corrupt: gzip: [^\\n]+$`));
  });
});
