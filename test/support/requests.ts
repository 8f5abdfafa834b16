// What a client sends, counted by the pod each request is for: the real client, the real
// server; a middleware only writes down each request before it goes.
import type { S3Client } from '@aws-sdk/client-s3';
import { parseCleanupKey, parseMergedKey, parseRawKey, RAW_PREFIX } from '@platform/log-reader/layout';

export interface SentRequest {
  /** `GetObject`, `ListObjectsV2`, `PutObject`, … */
  readonly command: string;
  /** The key, or the listing's prefix. */
  readonly target: string;
}

export function recordRequests(client: S3Client): SentRequest[] {
  const sent: SentRequest[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { Key?: string; Prefix?: string };
      sent.push({
        command: (context.commandName ?? 'unknown').replace(/Command$/, ''),
        target: input.Key ?? input.Prefix ?? '',
      });
      return next(args);
    },
    { step: 'initialize', name: 'recordRequests' },
  );
  return sent;
}

/** The pod a request is for, from its key or prefix; undefined for the pass's own (bucket, queue, probe). */
export function podOf(target: string): string | undefined {
  const own = /^(?:metadata\/(.+)\.json|leases\/(.+)\.json|data\/([^/]+)\/.*)$/.exec(target);
  if (own !== null) return own[1] ?? own[2] ?? own[3];
  if (target.startsWith('cleanup/')) return parseCleanupKey(target);
  if (target.startsWith(RAW_PREFIX))
    return parseRawKey(target)?.pod ?? /^kube\.var\.log\.containers\.([^_]+)_/.exec(target)?.[1];
  return parseMergedKey(target)?.pod;
}

/** Requests per pod, by command: `{ 'job-1': { GetObject: 2, … } }`. */
export function byPod(sent: readonly SentRequest[]): Map<string, Record<string, number>> {
  const pods = new Map<string, Record<string, number>>();
  for (const r of sent) {
    const pod = podOf(r.target);
    if (pod === undefined) continue;
    const counts = pods.get(pod) ?? {};
    counts[r.command] = (counts[r.command] ?? 0) + 1;
    pods.set(pod, counts);
  }
  return pods;
}
