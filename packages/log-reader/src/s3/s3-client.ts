/**
 * The S3 client both CLIs use, and how an S3 failure reads to a person. Credentials come
 * from the standard AWS chain (environment, profile, IRSA); nothing here logs them.
 */
import { S3Client } from '@aws-sdk/client-s3';
import type {
  AwsCredentialIdentity,
  InitializeHandlerArguments,
  InitializeHandler,
  HandlerExecutionContext,
  MetadataBearer,
  NodeHttpHandlerOptions,
  RetryErrorInfo,
  RetryStrategyV2,
  RetryToken,
} from '@smithy/types';
import { DEFAULT_READ_AHEAD } from './raw-records.js';
import { CODELESS, isDeserializationMessage, notS3Answer } from './setup-problem.js';
import { resolveEndpoint, S3_CLIENT_DEFAULTS } from './client-defaults.js';

// Kept here too for the callers that import them with the client.
export { resolveEndpoint, S3_CLIENT_DEFAULTS } from './client-defaults.js';

// Sockets a read holds besides its bodies: the metadata GET or a listing, or the
// compactor's upload of the file it is writing.
const SOCKETS_BESIDES_BODIES = 1;
// For requests outside any read or pod (the pass's listings, the conditional-write check).
const SPARE_SOCKETS = 4;

/**
 * The connection pool that `concurrentReads` reads (or pods merged at once, each reading
 * its raw files the same way) need so that no request waits for a socket: each holds up to
 * `readAhead + 1` response bodies open (the one being read and those opened ahead) plus one
 * other request, and a few more serve the rest. A request that waits for a socket counts
 * against its connect timeout, so a pool that is too small shows up as timeouts.
 *
 * @example createS3Client({ maxSockets: socketsFor(config.concurrency) })
 */
export function socketsFor(concurrentReads: number, readAhead: number = DEFAULT_READ_AHEAD): number {
  if (!Number.isSafeInteger(concurrentReads) || concurrentReads < 1)
    throw new RangeError(`concurrentReads must be a positive integer, got ${concurrentReads}`);
  if (!Number.isSafeInteger(readAhead) || readAhead < 0)
    throw new RangeError(`readAhead must be a non-negative integer, got ${readAhead}`);
  return concurrentReads * (readAhead + 1 + SOCKETS_BESIDES_BODIES) + SPARE_SOCKETS;
}

export interface S3ClientSettings {
  /**
   * A custom endpoint (an S3-compatible store: LocalStack, MinIO, moto, versitygw), e.g.
   * `http://localhost:4566`; default `AWS_ENDPOINT_URL_S3`, else `AWS_ENDPOINT_URL`, else AWS S3.
   * Implies path-style addressing: virtual-hosted addressing would ask for `{bucket}.localhost`.
   */
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
  /**
   * Connections kept open to the store at most (kept alive between requests). Requests
   * beyond it wait for a free one, and that wait counts against the connect timeout: size it
   * with {@link socketsFor} from how many reads (or pods) run at once. Default 50, the SDK's.
   */
  readonly maxSockets?: number | undefined;
  /** Explicit credentials; by default the standard AWS chain (environment, profile, IRSA) finds them. */
  readonly credentials?: AwsCredentialIdentity | undefined;
}

/**
 * The S3 client both CLIs use: the retry limits and timeouts of {@link S3_CLIENT_DEFAULTS}
 * (each overridable in `settings`), a keep-alive pool of `maxSockets` connections (size it
 * with {@link socketsFor}), and errors that say what failed: a request's final error keeps
 * its `name`, `code` and `$metadata` but its message reads
 * `"{GET|HEAD|LIST|PUT|DELETE…} {key or prefix}: HTTP {status}: {the store's message}"`.
 * `env` supplies the endpoint (`AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`) and region.
 */
export function createS3Client(settings: S3ClientSettings, env: NodeJS.ProcessEnv = process.env): S3Client {
  const endpoint = resolveEndpoint(settings.endpoint, env);
  const maxAttempts = positive(settings.maxAttempts, S3_CLIENT_DEFAULTS.maxAttempts, 'maxAttempts');
  const requestHandler: NodeHttpHandlerOptions = {
    connectionTimeout: positive(
      settings.connectionTimeoutMs,
      S3_CLIENT_DEFAULTS.connectionTimeoutMs,
      'connectionTimeoutMs',
    ),
    requestTimeout: positive(settings.requestTimeoutMs, S3_CLIENT_DEFAULTS.requestTimeoutMs, 'requestTimeoutMs'),
    // Without this the SDK only logs a warning when the request timeout passes, and waits on.
    throwOnRequestTimeout: true,
    ...(settings.socketIdleTimeoutMs ? { socketTimeout: settings.socketIdleTimeoutMs } : {}),
  };
  const maxSockets = settings.maxSockets ?? S3_CLIENT_DEFAULTS.maxSockets;
  if (!Number.isSafeInteger(maxSockets) || maxSockets < 1)
    throw new RangeError(`S3 client setting maxSockets must be a positive integer, got ${maxSockets}`);
  // Options, not Agent instances: the handler builds its agents and destroys them with the client.
  requestHandler.httpAgent = { keepAlive: true, maxSockets };
  requestHandler.httpsAgent = { keepAlive: true, maxSockets };
  const client = new S3Client({
    region: settings.region || env['AWS_REGION'] || env['AWS_DEFAULT_REGION'] || 'us-east-1',
    maxAttempts,
    retryStrategy: new BoundedRetryStrategy({
      maxAttempts,
      retryBaseDelayMs: positive(settings.retryBaseDelayMs, S3_CLIENT_DEFAULTS.retryBaseDelayMs, 'retryBaseDelayMs'),
      throttlingBaseDelayMs: positive(
        settings.throttlingBaseDelayMs,
        S3_CLIENT_DEFAULTS.throttlingBaseDelayMs,
        'throttlingBaseDelayMs',
      ),
      maxRetryDelayMs: positive(settings.maxRetryDelayMs, S3_CLIENT_DEFAULTS.maxRetryDelayMs, 'maxRetryDelayMs'),
    }),
    requestHandler,
    // Without this the SDK addresses `bucket.localhost`, which local stores do not serve.
    ...(endpoint === undefined ? {} : { endpoint, forcePathStyle: true }),
    ...(settings.credentials === undefined ? {} : { credentials: settings.credentials }),
  });
  // Initialize is the outermost step: the error seen here is the last one, after retries.
  client.middlewareStack.add(nameFailedRequest, { step: 'initialize', name: 'nameFailedRequest', priority: 'high' });
  return client;
}

/**
 * Rewrites the message of a request's final error to say what failed: the operation, the
 * key or prefix, the HTTP status and the store's own words, e.g.
 * `GET data/job-1/0f3a/202611251000_1.gz: HTTP 500: We encountered an internal error`.
 * The error object itself is kept (its `name`, `code`, `$metadata`), so callers branch on
 * it as before. Built from the command's input alone: no credentials, signatures or query
 * strings.
 */
function nameFailedRequest<Input extends object, Output extends object>(
  next: InitializeHandler<Input, Output>,
  context: HandlerExecutionContext,
): InitializeHandler<Input, Output> {
  return async (args: InitializeHandlerArguments<Input>) => {
    try {
      return await next(args);
    } catch (error) {
      if (error instanceof Error) {
        try {
          error.message = describeFailedRequest(context.commandName ?? '', args.input as S3Input, error);
        } catch {
          // A read-only message: the error still goes on as it was.
        }
      }
      throw error;
    }
  };
}

/** The part of a command's input that names what it is about. */
export interface S3Input {
  readonly Bucket?: string | undefined;
  readonly Key?: string | undefined;
  readonly Prefix?: string | undefined;
  readonly Delete?: { readonly Objects?: readonly { readonly Key?: string | undefined }[] | undefined } | undefined;
}

const OPERATIONS: Readonly<Record<string, string>> = {
  GetObjectCommand: 'GET',
  HeadObjectCommand: 'HEAD',
  HeadBucketCommand: 'HEAD',
  ListObjectsV2Command: 'LIST',
  ListObjectsCommand: 'LIST',
  PutObjectCommand: 'PUT',
  CopyObjectCommand: 'COPY',
  DeleteObjectCommand: 'DELETE',
  DeleteObjectsCommand: 'DELETE',
  CreateMultipartUploadCommand: 'PUT (start multipart upload)',
  UploadPartCommand: 'PUT (upload part)',
  CompleteMultipartUploadCommand: 'PUT (complete multipart upload)',
  AbortMultipartUploadCommand: 'DELETE (abort multipart upload)',
};

/** `"{operation} {key or prefix}: HTTP {status}: {what the store said}"` for a failed request. */
export function describeFailedRequest(
  commandName: string,
  input: S3Input,
  error: Error & Partial<MetadataBearer>,
): string {
  const operation = OPERATIONS[commandName] ?? commandName.replace(/Command$/, '');
  const status = error.$metadata?.httpStatusCode;
  const parts = [`${operation} ${targetOf(commandName, input)}`];
  if (status !== undefined) parts.push(`HTTP ${status}`);
  const notS3 = notS3Answer(error);
  // Not the SDK's words for an answer it could not parse: they name its internals.
  const message = isDeserializationMessage(error.message) ? '' : error.message;
  const said = CODELESS.has(message) ? (CODELESS.has(error.name) || error.name === 'Error' ? '' : error.name) : message;
  if (notS3 !== undefined) parts.push('the answer is not from S3 (no S3 error code or request id)');
  else if (said) parts.push(said);
  else if (status === 401 || status === 403) parts.push('access denied or bad credentials');
  else if (status === 400) parts.push('bad request, no error details in the answer (often a bad session token)');
  else parts.push('no error details in the answer');
  return parts.join(': ');
}

function targetOf(commandName: string, input: S3Input): string {
  if (input.Key !== undefined) return input.Key;
  if (commandName.startsWith('ListObjects'))
    return `prefix ${input.Prefix === undefined || input.Prefix === '' ? '(all)' : input.Prefix} in bucket ${input.Bucket ?? '?'}`;
  const keys = input.Delete?.Objects ?? [];
  if (keys.length > 0) return `${keys.length} key(s) from ${keys[0]?.Key ?? '?'}`;
  return `bucket ${input.Bucket ?? '?'}`;
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < (name === 'maxAttempts' ? 1 : 0))
    throw new RangeError(`S3 client setting ${name} must be a positive number, got ${value}`);
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
    if (info.errorType !== 'THROTTLING' && info.errorType !== 'TRANSIENT')
      throw new Error(`not retried: ${info.errorType}`);
    if (retries >= this.limits.maxAttempts) throw new Error(`not retried: ${this.limits.maxAttempts} attempts made`);
    return token(retries, this.delayBefore(retries, info));
  }

  recordSuccess(): void {}

  /** The wait before retry number `retry` (1 for the second attempt). */
  delayBefore(retry: number, info: Pick<RetryErrorInfo, 'errorType' | 'retryAfterHint'>): number {
    const base = info.errorType === 'THROTTLING' ? this.limits.throttlingBaseDelayMs : this.limits.retryBaseDelayMs;
    const ceiling = Math.min(this.limits.maxRetryDelayMs, base * 2 ** (retry - 1));
    let delay = Math.floor(this.random() * ceiling);
    if (info.retryAfterHint instanceof Date)
      delay = Math.max(delay, Math.min(this.limits.maxRetryDelayMs, info.retryAfterHint.getTime() - Date.now()));
    return Math.max(0, delay);
  }
}

function token(count: number, delay: number): RetryToken {
  return { getRetryCount: () => count, getRetryDelay: () => delay };
}
