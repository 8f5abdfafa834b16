/**
 * Reading the bucket's layout over S3: listings, object lines, a pod's metadata and raw
 * files. Shared by the reader and the compactor so that both see the bucket the same way.
 */
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { ObjectMissingError, PodNamespaceConflictError, TruncatedListingError } from '../errors.js';
import { compareRawKeys, metadataKey, parseRawKey, rawPodPrefix, type RawKey } from '../layout/keys.js';
import { EMPTY_METADATA, decodeMetadata, type PodMetadata } from '../layout/metadata.js';
import { isSetupFailure } from './setup-problem.js';

export interface Bucket {
  readonly client: S3Client;
  readonly bucket: string;
  /** Aborts every request made through this handle (a read's `signal`). */
  readonly signal?: AbortSignal | undefined;
}

/** The SDK's per-request options for `store`: its abort signal, if any. */
export function sendOptions(store: Bucket): { abortSignal?: AbortSignal } {
  return store.signal === undefined ? {} : { abortSignal: store.signal };
}

export interface ListedObject {
  readonly key: string;
  readonly size: number;
  readonly lastModified: Date;
  readonly etag: string | undefined;
}

/** A raw file of a pod's own container, as listed. */
export type RawFile = RawKey & { readonly size: number; readonly lastModified: Date };

/** Every object under `prefix`, over all pages. */
export async function* listObjects(store: Bucket, prefix: string): AsyncGenerator<ListedObject> {
  let token: string | undefined;
  do {
    const page = await store.client.send(
      new ListObjectsV2Command({ Bucket: store.bucket, Prefix: prefix, ContinuationToken: token }),
      sendOptions(store),
    );
    for (const o of page.Contents ?? []) {
      if (o.Key === undefined) continue;
      yield { key: o.Key, size: o.Size ?? 0, lastModified: o.LastModified ?? new Date(0), etag: o.ETag };
    }
    token = continuation(store, prefix, page);
  } while (token);
}

/** The "directories" right under `prefix` (a `/` delimiter listing), over all pages. */
export async function* listCommonPrefixes(store: Bucket, prefix: string): AsyncGenerator<string> {
  let token: string | undefined;
  do {
    const page = await store.client.send(
      new ListObjectsV2Command({ Bucket: store.bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token }),
      sendOptions(store),
    );
    for (const p of page.CommonPrefixes ?? []) if (p.Prefix !== undefined) yield p.Prefix;
    token = continuation(store, prefix, page);
  } while (token);
}

/** The token of the next page; `undefined` at the end. A truncated page without one is an error. */
function continuation(
  store: Bucket,
  prefix: string,
  page: { IsTruncated?: boolean | undefined; NextContinuationToken?: string | undefined },
): string | undefined {
  if (!page.IsTruncated) return undefined;
  if (!page.NextContinuationToken) throw new TruncatedListingError(store.bucket, prefix);
  return page.NextContinuationToken;
}

/**
 * Opens `keys` in order with up to `ahead` GETs started before their object is needed, so
 * the round trips overlap with reading. An opened body waits, paused, until it is read;
 * bodies opened but never read (the caller stopped early) are destroyed.
 */
export async function* openInOrder(
  store: Bucket,
  keys: readonly string[],
  ahead: number,
): AsyncGenerator<OpenedBody & { readonly key: string }> {
  const opening: Promise<OpenedBody>[] = [];
  let next = 0;
  const fill = (): void => {
    while (next < keys.length && opening.length <= ahead) {
      const body = getBody(store, keys[next++] as string);
      body.catch(() => undefined); // awaited in order below; never an unhandled rejection
      opening.push(body);
    }
  };
  try {
    for (const key of keys) {
      fill();
      const { body, length } = await (opening.shift() as Promise<OpenedBody>);
      yield { key, body, length };
    }
  } finally {
    for (const body of opening)
      void body.then(
        (o) => destroyBody(o.body),
        () => undefined,
      );
  }
}

/** A response body and the length its response announced (Content-Length), to tell a cut body from a corrupt one. */
export interface OpenedBody {
  readonly body: AsyncIterable<Uint8Array>;
  readonly length: number | undefined;
}

function destroyBody(body: AsyncIterable<Uint8Array>): void {
  (body as { destroy?: () => void }).destroy?.();
}

async function getBody(store: Bucket, key: string): Promise<OpenedBody> {
  try {
    const response = await store.client.send(
      new GetObjectCommand({ Bucket: store.bucket, Key: key }),
      sendOptions(store),
    );
    const body = response.Body as
      (AsyncIterable<Uint8Array> & { on?: (event: 'error', listener: () => void) => unknown }) | undefined;
    // A body opened ahead waits unread: without a listener, its connection breaking in the
    // meantime would be an uncaught error that ends the process. Its reader still sees it.
    body?.on?.('error', () => undefined);
    return { body: body ?? emptyBody(), length: response.ContentLength };
  } catch (error) {
    if (isNotFound(error)) throw new ObjectMissingError(key, { cause: error });
    throw error;
  }
}

async function* emptyBody(): AsyncGenerator<Uint8Array> {}

export interface LoadedMetadata {
  readonly metadata: PodMetadata;
  /** The ETag to make the next write conditional on; `undefined` when there is no document yet. */
  readonly etag: string | undefined;
}

/** The metadata document exactly as stored, with its ETag; `undefined` when there is none. */
export async function readMetadataText(
  store: Bucket,
  pod: string,
): Promise<{ text: string; etag: string | undefined } | undefined> {
  try {
    const response = await store.client.send(
      new GetObjectCommand({ Bucket: store.bucket, Key: metadataKey(pod) }),
      sendOptions(store),
    );
    return { text: (await response.Body?.transformToString('utf-8')) ?? '', etag: response.ETag };
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** A pod's metadata, or the empty document when it has none yet. */
export async function loadMetadata(store: Bucket, pod: string): Promise<LoadedMetadata> {
  const stored = await readMetadataText(store, pod);
  if (stored === undefined) return { metadata: EMPTY_METADATA, etag: undefined };
  return { metadata: decodeMetadata(metadataKey(pod), stored.text), etag: stored.etag };
}

/**
 * The raw files of a pod's own container (named like the pod), in raw-file order. Keys of
 * other containers are not ours and are left out; a pod in two namespaces is an error.
 */
export async function listRawFiles(store: Bucket, pod: string): Promise<RawFile[]> {
  const files: RawFile[] = [];
  const namespaces = new Set<string>();
  for await (const o of listObjects(store, rawPodPrefix(pod))) {
    const raw = parseRawKey(o.key);
    if (raw === undefined || raw.pod !== pod || raw.container !== pod) continue;
    namespaces.add(raw.namespace);
    files.push({ ...raw, size: o.size, lastModified: o.lastModified });
  }
  if (namespaces.size > 1) throw new PodNamespaceConflictError(pod, [...namespaces].sort());
  return files.sort(compareRawKeys);
}

/** True for a missing object (not a missing bucket). */
export function isNotFound(error: unknown): boolean {
  const e = error as { name?: unknown; $metadata?: { httpStatusCode?: unknown } } | null;
  // A 404 about the set-up (an unknown access key, an answer that is not S3's) is no missing key.
  if (e?.name === 'NoSuchBucket' || isSetupFailure(error)) return false;
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}

/** 412 Precondition Failed, or 409 for a conditional write that raced another one. */
export function isPreconditionFailure(error: unknown): boolean {
  const e = error as { name?: unknown; $metadata?: { httpStatusCode?: unknown } } | null;
  const status = e?.$metadata?.httpStatusCode;
  return (
    e?.name === 'PreconditionFailed' || e?.name === 'ConditionalRequestConflict' || status === 412 || status === 409
  );
}
