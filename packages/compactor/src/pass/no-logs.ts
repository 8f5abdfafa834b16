/**
 * A bucket with no work: nothing in it looks like Fluent Bit's layout (no raw directory of a
 * container) and nothing the compactor writes is there (metadata/, cleanup/, data/). A pass then
 * writes nothing into it, not even the conditional-write check or the survey's stamp, and says
 * so once. Not an error: a CronJob on a new cluster meets an empty bucket until the first job
 * runs; but a wrong bucket or a Fluent Bit writing another layout looks the same, so the
 * warning names the bucket and the prefix looked for.
 */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { CLEANUP_PREFIX, MERGED_PREFIX, METADATA_PREFIX, RAW_PREFIX } from '@platform/log-reader/layout';
import type { Bucket } from '@platform/log-reader/s3';
import type { Logger } from '../logger.js';
import { inDryRunWords } from './dry-run-words.js';
import { summarize, type PassSummary } from './report.js';

/** Where the compactor's own work would be: a pod merged before, queued for cleaning, or a leftover. */
const COMPACTOR_PREFIXES = [METADATA_PREFIX, CLEANUP_PREFIX, MERGED_PREFIX] as const;

/** Whether any object is under one of the compactor's own prefixes: one request each, at most one object listed. */
export async function holdsCompactorWork(store: Bucket): Promise<boolean> {
  for (const prefix of COMPACTOR_PREFIXES) {
    const page = await store.client.send(
      new ListObjectsV2Command({ Bucket: store.bucket, Prefix: prefix, MaxKeys: 1 }),
    );
    if ((page.KeyCount ?? page.Contents?.length ?? 0) > 0) return true;
  }
  return false;
}

/** The summary of a pass over a bucket with no work, logged after the one warning that says why nothing was done. */
export function noLogsSummary(bucket: string, dryRun: boolean, logger: Logger, durationMs: number): PassSummary {
  logger.warn(
    `nothing in bucket ${bucket} looks like Fluent Bit's layout: no key under ${RAW_PREFIX}{pod}_{namespace}_{container}-{id}.log/, ` +
      'and no metadata/, cleanup/ or data/ of the compactor; nothing done, nothing written ' +
      "(is --bucket right, and does Fluent Bit's s3 output write this layout?)",
    { bucket, prefix: RAW_PREFIX },
  );
  const summary = { ...summarize([], dryRun, durationMs), bucketHasLogs: false };
  logger.info('pass finished', dryRun ? inDryRunWords(summary) : { ...summary });
  return summary;
}
