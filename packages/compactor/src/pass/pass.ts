/**
 * One pass of `compactor run`:
 *   1. Check that the bucket answers; list its raw "directories" (one delimiter listing). A
 *      bucket with none and nothing of the compactor ends the pass here, with nothing
 *      written (no-logs.ts). Then check that it enforces conditional writes, on PUT and on
 *      multipart completion (a set-up problem ends the pass with exit 2).
 *   2. Find the pods: the directories of containers named like their pod; narrowed by
 *      --pod, --namespace and --shard.
 *   3. Merge phase: each pod (bounded concurrency) is looked at without a lease (triage.ts);
 *      one with work goes through merge.ts, which also deletes what is due, holding the
 *      pod's lease (a pod another compactor holds is left alone). One pod's failure is
 *      reported and never stops the others.
 *   4. Orphan sweep (orphan-sweep.ts), in the daily survey's pass only (daily-survey.ts: one
 *      HEAD of a stamp decides): one listing of data/ and one of metadata/; a pod with an
 *      object under data/ newer than its last commit, or without metadata, gets its cleanup
 *      entry back, so that step 5 deletes a stalled writer's late file when it is due.
 *   5. Clean phase: each pod of the cleanup queue that step 3 did not merge, clean or fail
 *      (in --namespace, if given), looked at likewise, then through clean.ts.
 *   6. Expire phase, with --retention: pods whose whole log is older than the retention are
 *      marked, then deleted a cleanup interval later (expire.ts).
 *   7. Other containers (other-containers.ts), in the daily survey's pass only: the raw
 *      directories step 2 passed over, each listed in full, counted, and with --retention their
 *      objects past it deleted; then the survey's stamp is written.
 *   8. Summary of the pass.
 * Every decision and every commit reads the clock afresh: a pass may run for a long time.
 */
import type { Bucket } from '@platform/log-reader/s3';
import type { Config } from '../config/config.js';
import { formatShard, inShard } from '../config/shard.js';
import { LeaseHeldError } from '../errors.js';
import type { ContainerLiveness } from '../kube/kube.js';
import type { Logger } from '../logger.js';
import { Lease, newHolderId, type LeaseOptions } from '../store/lease.js';
import { putCleanupEntry } from '../store/pod-state.js';
import { cleanPod } from './clean.js';
import { forEachConcurrently } from './concurrency.js';
import { inNamespace, listRawDirs, podsIn } from './find-pods.js';
import { inDryRunWords, reportMessage } from './dry-run-words.js';
import type { PodContext } from './context.js';
import { expiryCandidates, expirePod } from './expire.js';
import { mergePod } from './merge.js';
import { cleanupQueue, type BucketListing, type SweepFailure } from './orphan-sweep.js';
import {
  sweepOtherContainers,
  withOtherContainers,
  type OtherContainerDir,
  type OtherContainerReport,
} from './other-containers.js';
import { stampSurvey, surveyDue } from './daily-survey.js';
import { checkBucket, checkConditionalWrites, conditionalDeletesHold } from './store-checks.js';
import { holdsCompactorWork, noLogsSummary } from './no-logs.js';
import { summarize, ZERO_COUNTS, type PassSummary, type PodCounts, type PodReport } from './report.js';
import { triageClean, triageMerge, type Triage, type Waiting } from './triage.js';

export interface PassDeps {
  readonly store: Bucket;
  readonly config: Config;
  readonly logger: Logger;
  /** The clock; tests move it to see what becomes due. Default: real time. */
  readonly now?: () => Date;
  /** Called with each pod's report as it finishes (the CLI prints dry-run lines from it). */
  readonly onReport?: (report: PodReport) => void;
  /**
   * Called as each phase starts, with the pods it will go through (the CLI's progress line).
   * The clean phase's count is its queue: with --namespace, a queued pod of another namespace
   * ends without a report.
   */
  readonly onPhase?: (phase: PodReport['phase'], pods: number) => void;
  /** The Kubernetes API (`--kube`); without it, unfinished lines end by the quiet rule. */
  readonly liveness?: ContainerLiveness;
  /** Called with what each directory of a container never merged held (the CLI's dry-run lines). */
  readonly onOtherContainer?: (report: OtherContainerReport) => void;
}

export interface PassResult {
  readonly summary: PassSummary;
  readonly reports: readonly PodReport[];
}

export async function runPass(deps: PassDeps): Promise<PassResult> {
  const started = Date.now();
  const { store, config, logger } = deps;
  const clock = deps.now ?? ((): Date => new Date());
  const holder = newHolderId();
  await checkBucket(store, config);
  // Listed before anything is written: a bucket with no work gets nothing written into it.
  const rawDirs = await listRawDirs(store);
  if (rawDirs.length === 0 && !(await holdsCompactorWork(store))) return noLogsPass(deps, holder, started);
  const ctx = await passContext(deps, clock);
  const leased = leasedBy(ctx, holder);

  // --pod and --shard narrow both phases alike: a pod outside them is another compactor's.
  const selected = (pod: string): boolean =>
    (config.pods.length === 0 || config.pods.includes(pod)) && inShard(pod, config.shard);
  // The daily survey (daily-survey.ts): decided once, at the start; undefined: not this pass.
  const surveyAt = await surveyDue(store, config, clock);
  const otherDirs: OtherContainerDir[] = [];
  const selectedDir = (dir: OtherContainerDir): boolean => selected(dir.pod);
  const pods = podsIn(rawDirs, config.namespace, otherDirs).filter(selected);
  const found = new Set(pods);
  logPassStarted(deps, pods.length, holder, surveyAt !== undefined);
  deps.onPhase?.('merge', pods.length);

  const reports: PodReport[] = [];
  const record = (report: PodReport): void => {
    reports.push(report);
    logReport(logger, report, config.dryRun);
    deps.onReport?.(report);
  };
  // A look first (triage.ts): a pod with nothing to do costs a read or two and no lease.
  const seen = new Map<string, Waiting>();
  await forEachConcurrently(pods, config.concurrency, async (pod) =>
    record(
      await guarded(pod, 'merge', async () => {
        const look = await triageMerge(ctx, pod, seen);
        return looked(
          pod,
          'merge',
          look,
          leased(pod, 'merge', (c) => mergePod(c, pod, look.work ? look.first : undefined)),
        );
      }),
    ),
  );

  const handled = new Set(reports.filter((r) => r.status !== 'skipped').map((r) => r.pod));
  const sweep = { sweep: surveyAt !== undefined, listCommits: config.retentionMs !== undefined };
  const listing = await cleanupQueue({ store, selected, dryRun: config.dryRun, logger, ...sweep });
  for (const failure of listing.sweepFailures) record(failedReport(failure));
  const queue = listing.queue.filter((pod) => !handled.has(pod));
  // --namespace scopes the clean phase too: a queued pod is ours only when it is in it.
  const inScope = async (pod: string): Promise<boolean> => found.has(pod) || inNamespace(store, pod, config.namespace);
  deps.onPhase?.('clean', queue.length);
  await forEachConcurrently(queue, config.concurrency, async (pod) => {
    const report = await guarded(pod, 'clean', async () =>
      (await inScope(pod))
        ? looked(
            pod,
            'clean',
            await triageClean(ctx, pod, seen.get(pod)),
            leased(pod, 'clean', (c) => cleanPod(c, pod)),
          )
        : undefined,
    );
    if (report !== undefined) record(report);
  });

  // Retention (expire.ts): after the clean phase, which leaves a marked pod in the queue.
  await expirePhase({ ctx, deps, selected, inScope, reports, record, leased, listing });
  const stampAt = listing.sweepFailures.length === 0 && surveyAt !== undefined && surveyAt;
  const others = surveyAt && (await surveyOtherContainers(ctx, deps, otherDirs.filter(selectedDir), stampAt));
  const summarized = summarize(combinePhases(reports), config.dryRun, Date.now() - started);
  const summary = withOtherContainers({ ...summarized, orphanPodsQueued: listing.orphaned.length }, others);
  logger.info('pass finished', config.dryRun ? inDryRunWords(summary) : { ...summary });
  return { summary, reports };
}

/**
 * The daily survey's containers never merged (other-containers.ts), then its stamp
 * (daily-survey.ts): not when a directory or the orphan sweep failed (`started` false), so that
 * the next pass tries again.
 */
async function surveyOtherContainers(
  ctx: PodContext,
  deps: PassDeps,
  dirs: readonly OtherContainerDir[],
  started: Date | false,
): Promise<OtherContainerReport[]> {
  const reports = await sweepOtherContainers({ ...ctx, onReport: deps.onOtherContainer }, dirs);
  if (started && reports.every((r) => r.error === undefined)) await stampSurvey(ctx.store, ctx.config, started);
  return reports;
}

/**
 * The context of the pass's pods, once the store answers and enforces conditional writes (a
 * set-up problem ends the pass), with whether it enforces conditional deletes too
 * (store-checks.ts). A dry run writes nothing.
 */
async function passContext(deps: PassDeps, clock: () => Date): Promise<PodContext> {
  const { store, config, logger } = deps;
  if (!config.dryRun) await checkConditionalWrites(store, config, logger);
  const conditionalDeletes = !config.dryRun && (await conditionalDeletesHold(store));
  return { store, config, clock, logger, lease: undefined, liveness: deps.liveness, conditionalDeletes };
}

/** A pod the orphan sweep could not give back to the queue: its failure, not the pass's. */
function failedReport({ pod, reason }: SweepFailure): PodReport {
  return { pod, phase: 'clean', status: 'failed', reason, ...ZERO_COUNTS, durationMs: 0 };
}

/** A pass over a bucket with no work (no-logs.ts): started, one warning, finished; nothing written. */
function noLogsPass(deps: PassDeps, holder: string, started: number): PassResult {
  logPassStarted(deps, 0, holder, false);
  const { config, logger } = deps;
  return { summary: noLogsSummary(config.bucket, config.dryRun, logger, Date.now() - started), reports: [] };
}

function logPassStarted(deps: PassDeps, pods: number, holder: string, survey: boolean): void {
  const { config } = deps;
  deps.logger.info('pass started', {
    bucket: config.bucket,
    pods,
    shard: config.shard === undefined ? undefined : formatShard(config.shard),
    dryRun: config.dryRun,
    holder,
    survey,
    unfinishedLinesEndBy: deps.liveness === undefined ? 'quiet' : 'kubernetes',
  });
}

export const RETENTION_NEEDS_CONDITIONAL_DELETES =
  'retention skipped: the store does not enforce If-Match on DELETE (LocalStack does not), which ' +
  "deleting an expired log's metadata needs; nothing marked or deleted";

/** The expire phase (expire.ts): each candidate looked at, and marked or deleted under its lease. */
async function expirePhase(phase: {
  readonly ctx: PodContext;
  readonly deps: PassDeps;
  readonly selected: (pod: string) => boolean;
  readonly inScope: (pod: string) => Promise<boolean>;
  readonly reports: readonly PodReport[];
  readonly record: (report: PodReport) => void;
  readonly leased: (
    pod: string,
    phase: PodReport['phase'],
    work: (podCtx: PodContext) => Promise<PodReport>,
  ) => () => Promise<PodReport>;
  /** The merge phase's listings of metadata/ and cleanup/ (orphan-sweep.ts), not listed again. */
  readonly listing: BucketListing;
}): Promise<void> {
  const { ctx, selected, inScope, leased } = phase;
  // Off unless set: no request at all then.
  if (ctx.config.retentionMs === undefined) return;
  // An expired log's last delete is its metadata's, only as read (If-Match): where the store
  // refuses or ignores that (LocalStack answers 501), a stalled compactor could delete a commit
  // made since, and a mark it could not follow with the deletion would leave a log unreadable
  // for good. Nothing is marked or deleted there; said once a pass. A dry run still lists.
  if (!ctx.config.dryRun && !ctx.conditionalDeletes) {
    ctx.logger.warn(RETENTION_NEEDS_CONDITIONAL_DELETES, { bucket: ctx.config.bucket });
    return;
  }
  const retention = { retentionMs: ctx.config.retentionMs, cleanupIntervalMs: ctx.config.cleanupIntervalMs };
  const candidates = expiryCandidates(ctx, retention, selected, phase.listing);
  // Pods another phase did something for (merged, cleaned, failed…): their report stays when the
  // expiry had nothing to do.
  const reported = new Set(phase.reports.filter((r) => r.status !== 'skipped').map((r) => r.pod));
  phase.deps.onPhase?.('expire', candidates.size);
  await forEachConcurrently([...candidates], ctx.config.concurrency, async ([pod, listed]) => {
    const report = await guarded(pod, 'expire', async () =>
      (await inScope(pod)) ? expirePod(ctx, pod, listed, (work) => leased(pod, 'expire', work)()) : undefined,
    );
    if (report !== undefined && (report.status !== 'skipped' || !reported.has(pod))) phase.record(report);
  });
}

/** The pod's work when its look found some; else its report as skipped, with the look's reason. */
async function looked(
  pod: string,
  phase: PodReport['phase'],
  triage: Triage,
  work: () => Promise<PodReport>,
): Promise<PodReport> {
  if (triage.work) return work();
  return { pod, phase, status: 'skipped', reason: triage.reason, ...ZERO_COUNTS, durationMs: 0 };
}

/** A pod's work under its lease, taken as `holder` with the pass's settings (withLease). */
function leasedBy(ctx: PodContext, holder: string) {
  const { store, config, clock, logger, conditionalDeletes } = ctx;
  return (pod: string, phase: PodReport['phase'], work: (podCtx: PodContext) => Promise<PodReport>) => () =>
    withLease(
      { store, pod, holder, durationMs: config.leaseDurationMs, clock, conditionalDeletes, logger },
      ctx,
      phase,
      work,
    );
}

/** Runs a pod's work under its lease; a dry run writes nothing and takes none. */
async function withLease(
  options: LeaseOptions,
  ctx: PodContext,
  phase: PodReport['phase'],
  work: (podCtx: PodContext) => Promise<PodReport>,
): Promise<PodReport> {
  if (ctx.config.dryRun) return work(ctx);
  let lease: Lease;
  try {
    lease = await Lease.acquire(options);
  } catch (error) {
    if (!(error instanceof LeaseHeldError)) throw error;
    return { pod: options.pod, phase, status: 'busy', reason: error.message, ...ZERO_COUNTS, durationMs: 0 };
  }
  try {
    return await work({ ...ctx, lease });
  } finally {
    if (!(await lease.release())) await requeueUnreleased(ctx, options.pod);
  }
}

/**
 * A lease the store failed to release stays in the bucket: the pod goes back in the cleanup
 * queue, whose clean phase takes the lease again and releases it. Without the entry nothing
 * would find a lease whose pod has no other object left (an expired pod's, §8).
 */
async function requeueUnreleased(ctx: PodContext, pod: string): Promise<void> {
  try {
    await putCleanupEntry(ctx, pod);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    ctx.logger.warn(`pod ${pod}: cleanup entry for its unreleased lease not written (${reason})`, { pod });
  }
}

async function guarded<R extends PodReport | undefined>(
  pod: string,
  phase: PodReport['phase'],
  work: () => Promise<R>,
): Promise<R | PodReport> {
  const started = Date.now();
  try {
    return await work();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { pod, phase, status: 'failed', reason, ...ZERO_COUNTS, durationMs: Date.now() - started };
  }
}

function logReport(logger: Logger, report: PodReport, dryRun: boolean): void {
  const { pod, ...fields } = report;
  if (report.status === 'failed') logger.error('pod failed', { pod, ...fields });
  else logger.info(reportMessage(report, dryRun), { pod, ...(dryRun ? inDryRunWords(fields) : fields) });
}

/**
 * One report per pod: a pod skipped in the merge phase (which may have deleted what was due
 * and read raw files before it stopped) and handled again in the clean phase counts once,
 * with the status of its last phase and the counts of both.
 */
export function combinePhases(reports: readonly PodReport[]): PodReport[] {
  const byPod = new Map<string, PodReport>();
  for (const r of reports) {
    const earlier = byPod.get(r.pod);
    byPod.set(
      r.pod,
      earlier === undefined
        ? r
        : {
            ...r,
            ...sumCounts(earlier, r),
            reason: r.reason ?? earlier.reason,
            durationMs: earlier.durationMs + r.durationMs,
          },
    );
  }
  return [...byPod.values()];
}

function sumCounts(a: PodCounts, b: PodCounts): PodCounts {
  const sum = { ...ZERO_COUNTS };
  for (const field of Object.keys(ZERO_COUNTS) as (keyof PodCounts)[]) sum[field] = a[field] + b[field];
  return sum;
}
