// main() called in-process with its own io, as bin.ts calls it: flags, exit codes, what lands
// on stdout and stderr. S3 is a small HTTP double on loopback that answers what each test
// needs (silence, 403 without a body, 500): the real client, its retries and timeouts, run.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { DEFAULT_READ_AHEAD } from '@platform/log-reader/s3';
import { defaultConfig } from '../config/config.js';
import type { Io } from './io.js';
import { main } from './main.js';
import { s3Settings } from './run.js';

interface Captured {
  readonly io: Io;
  readonly stdout: () => string;
  readonly stderr: () => string;
}

function capture(): Captured {
  const out: string[] = [];
  const err: string[] = [];
  const sink = (into: string[]): Writable =>
    new Writable({
      write(chunk: Buffer | string, _encoding, done) {
        into.push(String(chunk));
        done();
      },
    });
  return { io: { stdout: sink(out), stderr: sink(err) }, stdout: () => out.join(''), stderr: () => err.join('') };
}

/** A stdout whose reader went away, as under `| head -1`: every write fails with EPIPE. */
function closedPipe(): Writable {
  return new Writable({
    write(_chunk, _encoding, done) {
      done(Object.assign(new Error('write EPIPE'), { code: 'EPIPE', errno: -32, syscall: 'write' }));
    },
  });
}

function expectOneLineExit2(code: number, c: Captured, message: RegExp): void {
  expect(code).toBe(2);
  expect(c.stderr()).toMatch(message);
  expect(c.stderr().trim().split('\n')).toHaveLength(1);
  expect(c.stderr()).not.toMatch(/\n\s+at /);
  expect(c.stdout()).toBe('');
}

interface S3Double {
  readonly endpoint: string;
  readonly requests: string[];
  close(): Promise<void>;
}

/** An S3 endpoint on loopback; `answer` returns false to leave a request unanswered. */
async function s3Double(answer: (req: IncomingMessage, res: ServerResponse) => boolean): Promise<S3Double> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    req.resume();
    answer(req, res);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise((ok) => server.close(ok));
    },
  };
}

/** A ListObjectsV2 answer with one raw directory of a job's container. */
function oneRawDir(_req: IncomingMessage, res: ServerResponse): boolean {
  const body =
    '<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
    '<Name>b</Name><Prefix>kube.var.log.containers.</Prefix><Delimiter>/</Delimiter><KeyCount>1</KeyCount>' +
    '<MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>' +
    '<CommonPrefixes><Prefix>kube.var.log.containers.job-1_jobs_job-1-0f3a.log/</Prefix></CommonPrefixes>' +
    '</ListBucketResult>';
  res.writeHead(200, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) }).end(body);
  return true;
}

const empty =
  (status: number) =>
  (_req: IncomingMessage, res: ServerResponse): boolean => {
    res.writeHead(status, { 'content-length': '0' }).end();
    return true;
  };

// The client signs requests: it needs some credentials, whatever the double makes of them.
const savedEnv = { ...process.env };
beforeEach(() => {
  process.env['AWS_ACCESS_KEY_ID'] = 'test-key-id';
  process.env['AWS_SECRET_ACCESS_KEY'] = 'test-secret';
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';
  for (const name of Object.keys(process.env))
    if (name.startsWith('COMPACTOR_') || name.startsWith('AWS_ENDPOINT_URL')) delete process.env[name];
});
afterAll(() => {
  process.env = savedEnv;
});

describe('compactor --version and --help', () => {
  it('prints the version it is given and exits 0', async () => {
    const c = capture();
    expect(await main(['--version'], c.io, { version: '1.2.3' })).toBe(0);
    expect(c.stdout()).toBe('1.2.3\n');
    expect(c.stderr()).toBe('');
  });

  it.each([[['run', '--help']], [['--help']], [['--version']]])(
    'ends %j quietly with exit 0 when stdout is a closed pipe',
    async (argv) => {
      const stderr = capture();
      const io = { stdout: closedPipe(), stderr: stderr.io.stderr };
      expect(await main(argv, io, { version: '1.2.3' })).toBe(0);
      expect(stderr.stderr()).toBe('');
    },
  );

  it('lists every flag with its environment variable in `run --help`', async () => {
    const c = capture();
    expect(await main(['run', '--help'], c.io)).toBe(0);
    for (const [flag, env] of [
      ['--compact-interval', 'COMPACTOR_COMPACT_INTERVAL'],
      ['--cleanup-interval', 'COMPACTOR_CLEANUP_INTERVAL'],
      ['--s3-max-attempts', 'COMPACTOR_S3_MAX_ATTEMPTS'],
      ['--s3-request-timeout', 'COMPACTOR_S3_REQUEST_TIMEOUT'],
      ['--s3-connect-timeout', 'COMPACTOR_S3_CONNECT_TIMEOUT'],
    ]) {
      expect(c.stdout()).toContain(flag);
      expect(c.stdout().replace(/\s+/g, ' ')).toContain(`env: ${env}`);
    }
    expect(c.stdout()).toMatch(/default: 55m/);
  });
});

describe('compactor run: bad usage exits 2 with one line and no stack trace', () => {
  it.each([
    ['a missing bucket', [], /^compactor: --bucket is required/],
    ['an unknown flag', ['--bucket', 'b', '--frobnicate'], /unknown option '--frobnicate'/],
    [
      'a bad duration',
      ['--bucket', 'b', '--cleanup-interval', 'soon'],
      /^compactor: --cleanup-interval: invalid duration "soon"/,
    ],
    [
      'a negative duration',
      ['--bucket', 'b', '--compact-interval', '-5m'],
      /--compact-interval: invalid duration "-5m"/,
    ],
    ['a bad size', ['--bucket', 'b', '--max-file-size', '10 parsecs'], /--max-file-size: invalid size "10 parsecs"/],
    [
      'a max file size under 1KiB',
      ['--bucket', 'b', '--max-file-size', '0'],
      /--max-file-size must be at least 1KiB, got 0 bytes/,
    ],
    ['a zero lease', ['--bucket', 'b', '--lease-duration', '0'], /--lease-duration must be at least 1s/],
    ['a concurrency of 0', ['--bucket', 'b', '--concurrency', '0'], /--concurrency must be between 1 and 64/],
    ['a fractional concurrency', ['--bucket', 'b', '--concurrency', '1.5'], /--concurrency: invalid number "1.5"/],
    ['a bad pod name', ['--bucket', 'b', '--pod', '../etc'], /--pod: invalid pod name "\.\.\/etc"/],
    ['a bad pod among good ones', ['--bucket', 'b', '--pod', 'job-1,job-2,../x'], /--pod: invalid pod name "\.\.\/x"/],
    ['a bad namespace', ['--bucket', 'b', '--namespace', 'a/b'], /--namespace: invalid namespace "a\/b"/],
    ['a bad endpoint', ['--bucket', 'b', '--endpoint', 'notaurl'], /--endpoint: invalid URL "notaurl"/],
    ['an unknown log level', ['--bucket', 'b', '--log-level', 'loud'], /argument 'loud' is invalid/],
    ['0 S3 attempts', ['--bucket', 'b', '--s3-max-attempts', '0'], /--s3-max-attempts must be between 1 and 20, got 0/],
    [
      'a bad S3 request timeout',
      ['--bucket', 'b', '--s3-request-timeout', 'long'],
      /--s3-request-timeout: invalid duration "long"/,
    ],
    [
      'a zero S3 connect timeout',
      ['--bucket', 'b', '--s3-connect-timeout', '0'],
      /--s3-connect-timeout must be greater than 0/,
    ],
  ])('%s', async (_name, args, message) => {
    const c = capture();
    expectOneLineExit2(await main(['run', ...args], c.io), c, message);
  });

  it.each([
    ['COMPACTOR_PODS', 'job-1,a..b', /--pod: invalid pod name "a\.\.b"/],
    ['COMPACTOR_ENDPOINT', 'not a url', /--endpoint: invalid URL "not a url"/],
    ['COMPACTOR_CLEANUP_INTERVAL', 'soon', /--cleanup-interval: invalid duration "soon"/],
    ['COMPACTOR_S3_MAX_ATTEMPTS', 'many', /--s3-max-attempts: invalid number "many"/],
    ['COMPACTOR_S3_REQUEST_TIMEOUT', '0', /--s3-request-timeout must be greater than 0/],
    ['COMPACTOR_S3_CONNECT_TIMEOUT', '-1s', /--s3-connect-timeout: invalid duration "-1s"/],
  ])('a bad %s from the environment', async (name, value, message) => {
    process.env[name] = value;
    const c = capture();
    expectOneLineExit2(await main(['run', '--bucket', 'b'], c.io), c, message);
  });
});

describe('compactor run: S3 limits reach the client', () => {
  it.each([
    ['flags', ['--s3-max-attempts', '2', '--s3-request-timeout', '200ms'], {}, 2],
    ['environment variables', [], { COMPACTOR_S3_MAX_ATTEMPTS: '3', COMPACTOR_S3_REQUEST_TIMEOUT: '200ms' }, 3],
  ])(
    'gives up on a store that never answers after the attempts and timeout set by %s',
    async (_name, args, env, attempts) => {
      const s3 = await s3Double(() => false);
      try {
        Object.assign(process.env, env);
        const c = capture();
        const code = await main(
          ['run', '--bucket', 'b', '--endpoint', s3.endpoint, '--log-level', 'error', ...args],
          c.io,
        );
        expectOneLineExit2(
          code,
          c,
          new RegExp(`^compactor: cannot reach S3 at ${s3.endpoint}: (timed out|ETIMEDOUT)\\n$`),
        );
        expect(s3.requests).toEqual(Array.from({ length: attempts }, () => 'HEAD /b/'));
      } finally {
        await s3.close();
      }
    },
  );
});

describe('compactor run: the S3 connection pool', () => {
  it.each([[1], [4], [64]])(
    'at --concurrency %d has a socket for every body the pods read ahead, beyond the SDK default of 50 when needed',
    (concurrency) => {
      const { maxSockets } = s3Settings({ ...defaultConfig('b'), concurrency });
      expect(maxSockets).toBeGreaterThanOrEqual(concurrency * (DEFAULT_READ_AHEAD + 1));
    },
  );
});

describe('compactor run: set-up problems exit 2, wherever in the pass they show', () => {
  it.each([[401], [403]])(
    'a %d without a body on the first write (after HeadBucket passed) is "access denied", exit 2',
    async (status) => {
      // The bucket answers and lists a pod (a bucket with no logs gets no write at all): then the first write fails.
      const s3 = await s3Double((req, res) =>
        (req.method === 'HEAD' ? empty(200) : req.method === 'GET' ? oneRawDir : empty(status))(req, res),
      );
      try {
        const c = capture();
        const code = await main(
          ['run', '--bucket', 'b', '--endpoint', s3.endpoint, '--log-level', 'error', '--s3-max-attempts', '1'],
          c.io,
        );
        expectOneLineExit2(code, c, /^compactor: .*(access denied|credentials)/i);
        expect(s3.requests.some((r) => r.startsWith('PUT /b/'))).toBe(true);
      } finally {
        await s3.close();
      }
    },
  );
});

describe('compactor run: a pass that fails names the operation', () => {
  it('exits 1 with "pass failed:", the operation, the prefix and the HTTP status of a listing that failed', async () => {
    // A dry run makes no conditional-write check: after HeadBucket the first request is the listing of pods.
    const s3 = await s3Double((req, res) => (req.method === 'HEAD' ? empty(200) : empty(500))(req, res));
    try {
      const c = capture();
      const code = await main(
        [
          'run',
          '--bucket',
          'b',
          '--endpoint',
          s3.endpoint,
          '--log-level',
          'error',
          '--s3-max-attempts',
          '1',
          '--dry-run',
        ],
        c.io,
      );
      expect(code).toBe(1);
      expect(c.stderr()).toMatch(/^compactor: pass failed: .*\bLIST\b.*kube\.var\.log\.containers\..*\b500\b/);
      expect(c.stderr().trim().split('\n')).toHaveLength(1);
    } finally {
      await s3.close();
    }
  });
});

describe('compactor run: logs', () => {
  it("writes its JSON log lines to io.stderr, a short cleanup interval's warning first", async () => {
    const s3 = await s3Double(() => false);
    try {
      const c = capture();
      const code = await main(
        [
          'run',
          '--bucket',
          'b',
          '--endpoint',
          s3.endpoint,
          '--cleanup-interval',
          '0',
          '--s3-max-attempts',
          '1',
          '--s3-request-timeout',
          '100ms',
        ],
        c.io,
      );
      expect(code).toBe(2);
      const [first, last] = c.stderr().trim().split('\n');
      expect(JSON.parse(first!)).toMatchObject({
        level: 'warn',
        message: expect.stringMatching(/--cleanup-interval 0 ms is under a minute/),
      });
      expect(last).toMatch(/^compactor: cannot reach S3/);
    } finally {
      await s3.close();
    }
  });
});
