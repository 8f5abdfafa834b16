/**
 * The orphan sweep (docs/design.md §5, §8): every object the compactor writes under `data/` is
 * found again by a later pass, even for a pod nothing else gives work any more.
 *
 * A merge puts `cleanup/{pod}` before it writes, and a snapshot that sees an object no commit
 * lists keeps (or puts back) the entry, so a leftover is normally found by the clean phase. What
 * escapes that is a file landing after the last look at the pod: a compactor that stalled past
 * its lease finishing its write after the one that took over cleaned the pod and removed its
 * entry, or after retention deleted the pod's metadata. Such a file is newer than the pod's
 * last commit (a file a commit lists is written before that commit), or the pod has no
 * metadata at all. So the daily survey (daily-survey.ts: at most once a day, every dry run,
 * `--survey`) lists `data/` and `metadata/` once (a request per 1000 objects, whatever the number
 * of pods) and puts `cleanup/{pod}` back for such a pod when it is not in the queue: the clean
 * phase's snapshot then deletes the leftover by §5's rule once it is due (never a file a commit
 * lists; a fence write first). Most such files are found at once by the clean phase's re-check
 * (clean.ts leaveQueue) and the merge's requeue on a failed commit (merge.ts): the sweep is the
 * backstop, and a listing of every merged file of every pod kept is too dear to make every pass.
 * An idle pod costs nothing more: its files are older than its last commit.
 */
import { CLEANUP_PREFIX, isValidPodName, MERGED_PREFIX, parseCleanupKey } from '@platform/log-reader/layout';
import { listObjects, type Bucket } from '@platform/log-reader/s3';
import type { Logger } from '../logger.js';
import { listCommits, type CommitStamp } from '../store/commits.js';
import { putCleanupEntry } from '../store/pod-state.js';

/** What the pass lists once, before its clean phase: the queue, the pods given back to it, every commit. */
export interface BucketListing {
  /** The clean phase's pods: the queue as listed and the pods given back to it, in --pod and --shard. */
  readonly queue: readonly string[];
  /** Pods given back to the queue for objects under data/ that no commit lists. */
  readonly orphaned: readonly string[];
  /** Pods the sweep could not give back (each reported failed; the survey is then not stamped). */
  readonly sweepFailures: readonly SweepFailure[];
  /** Every pod's last commit (store/commits.ts). */
  readonly commits: ReadonlyMap<string, CommitStamp>;
  /** The queue as listed, before the clean phase. */
  readonly queued: ReadonlySet<string>;
}

export interface OrphanSweepOptions {
  readonly store: Bucket;
  /** Every pod's last commit, from one listing of `metadata/` (store/commits.ts). */
  readonly commits: ReadonlyMap<string, CommitStamp>;
  /** Pods of the cleanup queue as listed: they are found by the clean phase already. */
  readonly queued: ReadonlySet<string>;
  /** `--pod` and `--shard`: a pod outside them is another compactor's. */
  readonly selected: (pod: string) => boolean;
  /** A dry run puts no entry; the pods are still handed to the clean phase, which says what it would delete. */
  readonly dryRun: boolean;
}

/**
 * The clean phase's queue: the pods of `cleanup/` (one listing), then those the sweep gave back
 * to it, all narrowed by `selected`; `orphaned` are the latter.
 */
export async function cleanupQueue(
  options: Pick<OrphanSweepOptions, 'store' | 'selected' | 'dryRun'> & {
    readonly logger: Logger;
    /** The daily survey's pass: the orphan sweep runs (daily-survey.ts). */
    readonly sweep: boolean;
    /** Whether `metadata/` is listed when there is no sweep (the expire phase needs it). */
    readonly listCommits: boolean;
  },
): Promise<BucketListing> {
  const queued = new Set<string>();
  for await (const o of listObjects(options.store, CLEANUP_PREFIX)) {
    const pod = parseCleanupKey(o.key);
    if (pod !== undefined) queued.add(pod);
  }
  const commits =
    options.sweep || options.listCommits ? await listCommits(options.store) : new Map<string, CommitStamp>();
  const swept = options.sweep ? await sweepOrphans({ ...options, commits, queued }) : { found: [], failed: [] };
  const orphaned = swept.found;
  if (orphaned.length > 0)
    options.logger.info(
      `${options.dryRun ? 'would give pods back' : 'pods given back'} to the cleanup queue for objects no commit lists`,
      { pods: orphaned },
    );
  return {
    queue: [...queued, ...orphaned].filter(options.selected),
    orphaned,
    sweepFailures: swept.failed,
    commits,
    queued,
  };
}

/** A pod whose cleanup entry the sweep could not put back: that pod fails, not the pass. */
export interface SweepFailure {
  readonly pod: string;
  readonly reason: string;
}

/**
 * The pods given back to the cleanup queue (their entries put, unless a dry run), sorted, and
 * those whose entry could not be put (each its own failure: the other pods go on).
 */
export async function sweepOrphans(options: OrphanSweepOptions): Promise<{ found: string[]; failed: SweepFailure[] }> {
  const newest = await newestDataObjects(options.store);
  const late = podsWithLateObjects(newest, options.commits).filter(
    (pod) => !options.queued.has(pod) && options.selected(pod),
  );
  const found: string[] = [];
  const failed: SweepFailure[] = [];
  for (const pod of late) {
    try {
      if (!options.dryRun) await putCleanupEntry(options, pod);
      found.push(pod);
    } catch (error) {
      const reason = `putting cleanup/${pod} back for objects under data/ that no commit lists failed: ${error instanceof Error ? error.message : String(error)}`;
      failed.push({ pod, reason });
    }
  }
  return { found, failed };
}

/** The LastModified of each pod's newest object under `data/{pod}/` (ms), from one listing of `data/`. */
export async function newestDataObjects(store: Bucket): Promise<Map<string, number>> {
  const newest = new Map<string, number>();
  for await (const o of listObjects(store, MERGED_PREFIX)) {
    const pod = dataPod(o.key);
    if (pod === undefined) continue;
    newest.set(pod, Math.max(newest.get(pod) ?? 0, o.lastModified.getTime()));
  }
  return newest;
}

/**
 * Pods with an object under `data/{pod}/` newer than their last commit, or without metadata.
 * Strictly newer: a listing's LastModified may have a precision of a second, and a commit
 * stamped in the same second as the files it lists must not make an idle pod look orphaned
 * on every pass (a file landing in that second after the commit is found by the re-check of
 * the pass that removed the pod's entry, clean.ts).
 */
export function podsWithLateObjects(
  newest: ReadonlyMap<string, number>,
  commits: ReadonlyMap<string, CommitStamp>,
): string[] {
  const pods: string[] = [];
  for (const [pod, lastModified] of newest) {
    const commit = commits.get(pod);
    if (commit === undefined || lastModified > commit.lastModified.getTime()) pods.push(pod);
  }
  return pods.sort();
}

/** The pod of a key under `data/{pod}/` (this layout's or the Python service's); undefined otherwise. */
function dataPod(key: string): string | undefined {
  const rest = key.slice(MERGED_PREFIX.length);
  const slash = rest.indexOf('/');
  if (!key.startsWith(MERGED_PREFIX) || slash <= 0) return undefined;
  const pod = rest.slice(0, slash);
  return isValidPodName(pod) ? pod : undefined;
}
