/**
 * `compactor inspect POD`: what the bucket says about one pod, for an engineer whose job's
 * log looks wrong. Read-only: GETs, one HEAD and LISTs, never a write, so it is safe to run
 * at any time, also while a pass works on the pod.
 *
 * How it reads: the metadata first, then the raw and merged listings (the order a pass
 * reads them in), then the cleanup-queue entry and the lease. Every judgement is the pass's
 * own, from the same functions: what is merged (pod-state.ts), what is due and when
 * (deletions.ts), whether a merge would run (decide.ts), whether the lease binds (lease.ts).
 * Without `--kube`: an unfinished line is judged by the quiet rule.
 */
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import {
  assertPodName,
  cleanupKey,
  compareRawKeys,
  formatIsoMicros,
  leaseKey,
  mergedPodPrefix,
  metadataKey,
  parseMergedKey,
  parseRawKey,
  rawPodPrefix,
  type PodMetadata,
} from '@platform/log-reader/layout';
import {
  isNotFound,
  listObjects,
  loadMetadata,
  type Bucket,
  type ListedObject,
  type LoadedMetadata,
  type RawFile,
} from '@platform/log-reader/s3';
import { PodNamespaceConflictError } from '@platform/log-reader';
import { defaultConfig, type Config } from '../config/config.js';
import { CompactorError, UnfinishedPiecesMissingError } from '../errors.js';
import { skipReason } from '../pass/decide.js';
import { assertListedFilesPresent, isDue, pendingDeletions } from '../pass/deletions.js';
import { isLeaseLive, readLease, type StoredLease } from '../store/lease.js';
import { podState, type PodState } from '../store/pod-state.js';
import type {
  LeaseInfo,
  MergedFileInfo,
  MetadataSummary,
  NextPass,
  OtherContainer,
  PendingDeletionInfo,
  PodInspection,
  UnfinishedLineInfo,
  UnreadableObjectInfo,
} from './inspection.js';

export interface InspectOptions {
  /** The instant due times, the lease and the compact interval are judged at. */
  readonly now: Date;
  /** As `run --cleanup-interval`: when what waits for deletion becomes due. Milliseconds. */
  readonly cleanupIntervalMs: number;
  /** As `run --compact-interval`: whether the next pass would merge the pod. Milliseconds; default 55 min. */
  readonly compactIntervalMs?: number;
  /** As `run --quiet-after`: when an unfinished line would be merged as it is. Milliseconds; default 1 h. */
  readonly quietAfterMs?: number;
  /** As `run --namespace`: only raw files of this namespace. Default: all. */
  readonly namespace?: string | undefined;
}

/** The pass's settings an inspection judges with: the given ones, else the pass's defaults. */
function judgingConfig(bucket: string, options: InspectOptions): Config {
  const d = defaultConfig(bucket);
  return {
    ...d,
    cleanupIntervalMs: options.cleanupIntervalMs,
    compactIntervalMs: options.compactIntervalMs ?? d.compactIntervalMs,
    quietAfterMs: options.quietAfterMs ?? d.quietAfterMs,
  };
}

/** Reads what the bucket holds for `pod` and judges it at `options.now`. GET, HEAD and LIST only. */
export async function inspectPod(store: Bucket, pod: string, options: InspectOptions): Promise<PodInspection> {
  assertPodName(pod);
  const now = options.now;
  const clock = (): Date => now;
  const config = judgingConfig(store.bucket, options);
  const { compactIntervalMs, quietAfterMs } = config;
  const read = await readPod(store, pod);
  const { loaded, rawListing, dataObjects, queued, lease } = read;
  const raw = ownRawFiles(rawListing, pod, options.namespace);
  const state = podState(pod, loaded, raw.own, dataObjects, clock);
  const meta = state.metadata;

  const problems = new Problems();
  if (raw.namespaces.size > 1) problems.add(new PodNamespaceConflictError(pod, [...raw.namespaces].sort()), true);
  try {
    assertListedFilesPresent(meta, dataObjects);
  } catch (error) {
    if (!(error instanceof CompactorError)) throw error;
    problems.add(error, true);
  }
  const mergedFiles = mergedFileInfos(meta, dataObjects);
  const unfinishedLines = unfinishedLineInfos(state);
  const pending = pendingDeletionInfos(meta, dataObjects, options.cleanupIntervalMs, now.getTime());

  // The pass's own decision; the merge phase only visits a pod that has raw files of its own.
  const skip = state.raw.length === 0 ? { reason: 'no raw files' } : await skipReason({ clock, config }, state);
  const merge = skip === undefined;
  // A merge needs the pieces (it fails without them); deleting what is due does not.
  for (const line of unfinishedLines) {
    for (const f of line.files) if (!f.present) problems.add(new UnfinishedPiecesMissingError(pod, f.key), merge);
  }

  const leaseInfo = leaseInfoOf(pod, lease, now.getTime());
  const dueNow = pending.filter((p) => p.due).length;
  return {
    pod,
    bucket: store.bucket,
    inspectedAt: now.toISOString(),
    cleanupIntervalMs: options.cleanupIntervalMs,
    compactIntervalMs,
    quietAfterMs,
    found:
      loaded.etag !== undefined ||
      rawListing.length > 0 ||
      dataObjects.length > 0 ||
      queued !== undefined ||
      lease !== undefined,
    namespace: options.namespace ?? null,
    namespaces: [...raw.namespaces].sort(),
    containerIds: containerIds(state, dataObjects),
    otherContainers: [...raw.others.values()],
    metadata: metadataSummary(pod, read),
    mergedFiles,
    mergedTotals: {
      files: mergedFiles.length,
      records: sum(mergedFiles, (f) => f.records),
      size: sum(mergedFiles, (f) => f.size),
      storedSize: sum(mergedFiles, (f) => f.storedSize ?? 0),
    },
    unmergedRawFiles: state.unmerged.map((f) => ({
      key: f.key,
      size: f.size,
      lastModified: f.lastModified.toISOString(),
    })),
    unmergedTotals: { files: state.unmerged.length, size: sum(state.unmerged, (f) => f.size) },
    unfinishedLines,
    unreadableObjects: unreadableInfos(meta, rawListing, dataObjects),
    pendingDeletions: pending,
    pendingTotals: {
      objects: pending.length,
      dueNow,
      heldForUnfinishedLines: pending.filter((p) => p.heldForUnfinishedLine).length,
    },
    cleanupQueue: { key: cleanupKey(pod), present: queued !== undefined, lastModified: queued?.toISOString() ?? null },
    lease: leaseInfo,
    nextPass: nextPassOf(problems.fails, leaseInfo.live, skip?.reason, state.unmerged.length, pending.length, dueNow),
    problems: problems.list,
  };
}

/** The objects the metadata records as unreadable, and whether each is still in the bucket. */
function unreadableInfos(
  meta: PodMetadata,
  rawListing: readonly ListedObject[],
  dataObjects: readonly ListedObject[],
): UnreadableObjectInfo[] {
  const listed = new Set([...rawListing, ...dataObjects].map((o) => o.key));
  return meta.unreadableObjects.map((u) => ({ ...u, present: listed.has(u.key) }));
}

/** What `inspect` reads, in the order a pass reads it. */
interface PodReads {
  readonly loaded: LoadedMetadata;
  readonly rawListing: readonly ListedObject[];
  readonly dataObjects: readonly ListedObject[];
  /** The cleanup-queue entry's LastModified; undefined when the pod is not queued. */
  readonly queued: Date | undefined;
  readonly lease: StoredLease | undefined;
}

async function readPod(store: Bucket, pod: string): Promise<PodReads> {
  // Metadata first, as a pass reads it: a raw file it does not cover is then still listed.
  const loaded = await loadMetadata(store, pod);
  const rawListing = await collect(listObjects(store, rawPodPrefix(pod)));
  const dataObjects = await collect(listObjects(store, mergedPodPrefix(pod)));
  const queued = await head(store, cleanupKey(pod));
  const lease = await readLease(store, pod);
  return { loaded, rawListing, dataObjects, queued, lease };
}

/**
 * The raw files of the pod's own container (of `namespace` if given, in raw-file order), its
 * namespaces, and its sidecars.
 */
function ownRawFiles(
  rawListing: readonly ListedObject[],
  pod: string,
  namespace: string | undefined,
): { own: RawFile[]; others: Map<string, OtherContainer>; namespaces: Set<string> } {
  const own: RawFile[] = [];
  const others = new Map<string, OtherContainer>();
  const namespaces = new Set<string>();
  for (const o of rawListing) {
    const raw = parseRawKey(o.key);
    if (raw === undefined || raw.pod !== pod) continue;
    if (raw.container !== pod) {
      const id = `${raw.namespace}/${raw.container}`;
      const seen = others.get(id);
      others.set(id, { namespace: raw.namespace, container: raw.container, rawFiles: (seen?.rawFiles ?? 0) + 1 });
      continue;
    }
    namespaces.add(raw.namespace);
    if (namespace === undefined || raw.namespace === namespace)
      own.push({ ...raw, size: o.size, lastModified: o.lastModified });
  }
  own.sort(compareRawKeys);
  return { own, others, namespaces };
}

/** The problems found, in order; `fails`: the first that fails the pass for the pod. */
class Problems {
  readonly list: { code: string; message: string }[] = [];
  fails: string | null = null;

  add(error: CompactorError | PodNamespaceConflictError, failsThePass: boolean): void {
    this.list.push({ code: error.code, message: error.message });
    if (failsThePass) this.fails ??= error.message;
  }
}

function mergedFileInfos(meta: PodMetadata, dataObjects: readonly ListedObject[]): MergedFileInfo[] {
  const stored = new Map(dataObjects.map((o) => [o.key, o.size]));
  return meta.logFiles.map((f): MergedFileInfo => ({
    key: f.key,
    records: f.recordsCount,
    size: f.size,
    storedSize: stored.get(f.key) ?? null,
    firstRecordTime: f.firstRecordTime,
    lastRecordTime: f.lastRecordTime,
  }));
}

function unfinishedLineInfos(state: PodState): UnfinishedLineInfo[] {
  const listedRaw = new Set(state.raw.map((f) => f.key));
  return state.metadata.unfinishedLines.map((u): UnfinishedLineInfo => ({
    stream: u.stream,
    key: u.key,
    line: u.line,
    files: u.files.map((f) => ({ key: f.key, line: f.line, present: listedRaw.has(f.key) })),
  }));
}

function pendingDeletionInfos(
  meta: PodMetadata,
  dataObjects: readonly ListedObject[],
  cleanupIntervalMs: number,
  nowMs: number,
): PendingDeletionInfo[] {
  return pendingDeletions(meta, dataObjects, cleanupIntervalMs).map((p): PendingDeletionInfo => ({
    key: p.key,
    kind: p.kind,
    since: p.since,
    dueAt: p.dueAt === undefined ? null : formatIsoMicros(p.dueAt, 'ceil'),
    due: isDue(p, nowMs),
    heldForUnfinishedLine: p.kind === 'merged-raw' && p.dueAt === undefined,
  }));
}

/** Container ids of the pod's own container, from raw and merged keys, in order of appearance. */
function containerIds(state: PodState, dataObjects: readonly ListedObject[]): string[] {
  const ids = new Set<string>();
  for (const f of state.raw) ids.add(f.containerId);
  for (const f of [...state.metadata.logFiles, ...dataObjects]) {
    const merged = parseMergedKey(f.key);
    if (merged !== undefined) ids.add(merged.containerId);
  }
  return [...ids];
}

function metadataSummary(pod: string, { loaded }: PodReads): MetadataSummary {
  const meta = loaded.metadata;
  return {
    key: metadataKey(pod),
    exists: loaded.etag !== undefined,
    writtenBy: loaded.etag === undefined ? null : meta.mergedRawFiles !== undefined ? 'compactor' : 'python-service',
    lastCompactionTime: meta.lastCompactionTime,
    lastMergedKey: meta.lastMergedKey,
    commitId: meta.commitId,
    etag: loaded.etag ?? null,
  };
}

function leaseInfoOf(pod: string, lease: StoredLease | undefined, nowMs: number): LeaseInfo {
  return {
    key: leaseKey(pod),
    present: lease !== undefined,
    holder: lease?.document?.holder ?? null,
    expiresAt: lease?.document?.expires_at ?? null,
    releasedAt: lease?.document?.released_at ?? null,
    live: lease?.document !== undefined && isLeaseLive(lease.document, nowMs),
  };
}

/** What a pass now would do: nothing when it `fails` the pod; `skipReason` undefined when it would merge. */
function nextPassOf(
  fails: string | null,
  busy: boolean,
  skipReason: string | undefined,
  unmerged: number,
  pending: number,
  dueNow: number,
): NextPass {
  const merge = skipReason === undefined;
  return {
    fails,
    busy,
    merge: fails === null && merge,
    mergeRawFiles: fails === null && merge ? unmerged : 0,
    mergeSkipReason: fails !== null ? 'the pass fails the pod' : (skipReason ?? null),
    deleteObjects: fails === null ? dueNow : 0,
    deleteLater: fails === null ? pending - dueNow : pending,
  };
}

async function collect(objects: AsyncIterable<ListedObject>): Promise<ListedObject[]> {
  const out: ListedObject[] = [];
  for await (const o of objects) out.push(o);
  return out;
}

/** An object's LastModified; `undefined` when it does not exist. */
async function head(store: Bucket, key: string): Promise<Date | undefined> {
  try {
    const response = await store.client.send(new HeadObjectCommand({ Bucket: store.bucket, Key: key }));
    return response.LastModified ?? new Date(0);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

function sum<T>(items: readonly T[], of: (item: T) => number): number {
  return items.reduce((total, item) => total + of(item), 0);
}
