import { BoundedRetryStrategy, S3_CLIENT_DEFAULTS, createS3Client, type RetryLimits } from './s3-client.js';

const LIMITS: RetryLimits = { maxAttempts: 4, retryBaseDelayMs: 100, throttlingBaseDelayMs: 1_000, maxRetryDelayMs: 3_000 };

/** Runs the strategy the way the SDK's retry middleware does, and returns the waits it asked for. */
async function waits(strategy: BoundedRetryStrategy, errorType: 'TRANSIENT' | 'THROTTLING' | 'SERVER_ERROR' | 'CLIENT_ERROR'): Promise<number[]> {
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
