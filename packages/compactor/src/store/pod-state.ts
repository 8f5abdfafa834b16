/**
 * A pod as one pass sees it: its metadata (with the ETag the commit is conditional on), its
 * raw files and the objects under its merged prefix — one snapshot that the merge and the
 * deletes work from.
 */
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  cleanupKey,
  mergedPodPrefix,
  metadataKey,
  mergedRawPredicate,
  type PodMetadata,
} from '@platform/log-reader/layout';
import {
  isNotFound,
  listObjects,
  listRawFiles,
  loadMetadata,
  type Bucket,
  type ListedObject,
  type LoadedMetadata,
  type RawFile,
} from '@platform/log-reader/s3';

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

export async function loadPodState(store: Bucket, pod: string, clock: () => Date): Promise<PodState> {
  // Metadata first: every raw file it does not cover is then still there to be listed.
  const loaded = await loadMetadata(store, pod);
  return completePodState(store, pod, { loaded, raw: await listRawFiles(store, pod) }, clock);
}

/** What a look read first: the metadata, then the pod's raw files (in that order). */
export interface FirstReads {
  readonly loaded: LoadedMetadata;
  readonly raw: readonly RawFile[];
}

/**
 * What a look read, still good once the lease is held: the metadata's ETag is the one the
 * look read (one HEAD), else both are read again. Between the look and the lease another
 * compactor may have finished the pod; working from its old state would only make this
 * pass's commit fail (conditional on the ETag), for a pod that was fine.
 */
export async function confirmFirstReads(store: Bucket, pod: string, first: FirstReads): Promise<FirstReads> {
  if ((await metadataEtag(store, pod)) === first.loaded.etag) return first;
  const loaded = await loadMetadata(store, pod);
  return { loaded, raw: await listRawFiles(store, pod) };
}

async function metadataEtag(store: Bucket, pod: string): Promise<string | undefined> {
  try {
    return (await store.client.send(new HeadObjectCommand({ Bucket: store.bucket, Key: metadataKey(pod) }))).ETag;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** The snapshot from the metadata and raw files already read: lists `data/{pod}/` (after them). */
export async function completePodState(
  store: Bucket,
  pod: string,
  first: FirstReads,
  clock: () => Date,
): Promise<PodState> {
  const dataObjects: ListedObject[] = [];
  for await (const o of listObjects(store, mergedPodPrefix(pod))) dataObjects.push(o);
  return podState(pod, first.loaded, first.raw, dataObjects, clock);
}

/**
 * The snapshot from what was read (metadata first, then the listings); `raw` in raw-file order.
 * `compactor inspect` builds it this way too.
 */
export function podState(
  pod: string,
  loaded: LoadedMetadata,
  raw: readonly RawFile[],
  dataObjects: readonly ListedObject[],
  clock: () => Date,
): PodState {
  const { metadata: stored, etag } = loaded;
  const isMerged = mergedRawPredicate(stored);
  const metadata =
    stored.mergedRawFiles !== undefined
      ? stored
      : {
          ...stored,
          // The Python service's "merged up to last_merged_key", made exact; due from its last commit.
          mergedRawFiles: raw
            .filter(isMerged)
            .map((f) => ({ key: f.key, since: stored.lastCompactionTime ?? clock().toISOString() })),
        };
  return { pod, metadata, etag, raw, unmerged: raw.filter((f) => !isMerged(f)), dataObjects };
}

/** When the pod's newest raw file was uploaded (ms; 0 without raw files). */
export function newestUpload(state: Pick<PodState, 'raw'>): number {
  // A loop, not Math.max(...list): a spread of months of raw files overflows the stack.
  let newest = 0;
  for (const f of state.raw) newest = Math.max(newest, f.lastModified.getTime());
  return newest;
}

/** Puts `cleanup/{pod}`: the pod has (or will have) objects to delete once they are due. */
export async function putCleanupEntry(ctx: { readonly store: Bucket }, pod: string): Promise<void> {
  await ctx.store.client.send(
    new PutObjectCommand({ Bucket: ctx.store.bucket, Key: cleanupKey(pod), Body: '', ContentLength: 0 }),
  );
}
