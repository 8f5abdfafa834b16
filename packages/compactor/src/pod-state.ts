/**
 * A pod as one pass sees it: its metadata (with the ETag the commit is conditional on), its
 * raw files and the objects under its merged prefix — one snapshot that the merge and the
 * deletes work from. And the commit itself.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import {
  isPreconditionFailure,
  listObjects,
  readMetadataText,
  listRawFiles,
  loadMetadata,
  mergedPodPrefix,
  mergedRawPredicate,
  encodeMetadata,
  metadataKey,
  type Bucket,
  type ListedObject,
  type PodMetadata,
  type RawFile,
} from '@platform/log-reader';
import { ConcurrentUpdateError } from './errors.js';

export interface PodState {
  readonly pod: string;
  /** Always with the exact `mergedRawFiles` list (a Python service document is converted). */
  readonly metadata: PodMetadata;
  readonly etag: string | undefined;
  /** The pod's own raw files, in raw-file order. */
  readonly raw: readonly RawFile[];
  /** Raw files no commit has merged, in raw-file order. */
  readonly unmerged: readonly RawFile[];
  /** Objects under `data/{pod}/`. */
  readonly dataObjects: readonly ListedObject[];
}

export async function loadPodState(store: Bucket, pod: string, now: Date): Promise<PodState> {
  // Metadata first: every raw file it does not cover is then still there to be listed.
  const { metadata: stored, etag } = await loadMetadata(store, pod);
  const raw = await listRawFiles(store, pod);
  const dataObjects: ListedObject[] = [];
  for await (const o of listObjects(store, mergedPodPrefix(pod))) dataObjects.push(o);
  const isMerged = mergedRawPredicate(stored);
  const metadata =
    stored.mergedRawFiles !== undefined
      ? stored
      : {
          ...stored,
          // The Python service's "merged up to last_merged_key", made exact; due from its last commit.
          mergedRawFiles: raw.filter(isMerged).map((f) => ({ key: f.key, since: stored.lastCompactionTime ?? now.toISOString() })),
        };
  return { pod, metadata, etag, raw, unmerged: raw.filter((f) => !isMerged(f)), dataObjects };
}

/**
 * Writes the metadata only if nobody else wrote it since `etag` was read (`If-None-Match: *`
 * for a pod without metadata yet). Throws {@link ConcurrentUpdateError} otherwise.
 */
export async function commitMetadata(store: Bucket, pod: string, metadata: PodMetadata, etag: string | undefined): Promise<string | undefined> {
  const key = metadataKey(pod);
  const body = encodeMetadata(metadata);
  try {
    const response = await store.client.send(
      new PutObjectCommand({
        Bucket: store.bucket,
        Key: key,
        Body: body,
        ContentType: 'application/json',
        ...(etag === undefined ? { IfNoneMatch: '*' } : { IfMatch: etag }),
      }),
    );
    return response.ETag;
  } catch (error) {
    if (!isPreconditionFailure(error)) throw error;
    // A retry whose first attempt landed (its answer was lost) meets its own write: the
    // document is then byte for byte ours (commit times carry microseconds), and committed.
    const stored = await readMetadataText(store, pod);
    if (stored?.text === body) return stored.etag;
    throw new ConcurrentUpdateError(pod, key);
  }
}
