/** What a pass did (or, in a dry run, would do) for each pod, and the totals of the pass. */

/** `busy`: another compactor holds the pod's lease, so this one left it alone. */
export type PodStatus = 'merged' | 'cleaned' | 'skipped' | 'busy' | 'failed';

export interface PodReport {
  readonly pod: string;
  readonly phase: 'merge' | 'clean';
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
  unreadableObjects: 0,
};

export interface PassSummary {
  readonly dryRun: boolean;
  readonly pods: {
    readonly merged: number;
    readonly cleaned: number;
    readonly skipped: number;
    readonly busy: number;
    readonly failed: number;
  };
  readonly rawFilesRead: number;
  readonly rawFilesMerged: number;
  readonly mergedFilesWritten: number;
  readonly objectsDeleted: number;
  readonly bytesRead: number;
  readonly bytesWritten: number;
  readonly failures: readonly { readonly pod: string; readonly error: string }[];
  /** Pods another compactor was working on, and who. */
  readonly busy: readonly { readonly pod: string; readonly reason: string }[];
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
    pods: {
      merged: count('merged'),
      cleaned: count('cleaned'),
      skipped: count('skipped'),
      busy: count('busy'),
      failed: count('failed'),
    },
    rawFilesRead: sum('rawFilesRead'),
    rawFilesMerged: sum('rawFilesMerged'),
    mergedFilesWritten: sum('mergedFilesWritten'),
    objectsDeleted: sum('deletedRaw') + sum('deletedMerged') + sum('deletedOrphans'),
    bytesRead: sum('bytesRead'),
    bytesWritten: sum('bytesWritten'),
    failures: reports
      .filter((r) => r.status === 'failed')
      .map((r) => ({ pod: r.pod, error: r.reason ?? 'unknown error' })),
    busy: reports
      .filter((r) => r.status === 'busy')
      .map((r) => ({ pod: r.pod, reason: r.reason ?? 'another compactor holds its lease' })),
    unreadableObjects: sum('unreadableObjects'),
    unreadable: reports.flatMap((r) => (r.unreadable ?? []).map((u) => ({ pod: r.pod, ...u }))),
    durationMs,
  };
}

/** One line per pod for an engineer at a terminal (dry run). */
export function describeDryRun(report: PodReport): string {
  const what: string[] = [];
  const name = `${report.phase} ${report.pod}`;
  if (report.status === 'failed') return `${name}: FAILED: ${report.reason ?? ''}`;
  if (report.status === 'busy') return `${name}: left alone: ${report.reason ?? ''}`;
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
      `would merge an unfinished line as it is (${report.endedBy === 'kubernetes' ? 'its container ended, says the Kubernetes API' : 'the pod has been quiet for longer than the cleanup interval'})`,
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
