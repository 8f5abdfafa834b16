/**
 * A pod's raw files in raw-file order while the listing goes on, so that a read of a pod with
 * thousands of raw files starts on the first ones without waiting for the last listing page.
 *
 * Why a prefix of a listing is enough: S3 lists keys in lexicographic order, and a raw key is
 * its container's directory (`…{pod}_{namespace}_{container}-{id}.log/`) followed by its
 * 12-digit slice. Once a directory's listing has passed a key whose name in the directory is
 * `F`, every raw file of that directory with a slice lexicographically before `F`'s first 12
 * characters has been listed: a key still to come is greater than `F`, so its slice is not
 * before them. Files of that very slice may still come (`_11` lists before `_2`). A file is
 * ordered by a minute never earlier than its slice (rawOrderSlice): once that minute is
 * before every directory's frontier, no file still to come is ordered before it. The
 * directories of the pod's other container ids interleave with it in raw-file order, so each
 * is listed on its own and a file is given out once every directory is past its slice.
 *
 * Same files, order and errors as {@link listRawFiles}, which reads the whole listing first:
 * keys of other containers are left out, and a pod in two namespaces fails before any file
 * is given out. A pod with no more keys than the first page takes one request, as before.
 */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { PodNamespaceConflictError, TruncatedListingError } from '../errors.js';
import { compareRawKeys, parseRawDir, parseRawKey, rawOrderSlice, rawPodPrefix } from '../layout/keys.js';
import { listCommonPrefixes, sendOptions, type Bucket, type RawFile } from './store.js';

/**
 * Filled in by the listing's first page: whether any key at all is under the pod's raw prefix
 * (any container, any namespace). None there and no metadata: the bucket holds nothing of the
 * pod, known without a request more.
 */
export interface PrefixSeen {
  anyKey: boolean | undefined;
}

/** Keys of the first page: small, so that the first files are known soon. */
export const FIRST_PAGE_KEYS = 100;

const SLICE_LENGTH = 12;

interface Page {
  readonly keys: readonly { key: string; size: number; lastModified: Date }[];
  /** The next page's token; `undefined` at the end. */
  readonly token: string | undefined;
}

/** One directory of the pod's own container: listed on its own, a page ahead of the reader. */
interface Directory {
  readonly prefix: string;
  /** Name in the directory of the last key listed; `''` before the first page. */
  frontier: string;
  done: boolean;
  /** Whether a raw file of the pod's own container has been listed in it. */
  hasFiles: boolean;
  /** The page being listed. */
  next: Promise<Page> | undefined;
  token: string | undefined;
}

/**
 * The raw files of a pod's own container, a sorted batch at a time: every file of a batch comes
 * before every file of the batches after it in raw-file order ({@link compareRawKeys}). The
 * first batch, maybe empty, comes as soon as the pod is known to be in one namespace only.
 */
export async function* listRawFilesInOrder(
  store: Bucket,
  pod: string,
  firstPageKeys = FIRST_PAGE_KEYS,
  prefixSeen?: PrefixSeen,
): AsyncGenerator<RawFile[]> {
  const prefix = rawPodPrefix(pod);
  const first = await listPage(store, prefix, { maxKeys: firstPageKeys });
  if (prefixSeen !== undefined) prefixSeen.anyKey = first.keys.length > 0;
  const files = ownFiles(pod, first.keys);
  if (first.token === undefined) {
    namespaceOf(pod, files);
    yield files.sort(compareRawKeys);
    return;
  }
  // Longer than a page: the own container's directories, each listed on its own; the one the
  // first page ended in from where it stopped, the others again from their start (the order
  // of keys across directories is not relied on).
  const lastKey = first.keys.at(-1)?.key ?? '';
  const lastDir = lastKey.slice(0, lastKey.indexOf('/') + 1);
  const dirs: Directory[] = [];
  for await (const p of listCommonPrefixes(store, prefix)) {
    const dir = parseRawDir(p);
    if (dir === undefined || dir.pod !== pod || dir.container !== pod) continue;
    const frontier = p === lastDir ? lastKey.slice(p.length) : '';
    dirs.push({
      prefix: p,
      frontier,
      done: false,
      hasFiles: files.some((f) => f.key.startsWith(p)),
      next: undefined,
      token: undefined,
    });
  }
  const seen = new Set(files.map((f) => f.key));
  const pending = [...files];
  const listOn = (d: Directory): void => {
    const startAfter = d.token === undefined && d.frontier !== '' ? d.prefix + d.frontier : undefined;
    d.next = listPage(store, d.prefix, { token: d.token, startAfter });
    d.next.catch(() => undefined); // awaited below; never an unhandled rejection
  };
  try {
    for (const d of dirs) if (!d.done) listOn(d);
    let checked = false;
    let firstBatch = true;
    for (;;) {
      const open = dirs.filter((d) => !d.done);
      // A pod in two namespaces fails before a file is given out: every directory must show files or end first.
      const unknown = checked ? undefined : open.find((d) => !d.hasFiles);
      if (unknown === undefined && !checked) {
        namespaceOf(pod, pending);
        checked = true;
      }
      if (checked) {
        const bound =
          open.length === 0
            ? undefined
            : open.map((d) => d.frontier.slice(0, SLICE_LENGTH)).reduce((a, b) => (b < a ? b : a));
        const ready = bound === undefined ? pending.splice(0) : takeWhere(pending, (f) => rawOrderSlice(f) < bound);
        if (ready.length > 0 || firstBatch) yield ready.sort(compareRawKeys);
        firstBatch = false;
        if (open.length === 0) return;
      }
      // Wait for the directory that holds the others back.
      const slowest = unknown ?? open.reduce((a, b) => (b.frontier < a.frontier ? b : a));
      const page = await (slowest.next as Promise<Page>);
      const listed = ownFiles(pod, page.keys).filter((f) => !seen.has(f.key));
      pending.push(...listed);
      if (listed.length > 0) slowest.hasFiles = true;
      const last = page.keys.at(-1);
      if (last !== undefined) slowest.frontier = last.key.slice(slowest.prefix.length);
      slowest.token = page.token;
      if (page.token === undefined) slowest.done = true;
      else listOn(slowest);
    }
  } finally {
    for (const d of dirs) d.next = undefined;
  }
}

/** One page of a listing: from the start, after `startAfter`, or at `token`. */
async function listPage(
  store: Bucket,
  prefix: string,
  options: { token?: string | undefined; startAfter?: string | undefined; maxKeys?: number },
): Promise<Page> {
  const page = await store.client.send(
    new ListObjectsV2Command({
      Bucket: store.bucket,
      Prefix: prefix,
      ContinuationToken: options.token,
      StartAfter: options.startAfter,
      MaxKeys: options.maxKeys,
    }),
    sendOptions(store),
  );
  const keys = (page.Contents ?? []).flatMap((o) =>
    o.Key === undefined ? [] : [{ key: o.Key, size: o.Size ?? 0, lastModified: o.LastModified ?? new Date(0) }],
  );
  if (!page.IsTruncated) return { keys, token: undefined };
  if (!page.NextContinuationToken) throw new TruncatedListingError(store.bucket, prefix);
  return { keys, token: page.NextContinuationToken };
}

function ownFiles(pod: string, keys: Page['keys']): RawFile[] {
  const files: RawFile[] = [];
  for (const o of keys) {
    const raw = parseRawKey(o.key);
    if (raw === undefined || raw.pod !== pod || raw.container !== pod) continue;
    files.push({ ...raw, size: o.size, lastModified: o.lastModified });
  }
  return files;
}

function namespaceOf(pod: string, files: readonly RawFile[]): void {
  const namespaces = new Set(files.map((f) => f.namespace));
  if (namespaces.size > 1) throw new PodNamespaceConflictError(pod, [...namespaces].sort());
}

/** Removes from `items` and returns those that `keep` accepts. */
function takeWhere<T>(items: T[], keep: (item: T) => boolean): T[] {
  const taken: T[] = [];
  let kept = 0;
  for (const item of items) {
    if (keep(item)) taken.push(item);
    else items[kept++] = item;
  }
  items.length = kept;
  return taken;
}
