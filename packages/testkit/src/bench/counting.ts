/**
 * S3 requests by kind, counted on the client a pass uses: a middleware at the `initialize`
 * step sees each command once (retries are attempts of the same command, not new requests).
 */
import type { S3Client } from '@aws-sdk/client-s3';

/** Command name (`GetObjectCommand`, `ListObjectsV2Command`, …) → requests sent. */
export type RequestCounts = Record<string, number>;

/** Starts counting the commands `client` sends; the returned object fills as they go. */
export function countRequests(client: S3Client): RequestCounts {
  const counts: RequestCounts = {};
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = (context.commandName ?? 'unknown').replace(/Command$/, '');
      counts[name] = (counts[name] ?? 0) + 1;
      return next(args);
    },
    { step: 'initialize', name: 'benchCountRequests', priority: 'high' },
  );
  return counts;
}

/** The sum of two counts, or the difference (`b - a`) with `sign` -1. */
export function combineCounts(a: RequestCounts, b: RequestCounts, sign: 1 | -1 = 1): RequestCounts {
  const out: RequestCounts = { ...a };
  for (const [name, n] of Object.entries(b)) out[name] = (out[name] ?? 0) + sign * n;
  return Object.fromEntries(Object.entries(out).filter(([, n]) => n !== 0));
}

export function totalRequests(counts: RequestCounts): number {
  return Object.values(counts).reduce((sum, n) => sum + n, 0);
}
