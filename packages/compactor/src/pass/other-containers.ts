/**
 * Raw "directories" of containers the compactor never merges: a container not named like its
 * pod (a job's sidecar, a Deployment's or a system pod's container). Nobody reads them, so the
 * pass reports what they hold, and with `--retention` deletes their raw objects once their own
 * upload time (LastModified) is older than the retention: they are not ours to merge, so their
 * upload time is the only thing that may expire them (docs/design.md §8, docs/operations.md).
 *
 * Each such directory is listed in full (a request per 1000 objects), so only by the daily survey
 * (daily-survey.ts), not every pass: a job's sidecar keeps uploading as long as the job runs, and
 * an idle pod with a sidecar must cost no more a pass than one without.
 */
import { parseRawKey, type RawKey } from '@platform/log-reader/layout';
import { listObjects, type Bucket, type ListedObject } from '@platform/log-reader/s3';
import { CompactorError } from '../errors.js';
import type { Config } from '../config/config.js';
import type { Logger } from '../logger.js';
import { deleteObjects } from '../store/deletes.js';
import { forEachConcurrently } from './concurrency.js';
import { inDryRunWords } from './dry-run-words.js';
import { NO_OTHER_CONTAINERS, type OtherContainersSummary, type PassSummary } from './report.js';

/** A raw directory of a container that is not its pod's own, as a delimiter listing gives it. */
export type OtherContainerDir = Omit<RawKey, 'key' | 'slice' | 'index'> & { readonly prefix: string };

/** What one directory held at the pass, and what of it expired (or would, in a dry run). */
export interface OtherContainerReport {
  readonly dir: OtherContainerDir;
  readonly objects: number;
  readonly bytes: number;
  readonly expiredObjects: number;
  readonly expiredBytes: number;
  /** Set when the directory could not be listed or its expired objects not deleted. */
  readonly error?: string;
}

/** A failed delete of an expired raw object of another container. */
export class OtherContainerDeleteError extends CompactorError {
  constructor(dir: OtherContainerDir, failed: readonly { readonly key: string; readonly message: string }[]) {
    const first = failed[0];
    super(
      'ERR_DELETE_FAILED',
      `pod ${dir.pod} container ${dir.container}: ${failed.length} delete(s) of expired raw objects failed, e.g. ${first?.key}: ${first?.message}`,
    );
  }
}

export interface SweepOptions {
  readonly store: Bucket;
  /** Read once per directory, right after its listing: the decision is made with a fresh clock. */
  readonly clock: () => Date;
  readonly config: Pick<Config, 'retentionMs' | 'dryRun' | 'concurrency'>;
}

/**
 * Lists one directory in full; with a retention, deletes its raw objects uploaded longer ago
 * than it (a dry run only counts them). Never throws: a failure is the report's `error`.
 */
export async function sweepOtherContainer(
  options: SweepOptions,
  dir: OtherContainerDir,
): Promise<OtherContainerReport> {
  let listed: ListedObject[] = [];
  try {
    for await (const o of listObjects(options.store, dir.prefix)) listed.push(o);
    // Only the raw files of this very directory (a prefix also matches nothing else, but be exact).
    listed = listed.filter((o) => parseRawKey(o.key) !== undefined);
    const expired = expiredObjects(listed, options.clock().getTime(), options.config.retentionMs);
    const report = {
      dir,
      objects: listed.length,
      bytes: sumBytes(listed),
      expiredObjects: expired.length,
      expiredBytes: sumBytes(expired),
    };
    if (options.config.dryRun || expired.length === 0) return report;
    const result = await deleteObjects(
      options.store,
      expired.map((o) => o.key),
    );
    if (result.failed.length > 0) throw new OtherContainerDeleteError(dir, result.failed);
    return report;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { dir, objects: listed.length, bytes: sumBytes(listed), expiredObjects: 0, expiredBytes: 0, error: reason };
  }
}

/** Every directory, `--concurrency` at a time; each logged and handed to `onReport` as it ends. */
export async function sweepOtherContainers(
  options: SweepOptions & { readonly logger: Logger; readonly onReport?: (report: OtherContainerReport) => void },
  dirs: readonly OtherContainerDir[],
): Promise<OtherContainerReport[]> {
  const reports: OtherContainerReport[] = [];
  await forEachConcurrently(dirs, options.config.concurrency, async (dir) => {
    const report = await sweepOtherContainer(options, dir);
    reports.push(report);
    logOtherContainer(options.logger, report, options.config.dryRun);
    options.onReport?.(report);
  });
  return reports;
}

/** The summary with the directories' totals, and those that failed among its `failures` (the pass then exits 1). */
export function withOtherContainers(
  summary: PassSummary,
  reports: readonly OtherContainerReport[] | undefined,
): PassSummary {
  if (reports === undefined) return { ...summary, otherContainers: NO_OTHER_CONTAINERS };
  const failed = reports.flatMap((r) =>
    r.error === undefined ? [] : [{ pod: r.dir.pod, error: `other container ${r.dir.prefix}: ${r.error}` }],
  );
  return { ...summary, otherContainers: summarizeOtherContainers(reports), failures: [...summary.failures, ...failed] };
}

/** Objects uploaded more than `retentionMs` before `nowMs`; none without a retention. */
export function expiredObjects(
  objects: readonly ListedObject[],
  nowMs: number,
  retentionMs: number | undefined,
): ListedObject[] {
  if (retentionMs === undefined) return [];
  return objects.filter((o) => o.lastModified.getTime() < nowMs - retentionMs);
}

export function summarizeOtherContainers(reports: readonly OtherContainerReport[]): OtherContainersSummary {
  const sum = (field: 'objects' | 'bytes' | 'expiredObjects' | 'expiredBytes'): number =>
    reports.reduce((total, r) => total + r[field], 0);
  return {
    surveyed: true,
    containers: reports.length,
    objects: sum('objects'),
    bytes: sum('bytes'),
    expiredObjects: sum('expiredObjects'),
    expiredBytes: sum('expiredBytes'),
    failed: reports.filter((r) => r.error !== undefined).length,
  };
}

/** The log line of one directory: debug when nothing expired, info when something did, error on failure. */
export function logOtherContainer(logger: Logger, report: OtherContainerReport, dryRun: boolean): void {
  const { dir, error, ...counts } = report;
  const fields = { pod: dir.pod, namespace: dir.namespace, container: dir.container, directory: dir.prefix, ...counts };
  if (error !== undefined) logger.error('other container failed', { ...fields, error });
  else if (counts.expiredObjects > 0)
    logger.info(
      dryRun ? 'other container: raw objects would expire' : 'other container: raw objects expired',
      dryRun ? inDryRunWords(fields) : fields,
    );
  else logger.debug('other container (never merged)', fields);
}

/** One line for an engineer at a terminal (dry run), like the pods' lines. */
export function describeOtherContainer(report: OtherContainerReport): string {
  const { dir } = report;
  const name = `other container ${dir.pod}/${dir.container} (${dir.namespace}, ${dir.containerId})`;
  if (report.error !== undefined) return `${name}: FAILED: ${report.error}`;
  const held = `${report.objects} raw object(s) never merged`;
  if (report.expiredObjects === 0) return `${name}: ${held}, none expired`;
  return `${name}: ${held}; would delete ${report.expiredObjects} expired (${report.expiredBytes} bytes)`;
}

function sumBytes(objects: readonly ListedObject[]): number {
  return objects.reduce((total, o) => total + o.size, 0);
}
