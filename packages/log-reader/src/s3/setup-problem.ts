/**
 * The one place that tells an S3 failure about the set-up (where the store is, which bucket,
 * which credentials) from one about a key, and says it in one line. Both CLIs use it (the
 * compactor through '@platform/log-reader/s3'). Nothing here prints a credential, a signature
 * or an endpoint's user info.
 */
import type { MetadataBearer } from '@smithy/types';

/** A failure that is about the set-up (where, which bucket, which credentials), not about a pod. */
export interface SetupProblem {
  readonly message: string;
}

/** Where the failed request went: the endpoint as given (undefined: AWS's own) and the bucket. */
export interface SetupWhere {
  readonly endpoint: string | undefined;
  readonly bucket: string;
}

// What the SDK calls an error whose answer had no error code it could read (e.g. a 403 with
// an empty body): it tells a person nothing, the status does.
export const CODELESS: ReadonlySet<string> = new Set(['UnknownError', 'Unknown', '']);

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);
// A TLS certificate the client does not trust (Node's codes).
const CERTIFICATE_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);
// XAdminUserNotFound: versitygw's answer (HTTP 404) to an access key it does not know.
const CREDENTIAL_ERRORS = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'InvalidToken',
  'XAdminUserNotFound',
]);

/**
 * Names a set-up problem in one line (endpoint, bucket or credentials), or returns
 * `undefined` for any other error.
 */
export function describeSetupProblem(error: unknown, where: SetupWhere): SetupProblem | undefined {
  const name = nameOf(error);
  const endpoint = where.endpoint === undefined ? 'the AWS S3 endpoint' : safeEndpoint(where.endpoint);
  const transport = transportProblem(error, endpoint);
  if (transport !== undefined) return { message: transport };
  const answer = notS3Answer(error);
  if (answer !== undefined) {
    return {
      message: `${endpoint} does not answer as S3 does (a request for bucket ${where.bucket} got ${answer}, without an S3 error code or request id): check the endpoint URL`,
    };
  }
  if (name === 'NoSuchBucket') return { message: `bucket ${where.bucket} does not exist at ${endpoint}` };
  if (name === 'AccessDenied' || name === 'Forbidden')
    return { message: `access denied to bucket ${where.bucket} at ${endpoint}: check the credentials' policy` };
  if (name === 'CredentialsProviderError') {
    return {
      message:
        'no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile, or a web identity',
    };
  }
  if (name === 'XAdminUserNotFound')
    return { message: `S3 at ${endpoint} does not know the access key ID (${name}): check AWS_ACCESS_KEY_ID` };
  if (CREDENTIAL_ERRORS.has(name)) return { message: `S3 at ${endpoint} rejected the credentials (${name})` };
  const status = (error as Partial<MetadataBearer> | null)?.$metadata?.httpStatusCode;
  const codeless = CODELESS.has(name) || name === String(status) || name === 'Unauthorized' || name === 'BadRequest';
  if ((status === 401 || status === 403) && codeless) {
    // A refusal without an error code (a HEAD answer has no body): the store said no to who
    // we are or what we may do, which no retry or other pod will change.
    return {
      message: `S3 at ${endpoint} refused access to bucket ${where.bucket} (HTTP ${status}): access denied or bad credentials; check the access key, secret, session token and the credentials' policy`,
    };
  }
  if (status === 400 && codeless) {
    // What versitygw answers a HEAD signed with a session token it does not know.
    return {
      message: `S3 at ${endpoint} rejected a request to bucket ${where.bucket} (HTTP 400 without an error code): bad credentials or session token; check the access key, secret and session token`,
    };
  }
  return undefined;
}

/**
 * Whether an error that looks like "not found" (HTTP 404) is really about the set-up: the
 * store does not know the credentials (versitygw answers 404), or what answered is not S3. A
 * reader must not take such a 404 for a key that is not there.
 */
export function isSetupFailure(error: unknown): boolean {
  // Only an answer with a body can show it is not S3's: a HEAD's 404 has none, and a store
  // that sends no request id (R2 sends an empty one) would have every missing key taken for a
  // set-up failure. A listing or a GET of the same endpoint tells (the bucket check makes one).
  const message = (error as { message?: unknown } | null)?.message;
  const unparsed = typeof message === 'string' && isDeserializationMessage(message);
  return CREDENTIAL_ERRORS.has(nameOf(error)) || (unparsed && notS3Answer(error) !== undefined);
}

/**
 * What answered, when it was not S3: `HTTP 404 (text/html)`. S3 stores send a request id
 * with every answer (`x-amz-request-id`, moto's `x-amzn-requestid`) and errors as XML; an
 * answer with neither, or one the SDK could not parse, comes from something else (a web
 * server, a proxy's error page). `undefined` for anything else.
 */
export function notS3Answer(error: unknown): string | undefined {
  const e = error as
    | (Partial<MetadataBearer> & { $response?: { headers?: Record<string, string | undefined> }; message?: unknown })
    | null;
  const status = e?.$metadata?.httpStatusCode;
  if (status === undefined || e?.$metadata?.requestId !== undefined || e?.$metadata?.extendedRequestId !== undefined)
    return undefined;
  // A 5xx page without a request id is a gateway's (nginx, a load balancer) while the store
  // restarts: transient, retried, never a reason to doubt the endpoint.
  if (status >= 500) return undefined;
  const type = e?.$response?.headers?.['content-type'];
  const unparsed = typeof e?.message === 'string' && isDeserializationMessage(e.message);
  if (!unparsed && (type === undefined || /xml/i.test(type))) return undefined;
  return `HTTP ${status}${type === undefined ? '' : ` (${type.split(';')[0]?.trim()})`}`;
}

/** The SDK's words for an answer it could not parse, which name its own internals. */
export function isDeserializationMessage(message: string): boolean {
  return /Deserialization error|XML parse error|\$response/.test(message);
}

/** `endpoint` without user info, query or fragment: what a message may show of it. */
export function safeEndpoint(endpoint: string): string {
  try {
    const url = new URL(endpoint);
    url.username = '';
    url.password = '';
    url.search = '';
    url.hash = '';
    return url.href.replace(/\/$/, '');
  } catch {
    return endpoint.replace(/\/\/[^@/]*@/, '//');
  }
}

/**
 * Why `name` cannot be a bucket's name (the flag's words), or `undefined` when it can be. Only
 * what no store accepts is refused: a URL, a `/`, blanks, an empty name.
 */
export function bucketNameProblem(name: string): string | undefined {
  const url = /^[a-z][a-z0-9+.-]*:\/\/([^/]*)/i.exec(name);
  if (url !== null)
    return `${JSON.stringify(name)} is a URL: give the bucket's name alone${url[1] ? `, e.g. ${url[1]}` : ''}`;
  if (name.trim() === '') return 'the bucket name is empty';
  if (/[/\s]/.test(name) || name.length > 255)
    return `${JSON.stringify(name)} is not a bucket name: at most 63 characters of a-z, 0-9, '-' and '.' (no '/')`;
  return undefined;
}

function nameOf(error: unknown): string {
  const name = (error as { name?: unknown } | null)?.name;
  return typeof name === 'string' ? name : '';
}

/** A failure to connect or to speak TLS, in one line; `undefined` for any other error. */
function transportProblem(error: unknown, endpoint: string): string | undefined {
  const code = codeInChain(error);
  if (code === undefined) return undefined;
  if (code === 'timed out' || CONNECTION_CODES.has(code)) return `cannot reach S3 at ${endpoint}: ${code}`;
  if (CERTIFICATE_CODES.has(code))
    return `the TLS certificate of ${endpoint} is not trusted (${code}): NODE_EXTRA_CA_CERTS can name the CA's certificate file`;
  if (/wrong.version.number/i.test(code))
    return `cannot speak TLS to ${endpoint}: the server answered without TLS (wrong version number); use http:// if it serves plain HTTP`;
  return `cannot speak TLS to ${endpoint}: ${code}`;
}

/** The first connection or TLS error code in the error's chain (`cause`, `errors`). */
function codeInChain(error: unknown, depth = 0): string | undefined {
  if (depth > 4 || typeof error !== 'object' || error === null) return undefined;
  const e = error as { code?: unknown; cause?: unknown; errors?: unknown; name?: unknown; message?: unknown };
  if (typeof e.code === 'string') {
    if (CONNECTION_CODES.has(e.code) || CERTIFICATE_CODES.has(e.code)) return e.code;
    // OpenSSL's reason is in the message of Node's EPROTO (`…:wrong version number:…`).
    if (e.code === 'EPROTO' || e.code.startsWith('ERR_SSL_'))
      return typeof e.message === 'string' && /wrong version number/i.test(e.message) ? 'wrong version number' : e.code;
  }
  if (e.name === 'TimeoutError') return 'timed out';
  if (Array.isArray(e.errors))
    for (const inner of e.errors) {
      const found = codeInChain(inner, depth + 1);
      if (found) return found;
    }
  return codeInChain(e.cause, depth + 1);
}
