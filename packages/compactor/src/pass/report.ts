/** What a pass did (or, in a dry run, would do) for each pod, and the totals of the pass. */

/**
 * `busy`: another compactor holds the pod's lease, so this one left it alone.
 * `expiring`: its log expired and is marked so (reads fail), deleted a cleanup interval later;
 * `expired`: its whole log was deleted (in a dry run: would expire).
 */
export type PodStatus = 'merged' | 'cleaned' | 'skipped' | 'busy' | 'failed' | 'expiring' | 'expired';

export interface PodReport {
  readonly pod: string;
  readonly phase: 'merge' | 'clean' | 'expire';
  readonly status: PodStatus;
  /** Why a pod was skipped or failed. */
  readonly reason?: string;
  readonly rawFilesRead: number;
  readonly rawFilesMerged: number;
  /**
   * Merged raw files kept after the commit because they hold pieces of a line whose last
   * piece has not arrived (metadata `unfinished_lines`); deleted once the line is finished.
   */
  readonly rawFilesHeldBack: number;
  readonly bytesRead: number;
  readonly recordsWritten: number;
  readonly mergedFilesWritten: number;
  readonly bytesWritten: number;
  readonly deletedRaw: number;
  readonly deletedMerged: number;
  readonly deletedOrphans: number;
  /** Lines that were not JSON, kept whole as messages. */
  readonly invalidLines: number;
  /** Retention: objects of the pod's expired log deleted (marked: to be deleted), its metadata included. */
  readonly expiredObjects: number;
  /** Retention: bytes of those objects, as listed (files the metadata names outside data/{pod}/ add none). */
  readonly expiredBytes: number;
  /** Objects found unreadable (whole but undecodable) and recorded by this pass (docs/design.md §8). */
  readonly unreadableObjects: number;
  /** Those objects, with their reasons. */
  readonly unreadable?: readonly { readonly key: string; readonly reason: string }[];
  /**
   * Set when an unfinished line was merged as it is, by the rule that said its rest cannot
   * arrive: the Kubernetes API (`--kube`: its container ended) or the quiet rule.
   */
  readonly endedBy?: 'kubernetes' | 'quiet';
  readonly durationMs: number;
}

export type PodCounts = Omit<
  PodReport,
  'pod' | 'phase' | 'status' | 'reason' | 'endedBy' | 'durationMs' | 'unreadable'
>;

export const ZERO_COUNTS: PodCounts = {
  rawFilesRead: 0,
  rawFilesMerged: 0,
  rawFilesHeldBack: 0,
  bytesRead: 0,
  recordsWritten: 0,
  mergedFilesWritten: 0,
  bytesWritten: 0,
  deletedRaw: 0,
  deletedMerged: 0,
  deletedOrphans: 0,
  invalidLines: 0,
  expiredObjects: 0,
  expiredBytes: 0,
  unreadableObjects: 0,
};

/** Raw objects of containers never merged (other-containers.ts), in the pass's scope. */
export interface OtherContainersSummary {
  /** Whether this pass ran the daily survey (daily-survey.ts); false: not listed, every count 0. */
  readonly surveyed: boolean;
  /** Directories (one per container id) of containers never merged, in the pass's scope. */
  readonly containers: number;
  /** Their raw objects and bytes as listed by the pass, expired ones included. */
  readonly objects: number;
  readonly bytes: number;
  /** Deleted by retention (in a dry run: that would be). */
  readonly expiredObjects: number;
  readonly expiredBytes: number;
  /** Directories whose listing or deletes failed (the pass then exits 1). */
  readonly failed: number;
}

export const NO_OTHER_CONTAINERS: OtherContainersSummary = {
  surveyed: false,
  containers: 0,
  objects: 0,
  bytes: 0,
  expiredObjects: 0,
  expiredBytes: 0,
  failed: 0,
};

export interface PassSummary {
  readonly dryRun: boolean;
  /**
   * False when nothing in the bucket looks like Fluent Bit's layout and nothing of the compactor
   * is in it (no-logs.ts): the pass did nothing and wrote nothing. Exit 0 all the same.
   */
  readonly bucketHasLogs: boolean;
  readonly pods: {
    readonly merged: number;
    readonly cleaned: number;
    readonly skipped: number;
    readonly busy: number;
    readonly failed: number;
    /** Retention: marked expired this pass (deleted a cleanup interval later). */
    readonly expiring: number;
    /** Retention: whole log deleted this pass (in a dry run: would be marked or deleted). */
    readonly expired: number;
  };
  readonly rawFilesRead: number;
  readonly rawFilesMerged: number;
  readonly mergedFilesWritten: number;
  readonly objectsDeleted: number;
  readonly bytesRead: number;
  readonly bytesWritten: number;
  /** Retention: objects and bytes of the logs deleted this pass (in a dry run: that would expire). */
  readonly expiredObjects: number;
  readonly expiredBytes: number;
  readonly failures: readonly { readonly pod: string; readonly error: string }[];
  /** Pods another compactor was working on, and who. */
  readonly busy: readonly { readonly pod: string; readonly reason: string }[];
  /** Raw objects of containers never merged (other-containers.ts), and what of them expired. */
  readonly otherContainers: OtherContainersSummary;
  /** Pods the orphan sweep gave back to the cleanup queue (orphan-sweep.ts); 0 in a pass that did not survey. */
  readonly orphanPodsQueued: number;
  /** Objects found unreadable by this pass (recorded in their pods' metadata; the pods did not fail). */
  readonly unreadableObjects: number;
  readonly unreadable: readonly { readonly pod: string; readonly key: string; readonly reason: string }[];
  readonly durationMs: number;
}

export function summarize(reports: readonly PodReport[], dryRun: boolean, durationMs: number): PassSummary {
  const count = (status: PodStatus): number => reports.filter((r) => r.status === status).length;
  const sum = (field: keyof PodCounts): number => reports.reduce((total, r) => total + r[field], 0);
  return {
    dryRun,
    bucketHasLogs: true,
    pods: {
      merged: count('merged'),
      cleaned: count('cleaned'),
      skipped: count('skipped'),
      busy: count('busy'),
      failed: count('failed'),
      expiring: count('expiring'),
      expired: count('expired'),
    },
    rawFilesRead: sum('rawFilesRead'),
    rawFilesMerged: sum('rawFilesMerged'),
    mergedFilesWritten: sum('mergedFilesWritten'),
    objectsDeleted: sum('deletedRaw') + sum('deletedMerged') + sum('deletedOrphans'),
    bytesRead: sum('bytesRead'),
    bytesWritten: sum('bytesWritten'),
    ...expiredTotals(reports),
    failures: reports
      .filter((r) => r.status === 'failed')
      .map((r) => ({ pod: r.pod, error: r.reason ?? 'unknown error' })),
    busy: reports
      .filter((r) => r.status === 'busy')
      .map((r) => ({ pod: r.pod, reason: r.reason ?? 'another compactor holds its lease' })),
    // Filled in by the pass (other-containers.ts, orphan-sweep.ts).
    otherContainers: NO_OTHER_CONTAINERS,
    orphanPodsQueued: 0,
    unreadableObjects: sum('unreadableObjects'),
    unreadable: reports.flatMap((r) => (r.unreadable ?? []).map((u) => ({ pod: r.pod, ...u }))),
    durationMs,
  };
}

/** Deleted by an expiry: only `expired` reports' counts (a mark deletes nothing yet). */
function expiredTotals(reports: readonly PodReport[]): Pick<PassSummary, 'expiredObjects' | 'expiredBytes'> {
  const gone = reports.filter((r) => r.status === 'expired');
  return {
    expiredObjects: gone.reduce((total, r) => total + r.expiredObjects, 0),
    expiredBytes: gone.reduce((total, r) => total + r.expiredBytes, 0),
  };
}

/** One line per pod for an engineer at a terminal (dry run). */
export function describeDryRun(report: PodReport): string {
  const what: string[] = [];
  const name = `${report.phase} ${report.pod}`;
  if (report.status === 'failed') return `${name}: FAILED: ${report.reason ?? ''}`;
  if (report.status === 'busy') return `${name}: left alone: ${report.reason ?? ''}`;
  if (report.status === 'expired')
    return `${name}: would expire: delete ${report.expiredObjects} object(s) (${formatBytes(report.expiredBytes)}), its whole log`;
  if (report.rawFilesMerged > 0) {
    what.push(
      `would merge ${report.rawFilesMerged} raw file(s) (${formatBytes(report.bytesRead)} read) into ${report.mergedFilesWritten} merged file(s) of ${report.recordsWritten} line(s)`,
    );
  }
  if (report.unreadableObjects > 0)
    what.push(`would record ${report.unreadableObjects} unreadable object(s) and merge around them`);
  if (report.rawFilesHeldBack > 0)
    what.push(`would keep ${report.rawFilesHeldBack} raw file(s) for the pieces of a line not finished yet`);
  if (report.endedBy !== undefined)
    what.push(
      `would merge an unfinished line as it is (${report.endedBy === 'kubernetes' ? 'its container ended, says the Kubernetes API' : 'the pod has been quiet for longer than --quiet-after'})`,
    );
  const deletes = report.deletedRaw + report.deletedMerged + report.deletedOrphans;
  if (deletes > 0) {
    what.push(
      `would delete ${deletes} object(s): ${report.deletedRaw} merged raw, ${report.deletedMerged} replaced merged, ${report.deletedOrphans} orphaned`,
    );
  }
  if (what.length === 0)
    what.push(report.status === 'skipped' ? `nothing to do (${report.reason ?? 'skipped'})` : 'nothing to do');
  return `${name}: ${what.join('; ')}`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}
