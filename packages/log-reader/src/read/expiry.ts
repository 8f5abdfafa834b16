/**
 * How a read meets a log that expires (the compactor's retention, docs/design.md §8): the
 * compactor marks the metadata (`expired_at`), waits a cleanup interval (reads in flight
 * finish), then deletes the pod's objects and the metadata last. So a read fails with
 * {@link LogExpiredError} when the metadata it plans on is marked, or when, after an object it
 * planned on went missing, the metadata is gone or belongs to a new log (another `log_id`: the
 * pod's log was deleted and a new one started): carrying on from a fresh plan there would
 * return part of the log as if it were all of it.
 */
import { LogExpiredError } from '../errors.js';
import type { PodMetadata } from '../layout/metadata.js';
import { loadMetadata, type Bucket } from '../s3/store.js';

/** Throws {@link LogExpiredError} when the compactor has marked the pod's log expired. */
export function assertNotExpired(pod: string, metadata: PodMetadata): void {
  if (metadata.expiredAt !== undefined) throw new LogExpiredError(pod, metadata.expiredAt);
}

/**
 * The pod's metadata for a read's plan. `afterMissing`: the read re-plans because an object
 * it planned on is gone; a pod without metadata then is a pod whose log was deleted (only an
 * expiry deletes the metadata; a merged raw file is deleted only under a commit). `logId`: the
 * log the read planned on, when its metadata named one: another one now is a new log.
 */
export async function loadReadableMetadata(
  store: Bucket,
  pod: string,
  afterMissing = false,
  logId?: string,
): Promise<PodMetadata> {
  const { metadata, etag } = await loadMetadata(store, pod);
  assertNotExpired(pod, metadata);
  if (afterMissing && etag === undefined) throw new LogExpiredError(pod, undefined);
  // Only two ids that differ tell a new log: a document without one (the Python service's,
  // which drops our fields when a bucket goes back to it) tells nothing.
  if (logId !== undefined && metadata.logId !== undefined && metadata.logId !== logId)
    throw new LogExpiredError(pod, undefined);
  return metadata;
}
