// The built `log-reader` bin as a user runs it: --version, a closed stdout (`| head -1`),
// the S3 client flags with their environment twins, and `logs` with the flags of
// `kubectl logs` (--since, --since-time, --tail, --limit-bytes, -f and its kubeconfig),
// Ctrl-C and SIGTERM.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { closedPort, LOG_READER_BIN, runCli, s3Env, type CliResult } from './support/cli.js';
import { FAKE_TOKEN, kubeconfig, rfc3339Nano, startKubeApi } from './support/kube-api.js';
import { HOUR, MINUTE, messages, newWorld } from './support/world.js';

const T0 = new Date('2026-11-25T10:00:00Z');
const STACK_TRACE = /\n\s+at /;

/** `log-reader ARGS | head -c 1`: a real consumer that reads one byte and exits, closing the pipe. */
function intoHead(
  args: readonly string[],
  env: Record<string, string | undefined>,
): Promise<CliResult & { head: string }> {
  return new Promise((done, fail) => {
    const reader = spawn(process.execPath, [LOG_READER_BIN, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const head = spawn('head', ['-c', '1'], { stdio: [reader.stdout, 'pipe', 'inherit'] });
    // Only `head` holds the read end now: once it exits, the reader's writes meet a closed pipe.
    reader.stdout.destroy();
    let stderr = '';
    let out = '';
    reader.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    head.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    reader.on('error', fail);
    head.on('error', fail);
    reader.on('close', (exitCode) => done({ exitCode, stdout: '', stderr, head: out }));
  });
}

describe('log-reader, the bin', () => {
  it("prints the package's version with --version", async () => {
    const { version } = JSON.parse(
      await readFile(resolve(__dirname, '../packages/log-reader/package.json'), 'utf8'),
    ) as { version: string };
    expect(await runCli(LOG_READER_BIN, ['--version'])).toEqual({ exitCode: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('ends quietly when stdout is closed before the help is written (`log-reader cat --help | head -1`)', async () => {
    expect(await runCli(LOG_READER_BIN, ['cat', '--help'], {}, { closeStdout: true })).toEqual({
      exitCode: 0,
      stdout: '',
      stderr: '',
    });
  });

  it('keeps exit code 2 and its one-line message for bad usage when stdout is closed', async () => {
    const result = await runCli(
      LOG_READER_BIN,
      ['cat', 'job-1'],
      { LOG_READER_BUCKET: undefined },
      { closeStdout: true },
    );
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe(
      "log-reader: required option '--bucket <name>' not specified; see log-reader cat --help\n",
    );
  });

  it('ends a long read piped into a consumer that stops early with exit 0 and no stack trace', async () => {
    const w = await newWorld('cli-head');
    const fb = w.container('job-1', '0f3a');
    // Enough text that the read is still writing when `head` exits.
    for (let minute = 0; minute < 4; minute++) {
      await fb.upload(messages(`m${minute}-${'x'.repeat(2000)}`, 100, new Date(T0.getTime() + minute * 60_000)));
    }
    const closed = await runCli(LOG_READER_BIN, ['cat', 'job-1', '--bucket', w.bucket], s3Env(), { closeStdout: true });
    expect(closed).toEqual({ exitCode: 0, stdout: '', stderr: '' });
    const piped = await intoHead(['cat', 'job-1', '--bucket', w.bucket], s3Env());
    expect(piped).toMatchObject({ exitCode: 0, stderr: '', head: 'm' });
    expect(piped.stderr).not.toMatch(STACK_TRACE);
  });
});

describe('log-reader S3 client flags', () => {
  it('reads with --s3-max-attempts, --s3-request-timeout and --s3-connect-timeout, and with their environment twins', async () => {
    const w = await newWorld('cli-s3-flags');
    await w.container('job-1', '0f3a').upload(messages('a', 2, T0));
    const flags = await runCli(
      LOG_READER_BIN,
      [
        'cat',
        'job-1',
        '--bucket',
        w.bucket,
        '--s3-max-attempts',
        '2',
        '--s3-request-timeout',
        '30s',
        '--s3-connect-timeout',
        '500ms',
      ],
      s3Env(),
    );
    expect(flags).toEqual({ exitCode: 0, stdout: 'a-0\na-1\n', stderr: '' });
    const env = await runCli(LOG_READER_BIN, ['cat', 'job-1', '--bucket', w.bucket], {
      ...s3Env(),
      LOG_READER_S3_MAX_ATTEMPTS: '3',
      LOG_READER_S3_REQUEST_TIMEOUT: '20',
      LOG_READER_S3_CONNECT_TIMEOUT: '2s',
    });
    expect(env).toEqual({ exitCode: 0, stdout: 'a-0\na-1\n', stderr: '' });
  });

  it.each([
    [['--s3-max-attempts', '0'], {}, '--s3-max-attempts (LOG_READER_S3_MAX_ATTEMPTS): invalid number of attempts "0"'],
    [
      ['--s3-request-timeout', 'soon'],
      {},
      '--s3-request-timeout (LOG_READER_S3_REQUEST_TIMEOUT): invalid duration "soon"',
    ],
    [
      [],
      { LOG_READER_S3_CONNECT_TIMEOUT: '-1s' },
      '--s3-connect-timeout (LOG_READER_S3_CONNECT_TIMEOUT): invalid duration "-1s"',
    ],
  ])('refuses %j %j with one line on stderr and exit 2', async (args, env, message) => {
    const result = await runCli(LOG_READER_BIN, ['cat', 'job-1', '--bucket', 'b', ...args], env);
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(new RegExp(`^log-reader: ${message.replace(/[()]/g, '\\$&')}[^\\n]*\\n$`));
  });
});

const IMPORT_PROBE = resolve(__dirname, 'support/import-probe.mjs');
const PROBE_LINE = 'import-probe: @kubernetes/client-node loaded\n';

/** A log of `lines` lines, each `width` characters. */
function longLines(prefix: string, lines: number, width: number, start: Date): ReturnType<typeof messages> {
  return messages(prefix, lines, start).map((m) => ({ ...m, log: `${m.log}-${'x'.repeat(width)}` }));
}

/** Runs the bin, and sends it `signal` as soon as its first output arrives, while it still has much to write. */
function interrupted(
  args: readonly string[],
  env: Record<string, string | undefined>,
  signal: NodeJS.Signals,
): Promise<CliResult & { signal: NodeJS.Signals | null }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [LOG_READER_BIN, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.stdout.setEncoding('utf8');
    const onFirst = (s: string): void => {
      stdout += s;
      // Output means the read has started, and with it the signal handlers. Not reading on,
      // the pipe fills and the read waits: it cannot finish before the signal arrives.
      child.stdout.pause();
      child.kill(signal);
      child.stdout.on('data', (more: string) => (stdout += more));
      child.stdout.resume();
    };
    child.stdout.once('data', onFirst);
    child.on('error', fail);
    child.on('close', (exitCode, killedBy) => done({ exitCode, signal: killedBy, stdout, stderr }));
  });
}

/** Runs the bin until its stdout holds `until`, then sends it `signal`; resolves when it has exited. */
function signalledWhen(
  args: readonly string[],
  env: Record<string, string | undefined>,
  until: string,
  signal: NodeJS.Signals,
): Promise<CliResult & { signal: NodeJS.Signals | null }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [LOG_READER_BIN, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let sent = false;
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
      if (!sent && stdout.includes(until)) {
        sent = true;
        child.kill(signal);
      }
    });
    child.on('error', fail);
    child.on('close', (exitCode, killedBy) => done({ exitCode, signal: killedBy, stdout, stderr }));
  });
}

describe('log-reader logs', () => {
  it('gives the same output as its alias `cat`', async () => {
    const w = await newWorld('cli-logs-alias');
    await w.container('job-1', '0f3a').upload(messages('a', 3, T0));
    await w.pass();
    await w.container('job-1', '0f3a', { firstIndex: 2 }).upload(messages('b', 2, new Date(T0.getTime() + MINUTE)));
    const logs = await runCli(LOG_READER_BIN, ['logs', 'job-1', '--bucket', w.bucket, '--timestamps'], s3Env());
    expect(logs).toEqual({
      exitCode: 0,
      stdout: expect.stringMatching(/^2026-11-25T10:00:00\.123456789Z a-0\n/),
      stderr: '',
    });
    expect(logs.stdout.split('\n')).toHaveLength(6);
    expect(await runCli(LOG_READER_BIN, ['cat', 'job-1', '--bucket', w.bucket, '--timestamps'], s3Env())).toEqual(logs);
  });

  it('--since 1h writes only the records of the last hour; --since-time keeps nanoseconds', async () => {
    const w = await newWorld('cli-logs-since');
    const now = Date.now();
    await w.container('job-1', '0f3a').upload(messages('old', 3, new Date(now - 2 * HOUR)));
    await w.pass();
    await w.container('job-1', '0f3a', { firstIndex: 2 }).upload(messages('new', 2, new Date(now - 10 * MINUTE)));

    expect(await runCli(LOG_READER_BIN, ['logs', 'job-1', '--bucket', w.bucket], s3Env())).toEqual({
      exitCode: 0,
      stdout: 'old-0\nold-1\nold-2\nnew-0\nnew-1\n',
      stderr: '',
    });
    expect(await runCli(LOG_READER_BIN, ['logs', 'job-1', '--bucket', w.bucket, '--since', '1h'], s3Env())).toEqual({
      exitCode: 0,
      stdout: 'new-0\nnew-1\n',
      stderr: '',
    });
    expect(await runCli(LOG_READER_BIN, ['logs', 'job-1', '--bucket', w.bucket, '--since', '3h'], s3Env())).toEqual({
      exitCode: 0,
      stdout: 'old-0\nold-1\nold-2\nnew-0\nnew-1\n',
      stderr: '',
    });

    // One nanosecond after old-1: old-1 is out, old-2 in.
    const [old1] = messages('old', 2, new Date(now - 2 * HOUR)).slice(1);
    const after = old1!.time.replace('.123456789Z', '.123456790Z');
    for (const flag of ['--since-time', '--since']) {
      const result = await runCli(LOG_READER_BIN, ['logs', 'job-1', '--bucket', w.bucket, flag, after], s3Env());
      expect(result).toEqual({ exitCode: 0, stdout: 'old-2\nnew-0\nnew-1\n', stderr: '' });
    }

    const both = await runCli(
      LOG_READER_BIN,
      ['logs', 'job-1', '--bucket', w.bucket, '--since', '1h', '--since-time', after],
      s3Env(),
    );
    expect(both).toEqual({
      exitCode: 2,
      stdout: '',
      stderr: 'log-reader: at most one of --since and --since-time may be given\n',
    });
  });

  it('--limit-bytes 10 writes exactly 10 bytes and ends the read with exit 0', async () => {
    const w = await newWorld('cli-logs-limit');
    const fb = w.container('job-1', '0f3a');
    // More than one read-ahead of text: the read is stopped, not drained.
    for (let minute = 0; minute < 3; minute++)
      await fb.upload(longLines(`m${minute}`, 100, 2000, new Date(T0.getTime() + minute * MINUTE)));

    const limited = await runCli(
      LOG_READER_BIN,
      ['logs', 'job-1', '--bucket', w.bucket, '--limit-bytes', '10'],
      s3Env(),
    );
    expect(limited).toEqual({ exitCode: 0, stdout: 'm0-0-xxxxx', stderr: '' });
    const withTimestamps = await runCli(
      LOG_READER_BIN,
      ['logs', 'job-1', '--bucket', w.bucket, '--timestamps', '--limit-bytes', '10'],
      s3Env(),
    );
    expect(withTimestamps).toEqual({ exitCode: 0, stdout: '2026-11-25', stderr: '' });
  });

  it('--limit-bytes larger than the log writes the whole log', async () => {
    const w = await newWorld('cli-logs-limit-big');
    await w.container('job-1', '0f3a').upload(messages('a', 3, T0));
    expect(
      await runCli(LOG_READER_BIN, ['logs', 'job-1', '--bucket', w.bucket, '--limit-bytes', '1000'], s3Env()),
    ).toEqual({ exitCode: 0, stdout: 'a-0\na-1\na-2\n', stderr: '' });
  });

  // The reader's tail (the library's part) decides which records; this is the flag's plumbing.
  it('--tail 3 writes the last 3 records; --tail 0 none; --tail -1 all', async () => {
    const w = await newWorld('cli-logs-tail');
    await w.container('job-1', '0f3a').upload(messages('a', 4, T0));
    await w.pass();
    await w.container('job-1', '0f3a', { firstIndex: 2 }).upload(messages('b', 2, new Date(T0.getTime() + MINUTE)));
    expect(await runCli(LOG_READER_BIN, ['logs', 'job-1', '--bucket', w.bucket, '--tail', '3'], s3Env())).toEqual({
      exitCode: 0,
      stdout: 'a-3\nb-0\nb-1\n',
      stderr: '',
    });
    expect(await runCli(LOG_READER_BIN, ['logs', 'job-1', '--bucket', w.bucket, '--tail', '0'], s3Env())).toEqual({
      exitCode: 0,
      stdout: '',
      stderr: '',
    });
    expect(await runCli(LOG_READER_BIN, ['logs', 'job-1', '--bucket', w.bucket, '--tail', '-1'], s3Env())).toEqual({
      exitCode: 0,
      stdout: 'a-0\na-1\na-2\na-3\nb-0\nb-1\n',
      stderr: '',
    });
  });

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('stops on %s with exit %p, after writing a prefix of the log, with no message', async (signal, code) => {
    const w = await newWorld(`cli-logs-${signal.toLowerCase()}`);
    const fb = w.container('job-1', '0f3a');
    // 4 MB, far more than the pipe, our paused stream and the reader's 1 MiB gunzip
    // read-ahead hold: once we read on, the bin cannot write the rest without waiting on I/O
    // (zlib's thread pool), and the waiting loop takes the signal, already pending, first.
    // (A stdout pipe is written synchronously on Linux: while the pipe is full, the bin's
    // loop stands still, signal handlers included.)
    const minutes = Array.from({ length: 8 }, (_, minute) =>
      longLines(`m${minute}`, 100, 5000, new Date(T0.getTime() + minute * MINUTE)),
    );
    for (const lines of minutes) await fb.upload(lines);
    const whole = minutes
      .flat()
      .map((m) => `${m.log}\n`)
      .join('');

    const result = await interrupted(['logs', 'job-1', '--bucket', w.bucket], s3Env(), signal);

    expect(result).toMatchObject({ exitCode: code, signal: null, stderr: '' });
    expect(result.stdout.length).toBeGreaterThan(0);
    expect(result.stdout.length).toBeLessThan(whole.length);
    expect(whole.startsWith(result.stdout)).toBe(true);
  });

  it('loads @kubernetes/client-node only for -f', async () => {
    const w = await newWorld('cli-logs-lazy');
    await w.container('job-1', '0f3a').upload(messages('a', 1, T0));
    const probe = { NODE_OPTIONS: `--import ${IMPORT_PROBE}` };
    const plain = await runCli(
      LOG_READER_BIN,
      ['logs', 'job-1', '--bucket', w.bucket, '--tail', '1', '--since', '1h'],
      { ...s3Env(), ...probe },
    );
    expect(plain).toEqual({ exitCode: 0, stdout: expect.any(String), stderr: '' });
    const follow = await runCli(
      LOG_READER_BIN,
      ['logs', 'job-1', '--bucket', w.bucket, '-f', '--kubeconfig', join(tmpdir(), 'no-such-kubeconfig')],
      { ...s3Env(), ...probe },
    );
    expect(follow.stderr).toContain(PROBE_LINE);
  });
});

describe('log-reader logs -f: the kubeconfig', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'reader-cli-kube-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const oneLine = (result: CliResult, exitCode: number): void => {
    expect(result.exitCode).toBe(exitCode);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).not.toMatch(STACK_TRACE);
    expect(result.stdout + result.stderr).not.toContain(FAKE_TOKEN);
  };

  it('exits 2 with one line naming the file, never its contents, when the kubeconfig cannot be loaded', async () => {
    const missing = join(dir, 'missing');
    const result = await runCli(
      LOG_READER_BIN,
      ['logs', 'job-1', '--bucket', 'b', '-f', '--kubeconfig', missing],
      s3Env(),
    );
    oneLine(result, 2);
    expect(result.stderr).toBe(`log-reader: -f: cannot load the kubeconfig from ${missing}: ENOENT\n`);

    const broken = join(dir, 'broken');
    await writeFile(
      broken,
      kubeconfig('http://127.0.0.1:9', FAKE_TOKEN).replace(`    token: ${FAKE_TOKEN}`, `\t  token: ${FAKE_TOKEN}: [`),
    );
    for (const [args, env] of [
      [['--kubeconfig', broken], {}],
      [[], { KUBECONFIG: broken }],
    ] as const) {
      const bad = await runCli(LOG_READER_BIN, ['logs', 'job-1', '--bucket', 'b', '-f', ...args], {
        ...s3Env(),
        ...env,
      });
      oneLine(bad, 2);
      expect(bad.stderr).toMatch(
        new RegExp(
          `^log-reader: -f: cannot load the kubeconfig from (KUBECONFIG \\()?${broken.replace(/[.]/g, '\\.')}\\)?: not valid YAML\n$`,
        ),
      );
    }
  });

  it('exits 2 naming an unknown --context', async () => {
    const file = join(dir, 'kubeconfig');
    await writeFile(file, kubeconfig('http://127.0.0.1:9', FAKE_TOKEN));
    const result = await runCli(
      LOG_READER_BIN,
      ['logs', 'job-1', '--bucket', 'b', '-f', '--kubeconfig', file, '--context', 'prod'],
      s3Env(),
    );
    oneLine(result, 2);
    expect(result.stderr).toBe(`log-reader: -f: --context: no context "prod" in the kubeconfig from ${file}\n`);
  });

  // The live part is the library's: with an API that cannot be reached, the read prints the
  // archive, then fails with the library's LogReaderError, mapped to exit 1 and one line.
  it('prints the archive, then fails with one line naming the server and what to check, exit 1, never the token, when the API cannot be reached', async () => {
    const w = await newWorld('cli-logs-follow-closed');
    await w.container('job-1', '0f3a').upload(messages('a', 2, T0));
    const file = join(dir, 'closed');
    const server = `http://127.0.0.1:${await closedPort()}`;
    await writeFile(file, kubeconfig(server, FAKE_TOKEN));
    for (const [args, env] of [
      [['--kubeconfig', file], {}],
      [['--context', 'double', '-n', 'jobs'], { KUBECONFIG: file }],
    ] as const) {
      const result = await runCli(LOG_READER_BIN, ['logs', 'job-1', '--bucket', w.bucket, '-f', ...args], {
        ...s3Env(),
        ...env,
      });
      oneLine(result, 1);
      expect(result.stdout).toBe('a-0\na-1\n');
      expect(result.stderr).toBe(
        `log-reader: pod jobs/job-1: Kubernetes API: server ${server} (context double) unreachable (ECONNREFUSED); ` +
          "check the kubeconfig's cluster and context (--kubeconfig, --context, KUBECONFIG)\n",
      );
    }
  });
});

describe('log-reader logs -f against a Kubernetes API', () => {
  const CONTAINER = '0f3a'.padEnd(64, '0');

  it('ends a follow of a running pod on Ctrl-C with exit 130 and no message, after the archive and the live lines', async () => {
    const w = await newWorld('cli-logs-follow-sigint');
    await w.container('job-1', CONTAINER).upload(messages('a', 2, T0));
    const api = await startKubeApi();
    try {
      const pod = api.pod('jobs', 'job-1');
      const started = new Date(Date.now() - MINUTE);
      pod.start(CONTAINER, started);
      pod.append([{ time: rfc3339Nano(started.getTime() + 1000), message: 'live-0' }]);
      // The pod runs on: only the signal ends this read.
      const result = await signalledWhen(
        ['logs', '-f', 'job-1', '--bucket', w.bucket, '--kubeconfig', api.kubeconfigPath],
        s3Env(),
        'live-0\n',
        'SIGINT',
      );
      expect(result).toMatchObject({ exitCode: 130, signal: null, stderr: '' });
      expect(result.stdout).toMatch(/^a-0\na-1\n=== Live logs === [0-9a-f]+\nlive-0\n$/);
      // The namespace came from the kubeconfig's context (`jobs`), the container is the pod's.
      expect(api.logRequests.map((r) => `${r.namespace}/${r.pod}/${r.container ?? ''}`)).toEqual(
        expect.arrayContaining(['jobs/job-1/job-1']),
      );
    } finally {
      await api.close();
    }
  });

  it('asks the namespace given by -n, and reads the archive only for a pod the cluster does not have there', async () => {
    const w = await newWorld('cli-logs-follow-ns');
    await w.container('job-1', CONTAINER).upload(messages('a', 2, T0));
    const api = await startKubeApi();
    try {
      api.pod('jobs', 'job-1').start(CONTAINER, new Date());
      const result = await runCli(
        LOG_READER_BIN,
        ['logs', '-f', 'job-1', '-n', 'team-b', '--bucket', w.bucket, '--kubeconfig', api.kubeconfigPath],
        s3Env(),
      );
      expect(result).toEqual({ exitCode: 0, stdout: 'a-0\na-1\n', stderr: '' });
      expect(api.requests.map((r) => r.path)).toContain('/api/v1/namespaces/team-b/pods/job-1');
      expect(api.requests.filter((r) => r.path.startsWith('/api/v1/namespaces/jobs/'))).toEqual([]);
    } finally {
      await api.close();
    }
  });
});
