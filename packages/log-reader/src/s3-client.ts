/**
 * The S3 client both CLIs use, and how an S3 failure reads to a person. Credentials come
 * from the standard AWS chain (environment, profile, IRSA); nothing here logs them.
 */
import { S3Client } from '@aws-sdk/client-s3';
import type { NodeHttpHandlerOptions, RetryErrorInfo, RetryStrategyV2, RetryToken } from '@smithy/types';

/**
 * How hard the client tries before a request fails. Every S3 call of the reader and the
 * compactor goes through these limits; what happens after they are exhausted is the
 * caller's business (the reader fails the read, the compactor fails the pod and the next
 * pass redoes it).
 *
 * Retried: throttling (503 `SlowDown`, 429, other throttling codes), 500, 502, 503, 504,
 * `RequestTimeout`, connection errors (refused, reset, dropped) and timeouts. Not retried:
 * other 4xx (a missing key, a failed precondition) and other 5xx (501 Not Implemented).
 * A request whose connection drops after the server did the work is retried like any other:
 * every write we make is idempotent or conditional, and a conditional one then answers 412
 * to the retry (the caller has to tell that from a real conflict).
 *
 * Not covered: a response body that stops or breaks after the headers arrived. The SDK has
 * handed the body to the caller by then; only {@link S3ClientSettings.socketIdleTimeoutMs}
 * (off by default) bounds a stalled body, and the caller sees the error.
 */
export const S3_CLIENT_DEFAULTS = {
  maxAttempts: 5,
  retryBaseDelayMs: 100,
  throttlingBaseDelayMs: 1_000,
  maxRetryDelayMs: 20_000,
  connectionTimeoutMs: 5_000,
  requestTimeoutMs: 30_000,
  socketIdleTimeoutMs: 0,
} as const;

export interface S3ClientSettings {
  /** A custom endpoint (an S3-compatible store, moto, versitygw); implies path-style addressing. */
  readonly endpoint?: string | undefined;
  readonly region?: string | undefined;
  /**
   * Attempts per request, the first one included. Default 5. Overrides `AWS_MAX_ATTEMPTS`
   * and the profile's `max_attempts`.
   */
  readonly maxAttempts?: number | undefined;
  /**
   * Backoff after a 5xx, a timeout or a broken connection: before the n-th retry the client
   * waits a random time between 0 and `min(retryBaseDelayMs × 2^(n-1), maxRetryDelayMs)`
   * ("full jitter"). Default 100 ms.
   */
  readonly retryBaseDelayMs?: number | undefined;
  /** The same after throttling (503 `SlowDown`, 429): S3 asks for fewer requests, so back off harder. Default 1 s. */
  readonly throttlingBaseDelayMs?: number | undefined;
  /** The longest single wait between two attempts (also caps a server's `Retry-After`). Default 20 s. */
  readonly maxRetryDelayMs?: number | undefined;
  /** How long opening a connection may take before the attempt fails (and is retried). Default 5 s. */
  readonly connectionTimeoutMs?: number | undefined;
  /**
   * How long an attempt may take from its start until the response headers arrive, sending
   * the request body included (a 5 MiB upload part must fit in it). The attempt then fails
   * and is retried. Default 30 s. With the other defaults one request gives up after at most
   * about 5 × 30 s plus 15 s of backoff.
   */
  readonly requestTimeoutMs?: number | undefined;
  /**
   * How long a connection may be idle, the response body included, before the attempt (or
   * the body being read) fails. 0 (the default) means never: a reader's consumer may pause a
   * body (and the bodies read ahead of it) for as long as it likes, and an idle timeout
   * would break such reads. Set it where bodies are read steadily, above the longest pause.
   */
  readonly socketIdleTimeoutMs?: number | undefined;
}

/** The endpoint to use: the explicit one, else `AWS_ENDPOINT_URL_S3`, else `AWS_ENDPOINT_URL`. */
export function resolveEndpoint(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return explicit || env['AWS_ENDPOINT_URL_S3'] || env['AWS_ENDPOINT_URL'] || undefined;
}

export function createS3Client(settings: S3ClientSettings, env: NodeJS.ProcessEnv = process.env): S3Client {
  const endpoint = resolveEndpoint(settings.endpoint, env);
  const maxAttempts = positive(settings.maxAttempts, S3_CLIENT_DEFAULTS.maxAttempts, 'maxAttempts');
  const requestHandler: NodeHttpHandlerOptions = {
    connectionTimeout: positive(settings.connectionTimeoutMs, S3_CLIENT_DEFAULTS.connectionTimeoutMs, 'connectionTimeoutMs'),
    requestTimeout: positive(settings.requestTimeoutMs, S3_CLIENT_DEFAULTS.requestTimeoutMs, 'requestTimeoutMs'),
    // Without this the SDK only logs a warning when the request timeout passes, and waits on.
    throwOnRequestTimeout: true,
    ...(settings.socketIdleTimeoutMs ? { socketTimeout: settings.socketIdleTimeoutMs } : {}),
  };
  return new S3Client({
    region: settings.region || env['AWS_REGION'] || env['AWS_DEFAULT_REGION'] || 'us-east-1',
    maxAttempts,
    retryStrategy: new BoundedRetryStrategy({
      maxAttempts,
      retryBaseDelayMs: positive(settings.retryBaseDelayMs, S3_CLIENT_DEFAULTS.retryBaseDelayMs, 'retryBaseDelayMs'),
      throttlingBaseDelayMs: positive(settings.throttlingBaseDelayMs, S3_CLIENT_DEFAULTS.throttlingBaseDelayMs, 'throttlingBaseDelayMs'),
      maxRetryDelayMs: positive(settings.maxRetryDelayMs, S3_CLIENT_DEFAULTS.maxRetryDelayMs, 'maxRetryDelayMs'),
    }),
    requestHandler,
    // Without this the SDK addresses `bucket.localhost`, which local stores do not serve.
    ...(endpoint === undefined ? {} : { endpoint, forcePathStyle: true }),
  });
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < (name === 'maxAttempts' ? 1 : 0)) throw new RangeError(`S3 client setting ${name} must be a positive number, got ${value}`);
  return value;
}

export interface RetryLimits {
  readonly maxAttempts: number;
  readonly retryBaseDelayMs: number;
  readonly throttlingBaseDelayMs: number;
  readonly maxRetryDelayMs: number;
}

/**
 * The SDK's standard retry decisions (its middleware classifies each error as throttling,
 * transient, server or client error) with explicit limits: at most `maxAttempts` attempts,
 * exponential backoff with full jitter, a longer base after throttling, every wait capped.
 *
 * Unlike the SDK's default strategy it keeps no client-wide retry budget: that budget (500
 * tokens, 5–14 per retry) is shared by every request of the client, so one pod whose
 * requests keep failing could use it up and leave the other pods of the pass without
 * retries. Here each request is bounded on its own.
 */
export class BoundedRetryStrategy implements RetryStrategyV2 {
  readonly mode = 'standard';

  constructor(
    private readonly limits: RetryLimits,
    private readonly random: () => number = Math.random,
  ) {}

  async acquireInitialRetryToken(): Promise<RetryToken> {
    return token(0, 0);
  }

  async refreshRetryTokenForRetry(previous: RetryToken, info: RetryErrorInfo): Promise<RetryToken> {
    const retries = previous.getRetryCount() + 1;
    if (info.errorType !== 'THROTTLING' && info.errorType !== 'TRANSIENT') throw new Error(`not retried: ${info.errorType}`);
    if (retries >= this.limits.maxAttempts) throw new Error(`not retried: ${this.limits.maxAttempts} attempts made`);
    return token(retries, this.delayBefore(retries, info));
  }

  recordSuccess(): void {}

  /** The wait before retry number `retry` (1 for the second attempt). */
  delayBefore(retry: number, info: Pick<RetryErrorInfo, 'errorType' | 'retryAfterHint'>): number {
    const base = info.errorType === 'THROTTLING' ? this.limits.throttlingBaseDelayMs : this.limits.retryBaseDelayMs;
    const ceiling = Math.min(this.limits.maxRetryDelayMs, base * 2 ** (retry - 1));
    let delay = Math.floor(this.random() * ceiling);
    if (info.retryAfterHint instanceof Date) delay = Math.max(delay, Math.min(this.limits.maxRetryDelayMs, info.retryAfterHint.getTime() - Date.now()));
    return Math.max(0, delay);
  }
}

function token(count: number, delay: number): RetryToken {
  return { getRetryCount: () => count, getRetryDelay: () => delay };
}

/** A failure that is about the set-up (where, which bucket, which credentials), not about a pod. */
export interface SetupProblem {
  readonly message: string;
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH']);
const CREDENTIAL_ERRORS = new Set(['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken', 'InvalidToken']);

/**
 * Names a set-up problem in one line (endpoint, bucket or credentials), or returns
 * `undefined` for any other error. Never includes credentials or request signatures.
 */
export function describeSetupProblem(error: unknown, where: { endpoint: string | undefined; bucket: string }): SetupProblem | undefined {
  const e = error as { name?: unknown; code?: unknown; cause?: unknown; errors?: unknown } | null;
  const name = typeof e?.name === 'string' ? e.name : '';
  const endpoint = where.endpoint ?? 'the AWS S3 endpoint';
  const code = connectionCode(error);
  if (code !== undefined) return { message: `cannot reach S3 at ${endpoint}: ${code}` };
  if (name === 'NoSuchBucket') return { message: `bucket ${where.bucket} does not exist at ${endpoint}` };
  if (name === 'AccessDenied' || name === 'Forbidden') return { message: `access denied to bucket ${where.bucket} at ${endpoint}: check the credentials' policy` };
  if (name === 'CredentialsProviderError') {
    return { message: 'no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile, or a web identity' };
  }
  if (CREDENTIAL_ERRORS.has(name)) return { message: `S3 at ${endpoint} rejected the credentials (${name})` };
  return undefined;
}

function connectionCode(error: unknown, depth = 0): string | undefined {
  if (depth > 4 || typeof error !== 'object' || error === null) return undefined;
  const e = error as { code?: unknown; cause?: unknown; errors?: unknown; name?: unknown };
  if (typeof e.code === 'string' && CONNECTION_CODES.has(e.code)) return e.code;
  if (e.name === 'TimeoutError') return 'timed out';
  if (Array.isArray(e.errors)) for (const inner of e.errors) {
    const found = connectionCode(inner, depth + 1);
    if (found) return found;
  }
  return connectionCode(e.cause, depth + 1);
}
