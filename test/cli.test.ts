// The built `compactor` and `log-reader` bins as users run them: flags, environment
// variables, output on stdout and stderr, exit codes, and nothing secret in any of it.
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { main } from 'compactor';
import {
  captured,
  closedPort,
  COMPACTOR_BIN,
  LINKED_BIN,
  LOG_READER_BIN,
  jsonLines,
  runCli,
  s3Env,
  type CliResult,
} from './support/cli.js';
import { messages, newWorld } from './support/world.js';

const T0 = new Date('2026-11-25T10:00:00Z');

describe('compactor run', () => {
  it('merges, logs JSON per pod on stderr and prints one summary line on stdout', async () => {
    const w = await newWorld('cli-run');
    await w.container('job-1', '0f3a').upload(messages('a', 2, T0));
    await w.container('job-2', '0f3b').upload(messages('b', 1, T0));

    const result = await runCli(COMPACTOR_BIN, ['run', '--bucket', w.bucket], s3Env());

    expect(result.exitCode).toBe(0);
    const out = jsonLines(result.stdout);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({
      pods: { merged: 2, failed: 0 },
      rawFilesRead: 2,
      mergedFilesWritten: 2,
      dryRun: false,
    });
    const logs = jsonLines(result.stderr);
    expect(
      logs
        .filter((l) => l['message'] === 'pod merged')
        .map((l) => l['pod'])
        .sort(),
    ).toEqual(['job-1', 'job-2']);
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

    const byNamespace = await runCli(
      COMPACTOR_BIN,
      ['run', '--bucket', w.bucket, '--namespace', 'team-b', '--pod', 'job-1', '--pod', 'job-3'],
      s3Env(),
    );

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
    expect(lines[0]).toMatch(
      /^merge job-1: would merge 1 raw file\(s\) \(\d+ B read\) into 1 merged file\(s\) of 3 line\(s\)$/,
    );
    expect(JSON.parse(lines[1]!)).toMatchObject({ dryRun: true, pods: { wouldMerge: 1 } });
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

  // End to end through the built bin: exit code, one line, no stack. Every other bad flag and
  // value is a unit test of main() and validate() (packages/compactor/src/*.test.ts).
  it.each([
    ['a missing bucket', [], /--bucket is required/],
    ['an unknown flag', ['--bucket', 'b', '--frobnicate'], /unknown option '--frobnicate'/],
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
      await runCli(
        COMPACTOR_BIN,
        ['run', '--bucket', 'b', '--endpoint', `http://127.0.0.1:${await closedPort()}`],
        leaked,
      ),
    ];
    for (const r of results) {
      for (const value of Object.values(leaked)) expect(r.stdout + r.stderr).not.toContain(value);
      expect(r.stdout + r.stderr).not.toMatch(/X-Amz-Signature|X-Amz-Security-Token|Credential=/i);
    }
    // Whatever the store made of them (moto takes any), every run ended with a message, not a stack.
    for (const r of results) expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('compactor run with zero intervals', () => {
  it('merges at once with --compact-interval 0 and deletes the merged raw files on the next pass with --cleanup-interval 0, warning about readers', async () => {
    const w = await newWorld('cli-zero');
    await w.container('job-1', '0f3a').upload(messages('a', 3, T0));
    const rawKeys = await w.keys('kube.var.log.containers.');
    const args = [
      'run',
      '--bucket',
      w.bucket,
      '--endpoint',
      process.env['S3_TEST_ENDPOINT']!,
      '--compact-interval',
      '0',
      '--cleanup-interval',
      '0',
    ];

    const first = captured();
    expect(await main(args, first.io)).toBe(0);
    expect(jsonLines(first.stdout())[0]).toMatchObject({ pods: { merged: 1 }, rawFilesMerged: 1, objectsDeleted: 0 });
    // main()'s own io.stderr gets the log lines: the warning first, then the pass.
    const logs = jsonLines(first.stderr());
    expect(logs[0]).toMatchObject({
      level: 'warn',
      message: expect.stringMatching(/--cleanup-interval 0 ms is under a minute/),
    });
    expect(logs.some((l) => l['message'] === 'pod merged' && l['pod'] === 'job-1')).toBe(true);
    expect(await w.keys('kube.var.log.containers.')).toEqual(rawKeys);

    const second = captured();
    expect(await main(args, second.io)).toBe(0);
    expect(jsonLines(second.stdout())[0]).toMatchObject({ objectsDeleted: rawKeys.length });
    expect(await w.keys('kube.var.log.containers.')).toEqual([]);
    expect(await w.read('job-1')).toBe('a-0\na-1\na-2\n');
  });
});

describe('running the CLIs from a checkout', () => {
  const ROOT = resolve(__dirname, '..');

  it.each([
    ['compactor', 'packages/compactor/package.json'],
    ['log-reader', 'packages/log-reader/package.json'],
  ] as const)(
    'runs `%s --version` through the bin npm linked at install (node_modules/.bin), printing its package.json version',
    async (name, manifest) => {
      const { version } = JSON.parse(await readFile(resolve(ROOT, manifest), 'utf8')) as { version: string };
      expect(await runCli(LINKED_BIN(name), ['--version'], {}, { exec: true })).toEqual({
        exitCode: 0,
        stdout: `${version}\n`,
        stderr: '',
      });
    },
  );

  it.each([['compactor'], ['log-reader']] as const)(
    "runs %s with V8's young generation at 16 MiB a semi-space (its shebang), as Node 20 did",
    async (name) => {
      // A module NODE_OPTIONS loads first says which flags the process started with.
      const dir = await mkdtemp(join(tmpdir(), 'flags-'));
      try {
        const probe = join(dir, 'probe.mjs');
        await writeFile(probe, 'process.stderr.write(`execArgv ${JSON.stringify(process.execArgv)}\\n`);\n');
        const result = await runCli(
          LINKED_BIN(name),
          ['--version'],
          { NODE_OPTIONS: `--import=${probe}` },
          { exec: true },
        );
        expect(result.exitCode).toBe(0);
        expect(result.stderr).toBe(`execArgv ${JSON.stringify(['--max-semi-space-size=16'])}\n`);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );

  it.each([['compactor'], ['log-reader']])(
    'says "run `make build` first" and exits 2 when the %s shim finds neither bundle/ nor dist/',
    async (name) => {
      // A copy of the package without bundle/ or dist/: the shim and a package.json that makes it ESM.
      const dir = await mkdtemp(join(tmpdir(), 'shim-'));
      try {
        const pkg = name === 'compactor' ? 'compactor' : 'log-reader';
        await mkdir(join(dir, 'bin'));
        await copyFile(resolve(ROOT, `packages/${pkg}/bin/${name}.js`), join(dir, 'bin', `${name}.js`));
        await writeFile(join(dir, 'package.json'), '{"type":"module"}');
        const result = await runCli(join(dir, 'bin', `${name}.js`), ['--version']);
        expect(result).toEqual({
          exitCode: 2,
          stdout: '',
          stderr: `${name}: not built yet (no bundle/bin.js, no dist/bin.js): run \`make build\` first\n`,
        });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );

  it('ends quietly when stdout is closed (`compactor run --help | head -1`): exit 0, no stack trace', async () => {
    const result = await runCli(COMPACTOR_BIN, ['run', '--help'], {}, { closeStdout: true });
    expect(result).toEqual({ exitCode: 0, stdout: '', stderr: '' });
  });

  it('keeps its usual exit code when stdout is closed during a bad-usage run', async () => {
    const result = await runCli(COMPACTOR_BIN, ['run'], {}, { closeStdout: true });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe('compactor: --bucket is required (or COMPACTOR_BUCKET)\n');
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

    const since = await runCli(
      LOG_READER_BIN,
      ['cat', 'job-1', '--bucket', w.bucket, '--timestamps', '--since', '2026-11-25T10:00:01.123456789Z'],
      s3Env(),
    );
    expect(since.stdout).toBe(
      '2026-11-25T10:00:01.123456789Z a-1\n2026-11-25T10:00:02.123456789Z a-2\n2026-11-25T10:01:00.123456789Z b-0\n',
    );
  });

  it('exits 2 for a bad --since or pod name, and 1 for a corrupt file', async () => {
    const w = await newWorld('cli-cat-bad');
    const badSince = await runCli(
      LOG_READER_BIN,
      ['cat', 'job-1', '--bucket', w.bucket, '--since', 'yesterday'],
      s3Env(),
    );
    expect(badSince.exitCode).toBe(2);
    expect(badSince.stderr).toMatch(
      /--since: invalid value "yesterday": expected a duration like 1h, 30m or 90s, or an RFC 3339 time/,
    );
    const badPod = await runCli(LOG_READER_BIN, ['cat', 'a/b', '--bucket', w.bucket], s3Env());
    expect(badPod.exitCode).toBe(2);

    await w.client.send(
      new PutObjectCommand({ Bucket: w.bucket, Key: 'metadata/job-1.json', Body: '{"log_files": 7' }),
    );
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

  it.concurrent.each([['..'], ['a/b'], ['../metadata/job-1'], ['jöb-1'], ['Job-1'], ['job\u0001'], ['job 1'], ['']])(
    'log-reader cat exits 2 for the pod name %j',
    async (pod) => {
      const result = await runCli(LOG_READER_BIN, ['cat', pod, '--bucket', 'b'], s3Env());
      oneLineExit2(result, /^log-reader: invalid pod name /);
      expect(result.stderr).toContain(JSON.stringify(pod));
    },
  );

  it('log-reader cat reads around a corrupt gzip with one warning naming it (exit 0), and exits 1 for it with --strict', async () => {
    const w = await newWorld('cli-cat-corrupt');
    await w.container('job-1', '0f3a').upload(messages('a', 2, T0));
    const key = 'kube.var.log.containers.job-1_jobs_job-1-0f3a.log/202611251001_2.gz';
    await w.client.send(
      new PutObjectCommand({
        Bucket: w.bucket,
        Key: key,
        Body: Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0xde, 0xad, 0xbe, 0xef]),
      }),
    );

    const result = await runCli(LOG_READER_BIN, ['cat', 'job-1', '--bucket', w.bucket], s3Env());

    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe('a-0\na-1\n');
    expect(result.stderr.trim()).toMatch(
      new RegExp(
        `^log-reader: warning: pod job-1: object ${key.replace(/\./g, '\\.')} is unreadable \\(gzip: [^\\n]+$`,
      ),
    );

    const strict = await runCli(LOG_READER_BIN, ['cat', 'job-1', '--bucket', w.bucket, '--strict'], s3Env());

    expect(strict.exitCode).toBe(1);
    expect(strict.stdout).toBe('a-0\na-1\n');
    expect(strict.stderr.trim()).toMatch(
      new RegExp(`^log-reader: pod job-1: object ${key.replace(/\./g, '\\.')} is unreadable: gzip: [^\\n]+$`),
    );
  });
});

describe('set-up errors at both CLIs: one line naming what is wrong and where, exit 2', () => {
  const SDK_INTERNALS = /\$response|XML parse|Deserialization|@aws-sdk|\n\s+at /;
  const oneLine = (result: CliResult, exitCode: number, message: string | RegExp): void => {
    expect(result.exitCode).toBe(exitCode);
    if (typeof message === 'string') expect(result.stderr).toBe(`${message}\n`);
    else expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).not.toMatch(SDK_INTERNALS);
    expect(result.stdout).toBe('');
  };
  // Each CLI's read of the bucket: a pass, an inspection, a read.
  const commands = (bucket: string, endpoint: string): [string, string[]][] => [
    [COMPACTOR_BIN, ['run', '--bucket', bucket, '--endpoint', endpoint]],
    [COMPACTOR_BIN, ['inspect', 'job-1', '--bucket', bucket, '--endpoint', endpoint]],
    [LOG_READER_BIN, ['logs', 'job-1', '--bucket', bucket, '--endpoint', endpoint]],
  ];
  const prefix = (bin: string): string => (bin === COMPACTOR_BIN ? 'compactor' : 'log-reader');

  let web: Server;
  let port: number;
  beforeAll(async () => {
    // A web server that answers everything as many do: an HTML page with 404.
    web = createServer((_req, res) => {
      res.writeHead(404, { 'content-type': 'text/html; charset=utf-8' });
      res.end(
        '<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1><br></body></html>\n',
      );
    });
    await new Promise<void>((ok) => web.listen(0, '127.0.0.1', ok));
    port = (web.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((ok) => web.close(ok));
  });

  it('an endpoint that answers but is not S3 (a web server, HTML 404): names the endpoint, never its user info', async () => {
    for (const [bin, args] of commands('logs', `http://admin:hunter2@127.0.0.1:${port}`)) {
      const result = await runCli(bin, args, { AWS_ACCESS_KEY_ID: 'AKIA_TEST_ACCESS', AWS_SECRET_ACCESS_KEY: 'x' });
      oneLine(
        result,
        2,
        `${prefix(bin)}: http://127.0.0.1:${port} does not answer as S3 does (a request for bucket logs got HTTP 404 (text/html), without an S3 error code or request id): check the endpoint URL`,
      );
      expect(result.stderr).not.toContain('hunter2');
    }
  });

  it('an https:// endpoint on a plain HTTP port: says the server speaks no TLS', async () => {
    for (const [bin, args] of commands('logs', `https://127.0.0.1:${port}`)) {
      const result = await runCli(bin, args, { AWS_ACCESS_KEY_ID: 'AKIA_TEST_ACCESS', AWS_SECRET_ACCESS_KEY: 'x' });
      oneLine(
        result,
        2,
        `${prefix(bin)}: cannot speak TLS to https://127.0.0.1:${port}: the server answered without TLS (wrong version number); use http:// if it serves plain HTTP`,
      );
    }
  });

  it('--bucket s3://logs: asks for the name alone, before any request', async () => {
    for (const [bin, args] of commands('s3://logs', `http://127.0.0.1:${await closedPort()}`)) {
      const env = bin === COMPACTOR_BIN ? 'COMPACTOR_BUCKET' : 'LOG_READER_BUCKET';
      oneLine(
        await runCli(bin, args),
        2,
        `${prefix(bin)}: --bucket (${env}): "s3://logs" is a URL: give the bucket's name alone, e.g. logs`,
      );
    }
  });

  it.each([
    [
      "compactor: unknown option '--bogus'; see compactor run --help",
      COMPACTOR_BIN,
      ['run', '--bucket', 'b', '--bogus'],
    ],
    ["compactor: missing required argument 'pod'; see compactor inspect --help", COMPACTOR_BIN, ['inspect']],
    ["compactor: unknown command 'bogus'; see compactor --help", COMPACTOR_BIN, ['bogus']],
    [
      "compactor: option '--bucket <name>' argument missing; see compactor run --help",
      COMPACTOR_BIN,
      ['run', '--bucket'],
    ],
    [
      "log-reader: unknown option '--bogus'; see log-reader logs --help",
      LOG_READER_BIN,
      ['logs', 'job-1', '--bucket', 'b', '--bogus'],
    ],
    [
      "log-reader: missing required argument 'pod'; see log-reader logs --help",
      LOG_READER_BIN,
      ['logs', '--bucket', 'b'],
    ],
    ["log-reader: unknown command 'bogus' (Did you mean logs?); see log-reader --help", LOG_READER_BIN, ['bogus']],
  ] as const)('Commander’s own errors read like the rest: %s', async (message, bin, args) => {
    oneLine(await runCli(bin, args, { LOG_READER_BUCKET: undefined, COMPACTOR_BUCKET: undefined }), 2, message);
  });

  it('--pod Bad_Name and logs Bad_Name: say what a pod name is', async () => {
    const format =
      "a lowercase RFC 1123 name: at most 253 characters of a-z, 0-9, '-' and '.', starting and ending with a letter or digit";
    oneLine(
      await runCli(COMPACTOR_BIN, ['run', '--bucket', 'b', '--pod', 'Bad_Name']),
      2,
      `compactor: --pod: invalid pod name "Bad_Name": expected ${format}`,
    );
    oneLine(
      await runCli(COMPACTOR_BIN, ['inspect', 'Bad_Name', '--bucket', 'b']),
      2,
      `compactor: invalid pod name "Bad_Name": expected ${format}`,
    );
    oneLine(
      await runCli(LOG_READER_BIN, ['logs', 'Bad_Name', '--bucket', 'b']),
      2,
      `log-reader: invalid pod name "Bad_Name": expected ${format}`,
    );
  });
});
