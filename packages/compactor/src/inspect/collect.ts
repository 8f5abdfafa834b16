/**
 * `compactor inspect POD`: what the bucket says about one pod, for an engineer whose job's
 * log looks wrong. Read-only: GETs, one HEAD and LISTs, never a write, so it is safe to run
 * at any time, also while a pass works on the pod.
 *
 * How it reads: the metadata first, then the raw and merged listings (the order a pass
 * reads them in), then the cleanup-queue entry and the lease. Every judgement is the pass's
 * own, from the same functions: what is merged (pod-state.ts), what is due and when
 * (deletions.ts), whether a merge would run (merge.ts), whether the lease binds (lease.ts).
 * Without `--kube`: an unfinished line is judged by the quiet rule.
 */
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import {
  assertPodName,
  cleanupKey,
  compareRawKeys,
  formatIsoMicros,
  isNotFound,
  leaseKey,
  listObjects,
  loadMetadata,
  mergedPodPrefix,
  metadataKey,
  parseMergedKey,
  parseRawKey,
  PodNamespaceConflictError,
  rawPodPrefix,
  type Bucket,
  type ListedObject,
  type RawFile,
  type Stream,
} from '@platform/log-reader';
import { defaultConfig } from '../config/config.js';
import { assertListedFilesPresent, isDue, pendingDeletions, type PendingKind } from '../pass/deletions.js';
import { CompactorError, UnfinishedPiecesMissingError } from '../errors.js';
import { isLeaseLive, readLease } from '../store/lease.js';
import { skipReason } from '../pass/decide.js';
import { podState } from '../store/pod-state.js';
import { formatBytes } from '../pass/report.js';

export interface InspectOptions {
  /** The instant due times, the lease and the compact interval are judged at. */
  readonly now: Date;
  /** As `run --cleanup-interval`: when what waits for deletion becomes due. Milliseconds. */
  readonly cleanupIntervalMs: number;
  /** As `run --compact-interval`: whether the next pass would merge the pod. Milliseconds; default 55 min. */
  readonly compactIntervalMs?: number;
  /** As `run --namespace`: only raw files of this namespace. Default: all. */
  readonly namespace?: string | undefined;
}

/** Everything `compactor inspect` shows; `--json` prints it as it is (field names are stable). */
export interface PodInspection {
  readonly pod: string;
  readonly bucket: string;
  /** ISO 8601: the instant everything below was judged at. */
  readonly inspectedAt: string;
  readonly cleanupIntervalMs: number;
  readonly compactIntervalMs: number;
  /** False when the bucket holds no object of the pod at all (exit 1 in the CLI). */
  readonly found: boolean;
  /** The `--namespace` given; `null` for all. */
  readonly namespace: string | null;
  /** Namespaces of the raw files of the pod's own container (more than one: the pass fails the pod). */
  readonly namespaces: readonly string[];
  /** Container ids of the pod's own container, from raw and merged keys, in order of appearance. */
  readonly containerIds: readonly string[];
  /** Raw files of other containers of the pod (sidecars): never read, merged or deleted. */
  readonly otherContainers: readonly OtherContainer[];
  readonly metadata: MetadataSummary;
  /** The merged files the metadata lists, in log order. */
  readonly mergedFiles: readonly MergedFileInfo[];
  readonly mergedTotals: { readonly files: number; readonly records: number; readonly size: number; readonly storedSize: number };
  /** Raw files of the pod's own container that no commit has merged, in raw-file order. */
  readonly unmergedRawFiles: readonly RawFileInfo[];
  readonly unmergedTotals: { readonly files: number; readonly size: number };
  /** Lines whose last piece has not arrived; their files are kept until the line ends. */
  readonly unfinishedLines: readonly UnfinishedLineInfo[];
  /** Objects waiting for deletion, with when they are due. */
  readonly pendingDeletions: readonly PendingDeletionInfo[];
  readonly pendingTotals: { readonly objects: number; readonly dueNow: number; readonly heldForUnfinishedLines: number };
  readonly cleanupQueue: { readonly key: string; readonly present: boolean; readonly lastModified: string | null };
  readonly lease: LeaseInfo;
  readonly nextPass: NextPass;
  /** What stops the pass from working on the pod, or looks wrong: `code` as the pass's errors. */
  readonly problems: readonly { readonly code: string; readonly message: string }[];
}

export interface OtherContainer {
  readonly namespace: string;
  readonly container: string;
  readonly rawFiles: number;
}

export interface MetadataSummary {
  readonly key: string;
  readonly exists: boolean;
  /** `python-service` for a document without `merged_raw_files` (merged = up to `last_merged_key`). */
  readonly writtenBy: 'compactor' | 'python-service' | null;
  readonly lastCompactionTime: string | null;
  readonly lastMergedKey: string | null;
  readonly commitId: string | null;
  readonly etag: string | null;
}

export interface MergedFileInfo {
  readonly key: string;
  readonly records: number;
  /** NDJSON bytes before compression, as the metadata says. */
  readonly size: number;
  /** Bytes stored (compressed), from the listing; `null` when the file is not under `data/{pod}/`. */
  readonly storedSize: number | null;
  readonly firstRecordTime: string;
  readonly lastRecordTime: string;
}

export interface RawFileInfo {
  readonly key: string;
  readonly size: number;
  /** ISO 8601, as listed (whole seconds on most stores). */
  readonly lastModified: string;
}

export interface UnfinishedLineInfo {
  readonly stream: Stream;
  /** The raw file holding the line's first piece, and its line there (from 1). */
  readonly key: string;
  readonly line: number;
  /** Every raw file holding pieces, from which line on; `present` false: gone from the bucket. */
  readonly files: readonly { readonly key: string; readonly line: number; readonly present: boolean }[];
}

export interface PendingDeletionInfo {
  readonly key: string;
  /** `merged-raw`: merged by a commit; `retired`: a merged file a commit stopped listing; `orphan`: no commit lists it. */
  readonly kind: PendingKind;
  /** What the wait counts from: the commit (`committed_at`, `retired_at`) or an orphan's LastModified. */
  readonly since: string;
  /** `since` plus the cleanup interval (ISO 8601); `null` while it holds pieces of an unfinished line. */
  readonly dueAt: string | null;
  readonly due: boolean;
  readonly heldForUnfinishedLine: boolean;
}

export interface LeaseInfo {
  readonly key: string;
  readonly present: boolean;
  /** `null` when absent or unreadable. */
  readonly holder: string | null;
  readonly expiresAt: string | null;
  /** True while it binds: a pass now would leave the pod alone (`busy`). */
  readonly live: boolean;
}

/** What a pass started now would do for the pod (without `--kube`). */
export interface NextPass {
  /** Why it would fail the pod (nothing merged or deleted); `null` when it would not. */
  readonly fails: string | null;
  /** Another compactor holds the pod's lease: a pass now would leave the pod alone. */
  readonly busy: boolean;
  readonly merge: boolean;
  readonly mergeRawFiles: number;
  /** Why it would not merge; `null` when it would. */
  readonly mergeSkipReason: string | null;
  /** Objects due now: the pass deletes them when it works on the pod (a merge, or the cleanup queue). */
  readonly deleteObjects: number;
  /** Objects waiting that are not due yet. */
  readonly deleteLater: number;
}

/** Reads what the bucket holds for `pod` and judges it at `options.now`. GET, HEAD and LIST only. */
export async function inspectPod(store: Bucket, pod: string, options: InspectOptions): Promise<PodInspection> {
  assertPodName(pod);
  const now = options.now;
  const clock = (): Date => now;
  const compactIntervalMs = options.compactIntervalMs ?? defaultConfig('').compactIntervalMs;
  const problems: { code: string; message: string }[] = [];

  // Metadata first, as a pass reads it: a raw file it does not cover is then still listed.
  const loaded = await loadMetadata(store, pod);
  const rawListing = await collect(listObjects(store, rawPodPrefix(pod)));
  const dataObjects = await collect(listObjects(store, mergedPodPrefix(pod)));
  const queued = await head(store, cleanupKey(pod));
  const lease = await readLease(store, pod);

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
    if (options.namespace === undefined || raw.namespace === options.namespace) own.push({ ...raw, size: o.size, lastModified: o.lastModified });
  }
  own.sort(compareRawKeys);
  const state = podState(pod, loaded, own, dataObjects, clock);
  const meta = state.metadata;

  let fails: string | null = null;
  const problem = (error: CompactorError | PodNamespaceConflictError, failsThePass: boolean): void => {
    problems.push({ code: error.code, message: error.message });
    if (failsThePass) fails ??= error.message;
  };
  if (namespaces.size > 1) problem(new PodNamespaceConflictError(pod, [...namespaces].sort()), true);
  try {
    assertListedFilesPresent(meta, dataObjects);
  } catch (error) {
    if (!(error instanceof CompactorError)) throw error;
    problem(error, true);
  }

  const stored = new Map(dataObjects.map((o) => [o.key, o.size]));
  const mergedFiles = meta.logFiles.map(
    (f): MergedFileInfo => ({
      key: f.key,
      records: f.recordsCount,
      size: f.size,
      storedSize: stored.get(f.key) ?? null,
      firstRecordTime: f.firstRecordTime,
      lastRecordTime: f.lastRecordTime,
    }),
  );

  const listedRaw = new Set(state.raw.map((f) => f.key));
  const unfinishedLines = meta.unfinishedLines.map(
    (u): UnfinishedLineInfo => ({ stream: u.stream, key: u.key, line: u.line, files: u.files.map((f) => ({ key: f.key, line: f.line, present: listedRaw.has(f.key) })) }),
  );
  const missingPieces = unfinishedLines.flatMap((u) => u.files.filter((f) => !f.present).map((f) => f.key));

  const nowMs = now.getTime();
  const pending = pendingDeletions(meta, dataObjects, options.cleanupIntervalMs).map(
    (p): PendingDeletionInfo => ({
      key: p.key,
      kind: p.kind,
      since: p.since,
      dueAt: p.dueAt === undefined ? null : formatIsoMicros(p.dueAt, 'ceil'),
      due: isDue(p, nowMs),
      heldForUnfinishedLine: p.kind === 'merged-raw' && p.dueAt === undefined,
    }),
  );
  const dueNow = pending.filter((p) => p.due).length;

  // The pass's own decision; the merge phase only visits a pod that has raw files of its own.
  const config = { ...defaultConfig(store.bucket), cleanupIntervalMs: options.cleanupIntervalMs, compactIntervalMs };
  const skip = state.raw.length === 0 ? { reason: 'no raw files' } : await skipReason({ clock, config }, state);
  const merge = skip === undefined;
  // A merge needs the pieces (it fails without them); deleting what is due does not.
  for (const key of missingPieces) problem(new UnfinishedPiecesMissingError(pod, key), merge);

  const containerIds = new Set<string>();
  for (const f of state.raw) containerIds.add(f.containerId);
  for (const f of [...meta.logFiles, ...dataObjects]) {
    const merged = parseMergedKey(f.key);
    if (merged !== undefined) containerIds.add(merged.containerId);
  }

  const inspection: PodInspection = {
    pod,
    bucket: store.bucket,
    inspectedAt: now.toISOString(),
    cleanupIntervalMs: options.cleanupIntervalMs,
    compactIntervalMs,
    found: loaded.etag !== undefined || rawListing.length > 0 || dataObjects.length > 0 || queued !== undefined || lease !== undefined,
    namespace: options.namespace ?? null,
    namespaces: [...namespaces].sort(),
    containerIds: [...containerIds],
    otherContainers: [...others.values()],
    metadata: {
      key: metadataKey(pod),
      exists: loaded.etag !== undefined,
      writtenBy: loaded.etag === undefined ? null : loaded.metadata.mergedRawFiles !== undefined ? 'compactor' : 'python-service',
      lastCompactionTime: meta.lastCompactionTime,
      lastMergedKey: meta.lastMergedKey,
      commitId: meta.commitId,
      etag: loaded.etag ?? null,
    },
    mergedFiles,
    mergedTotals: {
      files: mergedFiles.length,
      records: sum(mergedFiles, (f) => f.records),
      size: sum(mergedFiles, (f) => f.size),
      storedSize: sum(mergedFiles, (f) => f.storedSize ?? 0),
    },
    unmergedRawFiles: state.unmerged.map((f) => ({ key: f.key, size: f.size, lastModified: f.lastModified.toISOString() })),
    unmergedTotals: { files: state.unmerged.length, size: sum(state.unmerged, (f) => f.size) },
    unfinishedLines,
    pendingDeletions: pending,
    pendingTotals: { objects: pending.length, dueNow, heldForUnfinishedLines: pending.filter((p) => p.heldForUnfinishedLine).length },
    cleanupQueue: { key: cleanupKey(pod), present: queued !== undefined, lastModified: queued?.toISOString() ?? null },
    lease: {
      key: leaseKey(pod),
      present: lease !== undefined,
      holder: lease?.document?.holder ?? null,
      expiresAt: lease?.document?.expires_at ?? null,
      live: lease?.document !== undefined && isLeaseLive(lease.document, nowMs),
    },
    nextPass: {
      fails,
      busy: lease?.document !== undefined && isLeaseLive(lease.document, nowMs),
      merge: fails === null && merge,
      mergeRawFiles: fails === null && merge ? state.unmerged.length : 0,
      mergeSkipReason: fails !== null ? 'the pass fails the pod' : (skip?.reason ?? null),
      deleteObjects: fails === null ? dueNow : 0,
      deleteLater: fails === null ? pending.length - dueNow : pending.length,
    },
    problems,
  };
  return inspection;
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

// ---- Text -------------------------------------------------------------------------------

const KIND_LABEL: Record<PendingKind, string> = { 'merged-raw': 'merged raw', retired: 'retired', orphan: 'orphan' };

/** The inspection as text for a terminal: one section per question, columns aligned, times ISO with "in 12m" / "5m ago". */
export function formatInspection(i: PodInspection): string {
  const nowMs = Date.parse(i.inspectedAt);
  const at = (iso: string | null): string => {
    const ms = iso === null ? Number.NaN : Date.parse(iso);
    return Number.isNaN(ms) ? (iso ?? '-') : `${new Date(ms).toISOString()} (${relative(ms, nowMs)})`;
  };
  const out: string[] = [];
  const section = (label: string, summary: string, rows: readonly (readonly string[])[] = []): void => {
    out.push(`${label.padEnd(LABEL_WIDTH)}${summary}`);
    for (const line of table(rows)) out.push(`  ${line}`);
  };

  const where = [`bucket ${i.bucket}`, i.namespaces.length > 0 ? `namespace ${i.namespaces.join(', ')}` : 'no raw files', `container ${i.containerIds.join(', ') || '-'}`];
  out.push(`pod ${i.pod}: ${where.join(', ')}${i.namespace === null ? '' : ` (raw files of namespace ${i.namespace} only)`}`);
  out.push(`judged at ${i.inspectedAt} with cleanup interval ${duration(i.cleanupIntervalMs)}, compact interval ${duration(i.compactIntervalMs)}`);
  out.push('');

  const m = i.metadata;
  if (!m.exists) section('metadata', `${m.key}: none (never merged)`);
  else {
    section('metadata', `${m.key}, written by the ${m.writtenBy === 'compactor' ? 'compactor' : 'Python service'}`, [
      ['last compaction', at(m.lastCompactionTime)],
      ['last merged key', m.lastMergedKey ?? '-'],
      ['commit id', m.commitId ?? '-'],
    ]);
  }

  const t = i.mergedTotals;
  section(
    'merged files',
    t.files === 0 ? 'none' : `${t.files} file(s), ${t.records} record(s), ${formatBytes(t.size)} NDJSON, ${formatBytes(t.storedSize)} stored`,
    t.files === 0
      ? []
      : [['KEY', 'RECORDS', 'NDJSON', 'STORED', 'FIRST RECORD', 'LAST RECORD'], ...i.mergedFiles.map((f) => [
          f.key,
          String(f.records),
          formatBytes(f.size),
          f.storedSize === null ? 'MISSING' : formatBytes(f.storedSize),
          f.firstRecordTime,
          f.lastRecordTime,
        ])],
  );

  const u = i.unmergedTotals;
  section(
    'not merged yet',
    u.files === 0 ? 'no raw files' : `${u.files} raw file(s), ${formatBytes(u.size)}`,
    i.unmergedRawFiles.map((f) => [f.key, formatBytes(f.size), `uploaded ${at(f.lastModified)}`]),
  );

  section(
    'unfinished lines',
    i.unfinishedLines.length === 0 ? 'none' : `${i.unfinishedLines.length}, their raw files kept until the line ends`,
    i.unfinishedLines.flatMap((l) => [
      [l.stream, `starts at line ${l.line} of ${l.key}; pieces in ${l.files.length} file(s):`],
      ...l.files.map((f) => ['', `${f.key} from line ${f.line}${f.present ? '' : ': MISSING from the bucket'}`]),
    ]),
  );

  const p = i.pendingTotals;
  section(
    'pending deletions',
    p.objects === 0 ? 'none' : `${p.objects} object(s), ${p.dueNow} due now${p.heldForUnfinishedLines > 0 ? `, ${p.heldForUnfinishedLines} kept for unfinished lines` : ''}`,
    i.pendingDeletions.map((d) => [
      KIND_LABEL[d.kind],
      d.key,
      d.heldForUnfinishedLine ? 'kept: holds pieces of an unfinished line' : d.dueAt === null ? 'never: its time cannot be read' : `${d.due ? 'due since' : 'due at'} ${at(d.dueAt)}`,
    ]),
  );

  const q = i.cleanupQueue;
  section('cleanup queue', q.present ? `${q.key} present since ${at(q.lastModified)}` : `${q.key} absent`);

  const l = i.lease;
  section(
    'lease',
    !l.present
      ? 'none (no compactor is working on the pod)'
      : l.holder === null
        ? `${l.key} unreadable: the next pass takes it over`
        : `${l.live ? 'held' : 'expired, was held'} by ${l.holder} until ${at(l.expiresAt)}`,
  );

  section('next pass', describeNextPass(i));
  if (i.otherContainers.length > 0) {
    section('other containers', 'raw files never read, merged or deleted', i.otherContainers.map((c) => [`${c.namespace}/${c.container}`, `${c.rawFiles} raw file(s)`]));
  }
  if (i.problems.length > 0) section('problems', String(i.problems.length), i.problems.map((x) => [x.code, x.message]));
  if (!i.found) out.push('', `no objects for pod ${i.pod} in bucket ${i.bucket}`);
  return `${out.join('\n')}\n`;
}

const LABEL_WIDTH = 'pending deletions  '.length;

function describeNextPass(i: PodInspection): string {
  const n = i.nextPass;
  if (n.fails !== null) return `would fail the pod, nothing merged or deleted: ${n.fails}`;
  const what: string[] = [];
  if (!n.merge) what.push(`no merge (${n.mergeSkipReason ?? 'nothing to merge'})`);
  else if (n.mergeRawFiles > 0) what.push(`would merge ${n.mergeRawFiles} raw file(s)`);
  else what.push('would merge the unfinished line(s) as they are (quiet for longer than the cleanup interval)');
  if (n.deleteObjects > 0) what.push(`would delete ${n.deleteObjects} object(s) due now`);
  if (n.deleteLater > 0) what.push(`${n.deleteLater} object(s) wait for deletion, not due yet`);
  if (n.busy) what.push(`not before ${i.lease.holder ?? 'another compactor'}'s lease ends: a pass now leaves the pod alone`);
  return what.join('; ');
}

/** Rows padded into columns (the last column unpadded). */
function table(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, c) => (widths[c] = Math.max(widths[c] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd(widths[c] ?? 0))).join('  ').trimEnd());
}

/** `in 12m`, `5m ago`, `now`: whole units, rounded down. */
export function relative(atMs: number, nowMs: number): string {
  const delta = atMs - nowMs;
  if (Math.abs(delta) < 1000) return 'now';
  return delta > 0 ? `in ${duration(delta)}` : `${duration(-delta)} ago`;
}

/** `45s`, `12m`, `1h30m`, `3d4h`: at most two units, rounded down. */
export function duration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return ms > 0 && s === 0 ? `${ms}ms` : `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  const d = Math.floor(h / 24);
  return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
}
