/**
 * The S3 client both CLIs use, and how an S3 failure reads to a person. Credentials come
 * from the standard AWS chain (environment, profile, IRSA); nothing here logs them.
 */
import { S3Client } from '@aws-sdk/client-s3';

export interface S3ClientSettings {
  /** A custom endpoint (an S3-compatible store, moto, versitygw); implies path-style addressing. */
  readonly endpoint?: string | undefined;
  readonly region?: string | undefined;
  /** Attempts per request, with the SDK's backoff. Default 3. */
  readonly maxAttempts?: number | undefined;
}

/** The endpoint to use: the explicit one, else `AWS_ENDPOINT_URL_S3`, else `AWS_ENDPOINT_URL`. */
export function resolveEndpoint(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return explicit || env['AWS_ENDPOINT_URL_S3'] || env['AWS_ENDPOINT_URL'] || undefined;
}

export function createS3Client(settings: S3ClientSettings, env: NodeJS.ProcessEnv = process.env): S3Client {
  const endpoint = resolveEndpoint(settings.endpoint, env);
  return new S3Client({
    region: settings.region || env['AWS_REGION'] || env['AWS_DEFAULT_REGION'] || 'us-east-1',
    maxAttempts: settings.maxAttempts ?? 3,
    // Without this the SDK addresses `bucket.localhost`, which local stores do not serve.
    ...(endpoint === undefined ? {} : { endpoint, forcePathStyle: true }),
  });
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
