// S3 clients of the interleavings runs: one that watches a slow reader (its plans, the
// objects it found deleted) and can hold its next request, and one that runs an upload just
// before a pass's request.
import type { S3Client } from '@aws-sdk/client-s3';
import { isNotFound } from '@platform/log-reader/s3';
import { short } from './interleavings-model.js';
import { testS3Client } from './s3.js';

export interface ReaderWatch {
  /** Metadata GETs: one per plan. */
  plans: number;
  /** Records the read had returned at each plan. */
  returnedAtPlans: number[];
  /** Records the read has returned (kept up to date by pull()). */
  returned: number;
  /** GETs of objects other than the metadata (with no read-ahead: the objects it opened). */
  gets: number;
  /** Objects found missing. */
  missing: number;
  /** The clock at the last plan's metadata GET. */
  plannedAt: number;
  /** For each object found missing: how long after the plan that listed it (ms). */
  missingAfterPlan: number[];
  /** Run (once) just before the reader's next request, which waits for it. */
  beforeNextRequest: ((request: string) => Promise<void>) | undefined;
  ran: Promise<void> | undefined;
}

/** A client for one slow reader: counts its plans and the objects it found missing, and can hold a request. */
export function watchedClient(watch: ReaderWatch, clock: () => number): S3Client {
  const client = testS3Client();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const key = (args.input as { Key?: string }).Key ?? '';
      const get = context.commandName === 'GetObjectCommand';
      const hook = watch.beforeNextRequest;
      if (hook) {
        watch.beforeNextRequest = undefined;
        watch.ran = hook(`${context.commandName ?? '?'} ${short(key)}`);
        await watch.ran;
      }
      if (get && key.startsWith('metadata/')) {
        watch.plans += 1;
        watch.plannedAt = clock();
        watch.returnedAtPlans.push(watch.returned);
      } else if (get) {
        watch.gets += 1;
      }
      // The plan this GET belongs to (a GET opened ahead may come back after a re-plan).
      const plannedAt = watch.plannedAt;
      try {
        return await next(args);
      } catch (error) {
        if (get && !key.startsWith('metadata/') && isNotFound(error)) {
          watch.missing += 1;
          watch.missingAfterPlan.push(clock() - plannedAt);
        }
        throw error;
      }
    },
    { step: 'initialize', name: 'watchReader' },
  );
  return client;
}

/**
 * A client for a pass that runs `interleave` (once) just before its `k`-th request, or the
 * first one after it that is not in `window` (given the command and the key, or the prefix
 * of a listing).
 */
export function uploadingAt(
  k: number,
  window: (command: string, key: string) => boolean,
  interleave: (request: string) => Promise<void>,
  client: S3Client = testS3Client(),
): S3Client {
  let n = 0;
  let ran = false;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      n += 1;
      const input = args.input as { Key?: string; Prefix?: string };
      const key = input.Key ?? input.Prefix ?? '';
      if (!ran && n >= k && !window(context.commandName ?? '', key)) {
        ran = true;
        await interleave(`${n} (${context.commandName ?? '?'} ${short(key)})`);
      }
      return next(args);
    },
    { step: 'initialize', name: 'interleaveUpload' },
  );
  return client;
}
