import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { DEFAULT_READ_AHEAD } from './raw-records.js';
import {
  BoundedRetryStrategy,
  S3_CLIENT_DEFAULTS,
  createS3Client,
  describeFailedRequest,
  socketsFor,
  type RetryLimits,
} from './s3-client.js';
import { describeSetupProblem } from './setup-problem.js';

const LIMITS: RetryLimits = {
  maxAttempts: 4,
  retryBaseDelayMs: 100,
  throttlingBaseDelayMs: 1_000,
  maxRetryDelayMs: 3_000,
};

/** Runs the strategy the way the SDK's retry middleware does, and returns the waits it asked for. */
async function waits(
  strategy: BoundedRetryStrategy,
  errorType: 'TRANSIENT' | 'THROTTLING' | 'SERVER_ERROR' | 'CLIENT_ERROR',
): Promise<number[]> {
  const delays: number[] = [];
  let token = await strategy.acquireInitialRetryToken();
  for (;;) {
    try {
      token = await strategy.refreshRetryTokenForRetry(token, { errorType });
    } catch {
      return delays;
    }
    delays.push(token.getRetryDelay());
  }
}

describe('BoundedRetryStrategy', () => {
  it('retries transient errors and throttling until maxAttempts attempts were made', async () => {
    const strategy = new BoundedRetryStrategy(LIMITS, () => 0.999);
    expect(await waits(strategy, 'TRANSIENT')).toEqual([99, 199, 399]);
    expect(await waits(strategy, 'THROTTLING')).toEqual([999, 1_998, 2_997]); // the third is capped at 3 s
  });

  it('does not retry client errors (a failed precondition, a missing key) nor other server errors', async () => {
    const strategy = new BoundedRetryStrategy(LIMITS, () => 0.5);
    expect(await waits(strategy, 'CLIENT_ERROR')).toEqual([]);
    expect(await waits(strategy, 'SERVER_ERROR')).toEqual([]);
  });

  it('waits a random time below the exponential ceiling (full jitter)', async () => {
    const strategy = new BoundedRetryStrategy(LIMITS, () => 0);
    expect(await waits(strategy, 'TRANSIENT')).toEqual([0, 0, 0]);
  });

  it("honours the server's Retry-After, capped at the longest wait", () => {
    const strategy = new BoundedRetryStrategy(LIMITS, () => 0);
    const inOneSecond = new Date(Date.now() + 1_000);
    expect(strategy.delayBefore(1, { errorType: 'THROTTLING', retryAfterHint: inOneSecond })).toBeGreaterThan(900);
    const inAMinute = new Date(Date.now() + 60_000);
    expect(strategy.delayBefore(1, { errorType: 'THROTTLING', retryAfterHint: inAMinute })).toBe(3_000);
  });
});

describe('createS3Client', () => {
  it('makes the retry limits explicit', async () => {
    const client = createS3Client({ endpoint: 'http://127.0.0.1:9' }, {});
    expect(await client.config.maxAttempts()).toBe(S3_CLIENT_DEFAULTS.maxAttempts);
    expect(await client.config.retryStrategy()).toBeInstanceOf(BoundedRetryStrategy);
    client.destroy();
  });

  it('rejects nonsensical limits', () => {
    expect(() => createS3Client({ maxAttempts: 0 }, {})).toThrow(/maxAttempts/);
    expect(() => createS3Client({ requestTimeoutMs: -1 }, {})).toThrow(/requestTimeoutMs/);
  });
});

/**
 * A local HTTP server standing in for the store: answers every request with `answer`, and counts
 * connections open at once.
 */
async function localStore(answer: {
  status: number;
  body?: string;
}): Promise<{ endpoint: string; peakConnections: () => number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  let peak = 0;
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      // Answered on the next turn, so that requests sent together are in flight together.
      setImmediate(() => {
        response.writeHead(answer.status, {
          'content-type': 'application/xml',
          'content-length': Buffer.byteLength(answer.body ?? ''),
        });
        response.end(answer.body ?? '');
      });
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    peak = Math.max(peak, sockets.size);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    peakConnections: () => peak,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

const TEST_CREDENTIALS = { accessKeyId: 'AKIAUNITTEST', secretAccessKey: 'unit-test-secret-do-not-print' };

describe('createS3Client connection pool', () => {
  it('opens at most maxSockets connections however many requests are sent at once', async () => {
    const store = await localStore({ status: 200 });
    const client = createS3Client({ endpoint: store.endpoint, maxSockets: 3, credentials: TEST_CREDENTIALS }, {});
    try {
      await Promise.all(
        Array.from({ length: 12 }, (_, i) => client.send(new HeadObjectCommand({ Bucket: 'b', Key: `k${i}` }))),
      );
      expect(store.peakConnections()).toBeGreaterThan(0);
      expect(store.peakConnections()).toBeLessThanOrEqual(3);
    } finally {
      client.destroy();
      await store.close();
    }
  });

  it('rejects a pool without sockets', () => {
    expect(() => createS3Client({ maxSockets: 0 }, {})).toThrow(/maxSockets/);
  });
});

describe('socketsFor', () => {
  it.each([
    [1, undefined, 1 * (DEFAULT_READ_AHEAD + 2) + 4],
    [64, undefined, 64 * (DEFAULT_READ_AHEAD + 2) + 4],
    [10, 0, 24],
    [10, 2, 44],
  ])('%p reads with read-ahead %p need %p sockets', (reads, readAhead, sockets) => {
    expect(socketsFor(reads, readAhead)).toBe(sockets);
  });

  it('is more than the SDK default pool for the concurrency the compactor accepts', () => {
    expect(socketsFor(64)).toBeGreaterThan(S3_CLIENT_DEFAULTS.maxSockets);
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses %p concurrent reads', (reads) => {
    expect(() => socketsFor(reads)).toThrow(RangeError);
  });
});

describe('failed requests name the operation, the key and the status', () => {
  it.each([
    [
      'GetObjectCommand',
      { Bucket: 'b', Key: 'data/job-1/0f3a/202611251000_1.gz' },
      { name: 'InternalError', message: 'We encountered an internal error', status: 500 },
      'GET data/job-1/0f3a/202611251000_1.gz: HTTP 500: We encountered an internal error',
    ],
    [
      'HeadBucketCommand',
      { Bucket: 'logs' },
      { name: 'UnknownError', message: 'UnknownError', status: 403 },
      'HEAD bucket logs: HTTP 403: access denied or bad credentials',
    ],
    [
      'ListObjectsV2Command',
      { Bucket: 'logs', Prefix: 'kube.var.log.containers.job-1_' },
      { name: 'SlowDown', message: 'Please reduce your request rate.', status: 503 },
      'LIST prefix kube.var.log.containers.job-1_ in bucket logs: HTTP 503: Please reduce your request rate.',
    ],
    [
      'PutObjectCommand',
      { Bucket: 'b', Key: 'metadata/job-1.json' },
      {
        name: 'PreconditionFailed',
        message: 'At least one of the pre-conditions you specified did not hold',
        status: 412,
      },
      'PUT metadata/job-1.json: HTTP 412: At least one of the pre-conditions you specified did not hold',
    ],
    [
      'DeleteObjectsCommand',
      { Bucket: 'b', Delete: { Objects: [{ Key: 'a' }, { Key: 'b' }] } },
      { name: 'UnknownError', message: 'UnknownError', status: 502 },
      'DELETE 2 key(s) from a: HTTP 502: no error details in the answer',
    ],
    [
      'GetObjectCommand',
      { Bucket: 'b', Key: 'k' },
      { name: 'Error', message: 'connect ECONNREFUSED 127.0.0.1:9', status: undefined },
      'GET k: connect ECONNREFUSED 127.0.0.1:9',
    ],
    [
      'UploadPartCommand',
      { Bucket: 'b', Key: 'data/x.gz' },
      { name: 'NoSuchUpload', message: '', status: 404 },
      'PUT (upload part) data/x.gz: HTTP 404: NoSuchUpload',
    ],
  ] as const)('%s %j', (command, input, failure, message) => {
    const error = Object.assign(new Error(failure.message), {
      name: failure.name,
      $metadata: { httpStatusCode: failure.status },
    });
    expect(describeFailedRequest(command, input, error)).toBe(message);
  });

  it('rewrites the final error of a request sent through the client, keeping its name, code and status', async () => {
    const store = await localStore({
      status: 500,
      body: '<Error><Code>InternalError</Code><Message>We encountered an internal error</Message></Error>',
    });
    const client = createS3Client(
      { endpoint: store.endpoint, maxAttempts: 2, retryBaseDelayMs: 0, credentials: TEST_CREDENTIALS },
      {},
    );
    try {
      const error = await client
        .send(
          new GetObjectCommand({
            Bucket: 'b',
            Key: 'kube.var.log.containers.job-1_jobs_job-1-0f3a.log/202611251000_1.gz',
          }),
        )
        .catch((e: unknown) => e);
      expect(error).toMatchObject({
        name: 'InternalError',
        message:
          'GET kube.var.log.containers.job-1_jobs_job-1-0f3a.log/202611251000_1.gz: HTTP 500: We encountered an internal error',
        $metadata: { httpStatusCode: 500, attempts: 2 },
      });
      expect(String((error as Error).message)).not.toContain(TEST_CREDENTIALS.secretAccessKey);
    } finally {
      client.destroy();
      await store.close();
    }
  });

  it('says "access denied or bad credentials" for a 403 without an error code, and keeps it a 403 for callers', async () => {
    const store = await localStore({ status: 403 });
    const client = createS3Client({ endpoint: store.endpoint, maxAttempts: 1, credentials: TEST_CREDENTIALS }, {});
    try {
      const error = await client
        .send(new GetObjectCommand({ Bucket: 'b', Key: 'metadata/job-1.json' }))
        .catch((e: unknown) => e);
      expect((error as Error).message).toBe('GET metadata/job-1.json: HTTP 403: access denied or bad credentials');
      expect(error).toMatchObject({ $metadata: { httpStatusCode: 403 } });
      expect(describeSetupProblem(error, { endpoint: store.endpoint, bucket: 'b' })?.message).toMatch(
        /access denied or bad credentials/,
      );
    } finally {
      client.destroy();
      await store.close();
    }
  });
});

describe('describeSetupProblem', () => {
  const where = { endpoint: 'http://s3.local', bucket: 'logs' };
  const failure = (name: string, status: number): Error =>
    Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });

  it.each([
    ['UnknownError', 403],
    ['UnknownError', 401],
    ['Unknown', 403],
    ['403', 403],
  ])('takes a %s with HTTP %p (no error code) for access denied or bad credentials', (name, status) => {
    expect(describeSetupProblem(failure(name, status), where)).toEqual({
      message: `S3 at http://s3.local refused access to bucket logs (HTTP ${status}): access denied or bad credentials; check the access key, secret, session token and the credentials' policy`,
    });
  });

  it('takes a 400 without an error code (versitygw, for a HEAD with a session token it does not know) for bad credentials', () => {
    expect(describeSetupProblem(failure('Unknown', 400), where)?.message).toMatch(
      /HTTP 400 without an error code\): bad credentials or session token/,
    );
  });

  it.each([
    ['UnknownError', 500],
    ['UnknownError', 404],
    ['PreconditionFailed', 412],
    ['InvalidArgument', 400],
  ])('leaves a %s with HTTP %p to the caller', (name, status) => {
    expect(describeSetupProblem(failure(name, status), where)).toBeUndefined();
  });
});
