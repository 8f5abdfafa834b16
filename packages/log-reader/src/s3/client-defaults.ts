// The client's limits and its endpoint, apart from the client: the CLIs' flags and help need
// them before (or without) a request, and this module loads no AWS SDK code, so `--help`,
// `--version` and usage errors start without it.
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
  maxSockets: 50,
} as const;

/** The endpoint to use: the explicit one, else `AWS_ENDPOINT_URL_S3`, else `AWS_ENDPOINT_URL`. */
export function resolveEndpoint(
  explicit: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  return explicit || env['AWS_ENDPOINT_URL_S3'] || env['AWS_ENDPOINT_URL'] || undefined;
}
