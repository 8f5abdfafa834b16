/**
 * `--pushgateway`: what a pass did, pushed to a Prometheus Pushgateway at its end, so that a
 * CronJob that stopped working (or stopped running) raises an alert instead of going quiet.
 *
 * - One fresh prom-client Registry per pass (never the global one): only this pass's gauges.
 * - Pushed with POST, which replaces only the metrics of the same names in the group. A failed
 *   pass leaves `compactor_last_success_timestamp_seconds` out, so the Pushgateway keeps the
 *   previous success's (PUT would replace the whole group and drop it): alert on its age.
 * - The grouping key names the deployment: job="compactor", the bucket, the shard ("all"
 *   without --shard) and the namespace when --namespace is given, so compactors of other
 *   buckets, shards or namespaces never overwrite each other's last success.
 * - A push that fails is the caller's warning, never the pass's exit code: the alert on a
 *   last success that grows old covers a Pushgateway that stays unreachable.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Gauge, Registry } from 'prom-client';
import { formatShard, type Shard } from '../config/shard.js';
import { CompactorError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { PassSummary, PodStatus } from '../pass/report.js';

/** How long one push may take, connection included; then it is given up with a warning. */
export const PUSH_TIMEOUT_MS = 10_000;

/** What the metrics say about one pass. */
export interface PassOutcome {
  /** Undefined when the pass stopped before its end (set-up problem, `pass failed`). */
  readonly summary: PassSummary | undefined;
  /** The pass's exit code: 0 is a success. */
  readonly exitCode: number;
  readonly finishedAt: Date;
  readonly durationMs: number;
}

/** What the grouping key is made of (a Config has these fields). */
export interface GroupingSource {
  readonly bucket: string;
  readonly namespace: string | undefined;
  /** `--shard I/N`; undefined: this compactor covers every pod. */
  readonly shard: Shard | undefined;
}

export type GroupingKey = Readonly<Record<string, string>>;

/** job="compactor", bucket, shard ("I/N", or "all"), and namespace with --namespace. */
export function groupingKey(source: GroupingSource): GroupingKey {
  return {
    job: 'compactor',
    bucket: source.bucket,
    shard: source.shard === undefined ? 'all' : formatShard(source.shard),
    ...(source.namespace === undefined ? {} : { namespace: source.namespace }),
  };
}

const POD_RESULTS: readonly PodStatus[] = ['merged', 'cleaned', 'skipped', 'busy', 'failed', 'expiring', 'expired'];

/** The gauges of one pass, in a registry of their own. */
export function passRegistry(outcome: PassOutcome): Registry {
  const registry = new Registry();
  const gauge = (name: string, help: string, value: number): void => {
    new Gauge({ name, help, registers: [registry] }).set(value);
  };
  const seconds = (date: Date): number => date.getTime() / 1000;
  const succeeded = outcome.exitCode === 0;
  gauge(
    'compactor_pass_success',
    'Whether the last pass succeeded: 1 when it exited 0 (every pod done), else 0',
    succeeded ? 1 : 0,
  );
  gauge(
    'compactor_last_run_timestamp_seconds',
    'When the last pass ended, whatever its result (Unix time)',
    seconds(outcome.finishedAt),
  );
  if (succeeded)
    gauge(
      'compactor_last_success_timestamp_seconds',
      'When the last successful pass (exit 0) ended (Unix time)',
      seconds(outcome.finishedAt),
    );
  gauge('compactor_pass_duration_seconds', 'How long the last pass took', outcome.durationMs / 1000);
  const s = outcome.summary;
  // A pass that stopped early has no counts: the previous pass's stay, not zeros that look real.
  if (s === undefined) return registry;
  const pods = new Gauge({
    name: 'compactor_pods',
    help: 'Pods of the last pass that got to its end, by result (busy: another compactor held the lease)',
    labelNames: ['result'],
    registers: [registry],
  });
  for (const result of POD_RESULTS) pods.set({ result }, s.pods[result]);
  gauge('compactor_raw_files_read', 'Raw files read by the last pass that got to its end', s.rawFilesRead);
  gauge('compactor_raw_files_merged', 'Raw files merged by the last pass that got to its end', s.rawFilesMerged);
  gauge('compactor_raw_read_bytes', 'Bytes of raw files read by the last pass that got to its end', s.bytesRead);
  gauge(
    'compactor_merged_files_written',
    'Merged files written by the last pass that got to its end',
    s.mergedFilesWritten,
  );
  gauge(
    'compactor_merged_written_bytes',
    'Bytes of merged files (gzip) written by the last pass that got to its end',
    s.bytesWritten,
  );
  gauge('compactor_objects_deleted', 'Objects deleted by the last pass that got to its end', s.objectsDeleted);
  // Only a pass that ran the daily survey knows these: the others leave the last survey's
  // values in the Pushgateway (a POST replaces only the metrics it holds).
  if (s.otherContainers.surveyed) surveyGauges(gauge, s);
  gauge(
    'compactor_expired_objects',
    'Objects of expired pod logs (retention) deleted by the last pass that got to its end',
    s.expiredObjects,
  );
  gauge(
    'compactor_expired_bytes',
    'Bytes of expired pod logs (retention) deleted by the last pass that got to its end',
    s.expiredBytes,
  );
  gauge(
    'compactor_unreadable_objects_found',
    'Objects that arrived whole but cannot be decoded, found and recorded by the last pass that got to its end (their pods did not fail)',
    s.unreadableObjects,
  );
  return registry;
}

/**
 * What the daily survey found (docs/operations.md): raw objects of containers never merged, which
 * nobody reads, and the pods given back to the cleanup queue.
 */
function surveyGauges(gauge: (name: string, help: string, value: number) => void, s: PassSummary): void {
  const o = s.otherContainers;
  gauge(
    'compactor_orphan_pods_queued',
    'Pods the last daily survey gave back to the cleanup queue for objects under data/ that no commit lists',
    s.orphanPodsQueued,
  );
  gauge(
    'compactor_other_containers',
    'Raw directories (container ids) of containers never merged, as the last daily survey listed them',
    o.containers,
  );
  gauge(
    'compactor_other_container_objects',
    'Raw objects of containers never merged, as the last daily survey listed them',
    o.objects,
  );
  gauge(
    'compactor_other_container_bytes',
    'Bytes of raw objects of containers never merged, as the last daily survey listed them',
    o.bytes,
  );
  gauge(
    'compactor_other_container_expired_objects',
    'Raw objects of containers never merged that the last daily survey deleted by --retention (upload time)',
    o.expiredObjects,
  );
  gauge(
    'compactor_other_container_expired_bytes',
    'Bytes of raw objects of containers never merged that the last daily survey deleted by --retention',
    o.expiredBytes,
  );
}

/**
 * `{base}/metrics/job/compactor/bucket/B/shard/all`: the Pushgateway's URL of a group. A value
 * holding a `/` (the shard's "I/N") or empty takes the base64url form the Pushgateway defines.
 * Userinfo stays in the returned URL; {@link displayUrl} is what messages show.
 */
export function pushUrl(gateway: string, key: GroupingKey): URL {
  const url = new URL(gateway);
  const segments = Object.entries(key).map(([name, value]) =>
    value === '' || value.includes('/')
      ? `${name}@base64/${Buffer.from(value).toString('base64url') || '='}`
      : `${name}/${encodeURIComponent(value)}`,
  );
  // A gateway behind a path prefix (https://host/pushgateway) keeps it.
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/metrics/${segments.join('/')}`;
  url.search = '';
  url.hash = '';
  return url;
}

/** The URL without userinfo, query or fragment: safe for a log line. */
export function displayUrl(url: string | URL): string {
  try {
    const u = new URL(String(url));
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}

/** A push the Pushgateway did not take; the message names the URL without credentials. */
export class MetricsPushError extends CompactorError {
  constructor(
    readonly url: string,
    problem: string,
    options?: { cause?: unknown },
  ) {
    super('ERR_METRICS_PUSH', `metrics not pushed to ${url}: ${problem}`, options);
  }
}

/**
 * POSTs the registry to the group's URL (see the header for why POST). Userinfo in `gateway`
 * becomes basic auth. Rejects with a {@link MetricsPushError} for a refused connection, an
 * answer other than 2xx, or no answer within `timeoutMs`.
 */
export async function pushMetrics(
  gateway: string,
  key: GroupingKey,
  registry: Registry,
  timeoutMs = PUSH_TIMEOUT_MS,
): Promise<void> {
  const url = pushUrl(gateway, key);
  const shown = displayUrl(url);
  const headers: Record<string, string> = { 'content-type': registry.contentType };
  if (url.username !== '' || url.password !== '') {
    const user = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    headers['authorization'] = `Basic ${Buffer.from(user).toString('base64')}`;
    url.username = '';
    url.password = '';
  }
  const body = Buffer.from(await registry.metrics(), 'utf8');
  headers['content-length'] = String(body.length);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  await new Promise<void>((done, fail) => {
    const req = send(url, { method: 'POST', headers }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', (error) => fail(new MetricsPushError(shown, problemOf(error), { cause: error })));
      res.on('end', () => {
        clearTimeout(timer);
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) return done();
        // The Pushgateway says what it did not like in one short line (a bad name, a label clash).
        const said = Buffer.concat(chunks).toString('utf8').trim().split('\n')[0]?.slice(0, 200) ?? '';
        fail(new MetricsPushError(shown, `HTTP ${status}${said === '' ? '' : `: ${said}`}`));
      });
    });
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs / 1000}s`)), timeoutMs);
    req.on('error', (error) => {
      clearTimeout(timer);
      fail(new MetricsPushError(shown, problemOf(error), { cause: error }));
    });
    req.end(body);
  });
}

/**
 * The end of a pass with `--pushgateway`: push its outcome, or say why not. Never throws: a
 * push that fails is a warning naming the URL (without credentials), and the exit code stays
 * the pass's. A dry run pushes nothing, so that it never looks like a success.
 */
export async function pushPassMetrics(
  config: GroupingSource & { readonly pushgateway: string | undefined; readonly dryRun: boolean },
  outcome: PassOutcome,
  logger: Logger,
): Promise<void> {
  if (config.pushgateway === undefined) return;
  const key = groupingKey(config);
  const shown = displayUrl(pushUrl(config.pushgateway, key));
  if (config.dryRun) {
    logger.info('dry run: metrics not pushed', { pushgateway: shown });
    return;
  }
  try {
    await pushMetrics(config.pushgateway, key, passRegistry(outcome));
    logger.debug('metrics pushed', { pushgateway: shown, success: outcome.exitCode === 0 });
  } catch (error) {
    logger.warn(error instanceof Error ? error.message : String(error), { pushgateway: shown });
  }
}

/** `ECONNREFUSED` rather than `connect ECONNREFUSED 127.0.0.1:9091` (the URL is already named). */
function problemOf(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  return typeof code === 'string' && code !== '' ? code : error.message;
}
