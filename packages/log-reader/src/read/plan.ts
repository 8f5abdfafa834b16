/**
 * A read's plan: the merged files the metadata lists, in its order, then the raw files it does
 * not cover, in raw-file order, and the pieces of the lines the last commit left unfinished.
 * The metadata is read first, then the raw files are listed: in that order, every raw file the
 * metadata does not cover is still there to list.
 */
import { MetadataError } from '../errors.js';
import { parseRawKey } from '../layout/keys.js';
import {
  EMPTY_METADATA,
  mergedRawPredicate,
  recordsIn,
  unfinishedRange,
  type LogFileEntry,
  type PodMetadata,
} from '../layout/metadata.js';
import { listRawFilesInOrder, type PrefixSeen } from '../s3/raw-listing.js';
import type { UnfinishedPieces } from '../s3/raw-records.js';
import { listRawFiles, type Bucket, type RawFile } from '../s3/store.js';
import { loadReadableMetadata } from './expiry.js';
import { ReadAhead } from './read-ahead.js';
import type { ReadPlan } from './types.js';

/** The files a read of `pod` would go through now. */
export async function planRead(store: Bucket, pod: string): Promise<ReadPlan> {
  const metadata = await loadReadableMetadata(store, pod);
  const raw = await listRawFiles(store, pod);
  const isMerged = mergedRawPredicate(metadata);
  const listed = new Map(raw.map((f) => [f.key, f]));
  // A piece file gone from the listing (deleted after the line was finished by a commit
  // this read did not see) is still planned: its GET fails and the read re-plans.
  const pieces = unfinishedRange(metadata).map((p) => listed.get(p.key) ?? unlistedRawFile(p.key));
  return {
    merged: metadata.logFiles,
    raw: raw.filter((file) => !isMerged(file)),
    unfinished: { lines: metadata.unfinishedLines, files: pieces },
  };
}

/** A read's files: the merged ones from the metadata, the raw ones as the listing goes on. */
export interface OpenPlan {
  readonly merged: readonly LogFileEntry[];
  readonly raw: ReadAhead<readonly RawFile[]>;
  readonly unfinished: UnfinishedPieces;
  /** Objects the metadata records as unreadable (`unreadable_objects`). */
  readonly unreadable: PodMetadata['unreadableObjects'];
  /** The log the plan reads (`log_id`), when its metadata names one. */
  readonly logId: string | undefined;
  /**
   * Once the listing has started: whether the bucket holds nothing of the pod (no metadata
   * document, no key under its raw prefix). Costs no request of its own.
   */
  readonly nothingOfPod: () => boolean;
}

/**
 * {@link planRead}, with the raw files still being listed. `afterMissing`: a re-plan because an
 * object went missing (an expired pod's deleted metadata then fails the read, expiry.ts);
 * `logId`: the log the read's first plan read (another one fails it, expiry.ts).
 */
export async function openPlan(
  store: Bucket,
  pod: string,
  loaded: PodMetadata | undefined,
  to: number | undefined,
  afterMissing = false,
  logId?: string,
): Promise<OpenPlan> {
  const metadata = loaded ?? (await loadReadableMetadata(store, pod, afterMissing, logId));
  const isMerged = mergedRawPredicate(metadata);
  // A read that ends within the merged files needs no listing.
  const seen: PrefixSeen = { anyKey: undefined };
  const listing =
    to !== undefined && to <= recordsIn(metadata.logFiles)
      ? noFiles()
      : listRawFilesInOrder(store, pod, undefined, seen);
  const raw = new ReadAhead(unmerged(listing, (file) => !isMerged(file)));
  // A piece file is planned whether it is listed or not (see planRead()): its key is all a read needs.
  const pieces = unfinishedRange(metadata).map((p) => unlistedRawFile(p.key));
  return {
    merged: metadata.logFiles,
    raw,
    unfinished: { lines: metadata.unfinishedLines, files: pieces },
    unreadable: metadata.unreadableObjects,
    logId: metadata.logId,
    // loadMetadata() gives EMPTY_METADATA itself for a pod without a document.
    nothingOfPod: () => metadata === EMPTY_METADATA && seen.anyKey === false,
  };
}

/**
 * Whether the bucket holds nothing of the pod (no metadata, no raw key of any container): what
 * a read that fetches no record (`tail: 0`) asks, from the metadata and the listing's first page.
 */
export async function holdsNothingOf(store: Bucket, pod: string): Promise<boolean> {
  const metadata = await loadReadableMetadata(store, pod);
  if (metadata !== EMPTY_METADATA) return false;
  const seen: PrefixSeen = { anyKey: undefined };
  for await (const _ of listRawFilesInOrder(store, pod, undefined, seen)) break;
  return seen.anyKey === false;
}

/** The batches of `listing` that `keep` leaves; the first, maybe empty, comes as the listing's does. */
async function* unmerged(
  listing: AsyncIterable<RawFile[]>,
  keep: (file: RawFile) => boolean,
): AsyncGenerator<readonly RawFile[]> {
  for await (const batch of listing) yield batch.filter(keep);
}

async function* noFiles(): AsyncGenerator<RawFile[]> {}

function unlistedRawFile(key: string): RawFile {
  const parsed = parseRawKey(key);
  // The metadata's decoder only admits raw keys of the pod's own container here.
  if (parsed === undefined) throw new MetadataError(key, 'unfinished_lines names a key that is not a raw file');
  return { ...parsed, size: 0, lastModified: new Date(0) };
}
