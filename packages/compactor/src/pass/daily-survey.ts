/**
 * The daily survey (docs/design.md §8): the orphan sweep (a listing of all of `data/`) and the
 * survey of containers never merged (a listing of each of their raw directories) cost a request
 * per 1000 objects the bucket keeps, so they run at most once a day, not every pass. One small
 * object per scope, `leases/.daily-survey` (with `.namespace-N` / `.shard-I-of-N` for a compactor
 * per namespace or shard), says when the last one ran: its user metadata `surveyed-at`, the pass
 * clock's time (not the store's LastModified: the pass clock is what decides, and tests move it).
 * A pass reads it with one HEAD; a dry run always surveys and never stamps. A `--pod` run (by
 * hand) surveys only its pods, so it neither reads nor writes a stamp: it surveys with `--survey`
 * or `--dry-run` only.
 */
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { dailySurveyKey, SURVEYED_AT_FIELD } from '@platform/log-reader/layout';
import { isNotFound, type Bucket } from '@platform/log-reader/s3';
import type { Config } from '../config/config.js';

/** Under a day, so that an hourly CronJob whose start drifts by minutes still surveys once a day. */
export const SURVEY_EVERY_MS = 23 * 60 * 60 * 1000;

/** What a survey covers: the pass's namespace and shard. */
export type SurveyScope = Pick<Config, 'namespace' | 'shard'>;
type SurveyConfig = SurveyScope & Pick<Config, 'dryRun' | 'survey' | 'pods'>;

/**
 * When this pass surveys: a dry run or `--survey` always; else when the stamp is missing or old.
 * Returns the clock read for the decision (the stamp's time), or undefined: no survey this pass.
 */
export async function surveyDue(store: Bucket, config: SurveyConfig, clock: () => Date): Promise<Date | undefined> {
  if (config.dryRun || config.survey) return clock();
  if (config.pods.length > 0) return undefined;
  const last = await lastSurvey(store, config);
  const now = clock();
  return last === undefined || now.getTime() - last >= SURVEY_EVERY_MS ? now : undefined;
}

/** When the last survey ran (ms), from the stamp; undefined when there is none or it is unreadable. */
export async function lastSurvey(store: Bucket, scope: SurveyScope): Promise<number | undefined> {
  try {
    const head = await store.client.send(new HeadObjectCommand({ Bucket: store.bucket, Key: dailySurveyKey(scope) }));
    const at = Date.parse(head.Metadata?.[SURVEYED_AT_FIELD] ?? '');
    return Number.isNaN(at) ? undefined : at;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/**
 * Records a survey that started at `at`, unless it was a dry run or a `--pod` run. Unconditional:
 * two passes surveying at once both write a time of about the same moment, and either is right.
 */
export async function stampSurvey(store: Bucket, config: SurveyConfig, at: Date): Promise<void> {
  if (config.dryRun || config.pods.length > 0) return;
  await store.client.send(
    new PutObjectCommand({
      Bucket: store.bucket,
      Key: dailySurveyKey(config),
      Body: 'the last daily survey of the compactor: see its user metadata surveyed-at',
      Metadata: { [SURVEYED_AT_FIELD]: at.toISOString() },
    }),
  );
}
