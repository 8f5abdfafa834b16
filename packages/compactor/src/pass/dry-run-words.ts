/**
 * A dry run says what it would do, in its JSON too: its summary line and its log lines name
 * the counts of what a real pass does (`objectsDeleted`, `"status":"cleaned"`) by what it would
 * do (`objectsToDelete`, `"status":"wouldClean"`). A real run's JSON keeps its names: the
 * Pushgateway metrics and every consumer of the summary read them.
 */
import type { PodReport } from './report.js';

/** A real pass's field name → its dry-run name, at any depth of the summary or a pod's log line. */
const DRY_RUN_FIELDS: Readonly<Record<string, string>> = {
  // PassSummary.pods
  merged: 'wouldMerge',
  cleaned: 'wouldClean',
  expiring: 'wouldMarkExpiring',
  expired: 'wouldExpire',
  // PassSummary and OtherContainersSummary
  rawFilesMerged: 'rawFilesToMerge',
  mergedFilesWritten: 'mergedFilesToWrite',
  objectsDeleted: 'objectsToDelete',
  bytesWritten: 'bytesToWrite',
  expiredObjects: 'objectsToExpire',
  expiredBytes: 'bytesToExpire',
  orphanPodsQueued: 'orphanPodsToQueue',
  // PodReport
  recordsWritten: 'recordsToWrite',
  deletedRaw: 'rawToDelete',
  deletedMerged: 'mergedToDelete',
  deletedOrphans: 'orphansToDelete',
};

/** A pod's status → its dry-run status and log message; statuses not listed read the same in both. */
const DRY_RUN_STATUS: Readonly<Partial<Record<PodReport['status'], { status: string; message: string }>>> = {
  merged: { status: 'wouldMerge', message: 'would merge pod' },
  cleaned: { status: 'wouldClean', message: 'would clean pod' },
  expiring: { status: 'wouldMarkExpiring', message: 'would mark pod expiring' },
  expired: { status: 'wouldExpire', message: 'would expire pod' },
};

/** `value` (a summary, a pod's report) with a dry run's field names and statuses; a real run's is left as it is. */
export function inDryRunWords(value: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    const renamed = DRY_RUN_FIELDS[key] ?? key;
    if (key === 'status' && typeof field === 'string')
      out[key] = DRY_RUN_STATUS[field as PodReport['status']]?.status ?? field;
    else if (field !== null && typeof field === 'object' && !Array.isArray(field))
      out[renamed] = inDryRunWords(field as object);
    else out[renamed] = field;
  }
  return out;
}

/** The log message of a pod's report: `pod cleaned`, or in a dry run `would clean pod`. */
export function reportMessage(report: PodReport, dryRun: boolean): string {
  return (dryRun ? DRY_RUN_STATUS[report.status]?.message : undefined) ?? `pod ${report.status}`;
}
