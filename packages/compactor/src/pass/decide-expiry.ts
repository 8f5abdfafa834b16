/**
 * Retention's rules, pure (docs/design.md §8): when a pod's whole log has expired. The pass
 * (expire.ts) reads what they need and acts on the answer; the unit tests ask them directly.
 *
 * A pod's log expires when nothing of it is newer than the retention. Its newest trace is the
 * latest of:
 *   - its record times: an exact range's `last_record_time`; an entry without one (the Python
 *     service's: the first and last records it *wrote*) gives the later of its two times, and
 *     the commit that merged it bounds the rest (a record is logged before its raw file is
 *     uploaded, which is before the commit that merges it);
 *   - its raw uploads: the LastModified of every raw object of every container of the pod;
 *   - its commits: `last_compaction_time`, the times its pending lists were stamped with, and
 *     the metadata's LastModified — except once marked: the mark is itself a write, and only a
 *     merge (which removes the mark) is new activity after it;
 *   - every object under `data/{pod}/` (a file a stalled compactor landed late, say).
 * A pod with raw files of its own container not merged yet never expires: the merge runs first.
 */
import { formatIsoMicros, parseTime, toEpochNs, type EpochNs, type PodMetadata } from '@platform/log-reader/layout';

/** What deciding a pod's expiry looks at (a snapshot: metadata first, then the listings). */
export interface ExpirySnapshot {
  readonly metadata: PodMetadata;
  /** The metadata's LastModified; undefined when there is none. */
  readonly metadataModified: Date | undefined;
  /** Every raw object of every container of the pod. */
  readonly raw: readonly { readonly key: string; readonly lastModified: Date }[];
  /** Raw files of the pod's own container that no commit merged. */
  readonly unmerged: number;
  /** Objects under `data/{pod}/`. */
  readonly dataObjects: readonly { readonly key: string; readonly lastModified: Date }[];
}

export interface Trace {
  readonly at: EpochNs;
  /** What it is, for the log and the report: "raw upload kube.…", "record time", "commit". */
  readonly what: string;
}

export type ExpiryDecision =
  { readonly expired: true; readonly newest: Trace | undefined } | { readonly expired: false; readonly reason: string };

const NS_PER_MS = 1_000_000n;

/** The pod's newest trace (see the module comment); undefined when it has none at all. */
export function newestTrace(snapshot: ExpirySnapshot): Trace | undefined {
  const { metadata } = snapshot;
  let newest: Trace | undefined;
  const consider = (at: EpochNs | undefined, what: string): void => {
    if (at !== undefined && (newest === undefined || at > newest.at)) newest = { at, what };
  };
  const time = (iso: string | null, what: string): void => consider(iso === null ? undefined : parseTime(iso), what);
  for (const f of metadata.logFiles) {
    time(f.lastRecordTime, `record time in ${f.key}`);
    if (f.exactRange !== true) time(f.firstRecordTime, `record time in ${f.key}`);
  }
  time(metadata.lastCompactionTime, 'commit (last_compaction_time)');
  for (const p of [...(metadata.mergedRawFiles ?? []), ...metadata.retiredFiles]) time(p.since, `commit of ${p.key}`);
  if (metadata.expiredAt === undefined && snapshot.metadataModified !== undefined)
    consider(toEpochNs(snapshot.metadataModified), 'metadata write');
  for (const o of snapshot.raw) consider(toEpochNs(o.lastModified), `raw upload ${o.key}`);
  for (const o of snapshot.dataObjects) consider(toEpochNs(o.lastModified), `object ${o.key}`);
  return newest;
}

/** Whether the pod's log has expired at `nowMs` with `retentionMs`. */
export function decideExpiry(snapshot: ExpirySnapshot, nowMs: number, retentionMs: number): ExpiryDecision {
  if (snapshot.unmerged > 0)
    return { expired: false, reason: `${snapshot.unmerged} raw file(s) not merged yet (a job still writing)` };
  const newest = newestTrace(snapshot);
  const limit = toEpochNs(new Date(nowMs)) - BigInt(Math.round(retentionMs)) * NS_PER_MS;
  if (newest === undefined || newest.at <= limit) return { expired: true, newest };
  return {
    expired: false,
    reason: `newer than the retention: ${newest.what} at ${formatIsoMicros(newest.at, 'floor')}`,
  };
}

/**
 * A marked pod's objects go once the cleanup interval has passed since the mark, so that
 * reads that planned on them before the mark can finish (docs/design.md §5's rule for deletes).
 */
export function markDue(metadata: PodMetadata, nowMs: number, cleanupIntervalMs: number): boolean {
  const marked = metadata.expiredAt === undefined ? undefined : parseTime(metadata.expiredAt);
  return (
    marked !== undefined && marked + BigInt(Math.round(cleanupIntervalMs)) * NS_PER_MS <= toEpochNs(new Date(nowMs))
  );
}

/**
 * Which pods of the metadata listing are worth a look: a pod whose last commit (its metadata's
 * LastModified) is newer than the retention cannot have expired, and costs nothing more. A pod
 * marked expired is found by its queue entry (the mark is a write, so its LastModified is new):
 * one still queued once the cleanup interval has passed since its last write.
 */
export function isCandidate(
  lastCommit: Date,
  queued: boolean,
  nowMs: number,
  config: { readonly retentionMs: number; readonly cleanupIntervalMs: number },
): boolean {
  const age = nowMs - lastCommit.getTime();
  return age >= config.retentionMs || (queued && age >= config.cleanupIntervalMs);
}

/** The metadata without the expiry mark: the log is kept again (new activity, or a merge). */
export function withoutExpiryMark(metadata: PodMetadata): PodMetadata {
  if (metadata.expiredAt === undefined) return metadata;
  const kept: { -readonly [K in keyof PodMetadata]: PodMetadata[K] } = { ...metadata };
  delete kept.expiredAt;
  return kept;
}
