/** The compactor's configuration: defaults, parsing of durations and sizes, validation. */
import { DURATION_UNITS, isValidPodName, parseDurationMs } from '@platform/log-reader/layout';
// From the CLI entry, which loads no AWS SDK code: the flags are checked before a request.
import { bucketNameProblem, POD_NAME_FORMAT } from '@platform/log-reader/cli';
import { UsageError } from '../errors.js';
import { formatShard, inShard, shardOf, type Shard } from './shard.js';

export interface Config {
  readonly bucket: string;
  /** Custom S3 endpoint (implies path-style); else `AWS_ENDPOINT_URL_S3`, else AWS. */
  readonly endpoint: string | undefined;
  readonly region: string | undefined;
  /** Only raw files of this namespace; default all. */
  readonly namespace: string | undefined;
  /**
   * A pod is merged again only when its last compaction is older than this.
   * Milliseconds; default 55 min; 0 merges every pass.
   */
  readonly compactIntervalMs: number;
  /**
   * How long a reader may still need what a commit made unneeded. Milliseconds; default 30 min;
   * 0 deletes as soon as committed (a reader in the middle of a read then meets deleted objects).
   */
  readonly cleanupIntervalMs: number;
  /**
   * The quiet rule (without `--kube`): an unfinished line is merged as it is once the pod has
   * uploaded nothing for longer than this (its job has most likely ended). Milliseconds; default
   * 1 h, one period of the hourly CronJob: too short cuts a line still being written, for good;
   * too long only delays merging a last line the reader already returns as it is.
   */
  readonly quietAfterMs: number;
  /** Bytes of NDJSON (before compression) per merged file; default 10 MiB. */
  readonly maxFileSize: number;
  /** Pods processed at once; default 4. Each holds about one raw file's records in memory. */
  readonly concurrency: number;
  /** Only these pods; default all. */
  readonly pods: readonly string[];
  /** Read everything, write and delete nothing, say what would be done. */
  readonly dryRun: boolean;
  /** How long a pod's lease lasts without renewal (renewed every third of it). Milliseconds; default 5 min. */
  readonly leaseDurationMs: number;
  /** Run on a store that ignores conditional writes, giving up "one writer per pod". Default false. */
  readonly unsafeWithoutConditionalWrites: boolean;
  // The S3 limits: undefined means the S3 client's own default (log-reader's `S3_CLIENT_DEFAULTS`).
  /** Attempts per S3 request, the first included; default 5. */
  readonly s3MaxAttempts: number | undefined;
  /** How long one S3 attempt may take until the response headers arrive. Milliseconds; default 30 s. */
  readonly s3RequestTimeoutMs: number | undefined;
  /** How long opening a connection to S3 may take. Milliseconds; default 5 s. */
  readonly s3ConnectTimeoutMs: number | undefined;
  /**
   * Ask the Kubernetes API whether a job's container has ended before merging its unfinished
   * line as it is: `'default'` (KUBECONFIG, ~/.kube/config, in-cluster) or a kubeconfig path.
   * Default undefined: the quiet rule decides.
   */
  readonly kube: string | undefined;
  /** `--shard I/N`: only the pods whose name hashes to shard I of N (shard.ts); default all. */
  readonly shard: Shard | undefined;
  /** Prometheus Pushgateway base URL (metrics.ts): the pass's metrics are pushed at its end. Default none. */
  readonly pushgateway: string | undefined;
  /**
   * `--retention`: a pod's log expires once nothing of it (record time, raw upload, commit) is
   * newer than this; raw files of containers never merged expire by their own upload time
   * (docs/design.md §8). Milliseconds; default undefined: kept forever.
   */
  readonly retentionMs: number | undefined;
  /**
   * `--survey`: run the daily survey (orphan sweep, other containers) in this pass whatever its
   * stamp says (docs/design.md §8). Default false: at most once a day.
   */
  readonly survey: boolean;
}

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;
const MIB = 1024 * 1024;
/** Attempts beyond this would keep one request retrying for many minutes; more is a typo. */
const MAX_S3_ATTEMPTS = 20;

/** Every default in one place: the CLI's flag defaults, the tests and the bench start from here. */
export function defaultConfig(bucket: string): Config {
  return {
    bucket,
    endpoint: undefined,
    region: undefined,
    namespace: undefined,
    compactIntervalMs: 55 * MINUTE_MS,
    cleanupIntervalMs: 30 * MINUTE_MS,
    quietAfterMs: 60 * MINUTE_MS,
    maxFileSize: 10 * MIB,
    concurrency: 4,
    pods: [],
    dryRun: false,
    leaseDurationMs: 5 * MINUTE_MS,
    unsafeWithoutConditionalWrites: false,
    s3MaxAttempts: undefined,
    s3RequestTimeoutMs: undefined,
    s3ConnectTimeoutMs: undefined,
    kube: undefined,
    shard: undefined,
    pushgateway: undefined,
    retentionMs: undefined,
    survey: false,
  };
}

/** `90` (seconds), `90s`, `55m`, `1h`, `500ms`, `1d` → milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const ms = parseDurationMs(text);
  if (ms === undefined) {
    throw new UsageError(
      `${flag}: invalid duration ${JSON.stringify(text)}: expected seconds or a number with ms, s, m, h or d (e.g. 90s, 55m, 1h)`,
    );
  }
  if (ms === Infinity) throw new UsageError(`${flag}: duration ${JSON.stringify(text)} is too large`);
  return ms;
}

/** The shortest exact spelling of a duration that {@link parseDuration} reads back (help text). */
export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    const size = DURATION_UNITS[unit] as number;
    if (ms > 0 && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

const SIZE = /^(\d+)\s*(B|KB|MB|GB|KiB|MiB|GiB|K|M|G)?$/i;
const SIZE_UNITS: Record<string, number> = {
  b: 1,
  k: 1024,
  kib: 1024,
  kb: 1000,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  mb: 1000 ** 2,
  g: 1024 ** 3,
  gib: 1024 ** 3,
  gb: 1000 ** 3,
};

/** `1048576`, `512KiB`, `10MiB`, `1GB` → bytes. */
export function parseSize(text: string, flag: string): number {
  const m = SIZE.exec(text.trim());
  if (!m)
    throw new UsageError(
      `${flag}: invalid size ${JSON.stringify(text)}: expected bytes or a number with KiB, MiB, GiB, KB, MB or GB (e.g. 10MiB)`,
    );
  const bytes = Number(m[1]) * (SIZE_UNITS[(m[2] ?? 'b').toLowerCase()] as number);
  if (!Number.isSafeInteger(bytes)) throw new UsageError(`${flag}: size ${JSON.stringify(text)} is too large`);
  return bytes;
}

/** The shortest exact spelling of a size that {@link parseSize} reads back (help text). */
export function formatSize(bytes: number): string {
  for (const unit of ['GiB', 'MiB', 'KiB'] as const) {
    const size = SIZE_UNITS[unit.toLowerCase()] as number;
    if (bytes > 0 && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return `${bytes}`;
}

/** A whole number (`4`), no sign, no fraction. */
export function parseCount(text: string, flag: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n))
    throw new UsageError(`${flag}: invalid number ${JSON.stringify(text)}: expected a whole number`);
  return n;
}

/** Checks what the parsers cannot: ranges and names. Returns the config for chaining. */
export function validate(config: Config): Config {
  if (!config.bucket) throw new UsageError('--bucket is required (or COMPACTOR_BUCKET)');
  const badBucket = bucketNameProblem(config.bucket);
  if (badBucket !== undefined) throw new UsageError(`--bucket (COMPACTOR_BUCKET): ${badBucket}`);
  // 0 is allowed for both: "merge every pass" and "delete as soon as committed" (see configWarnings).
  if (config.compactIntervalMs < 0) throw new UsageError('--compact-interval must not be negative');
  if (config.cleanupIntervalMs < 0) throw new UsageError('--cleanup-interval must not be negative');
  if (config.quietAfterMs < 0) throw new UsageError('--quiet-after must not be negative');
  if (config.leaseDurationMs < 1000) throw new UsageError('--lease-duration must be at least 1s');
  if (config.maxFileSize < 1024)
    throw new UsageError(`--max-file-size must be at least 1KiB, got ${config.maxFileSize} bytes`);
  if (config.concurrency < 1 || config.concurrency > 64)
    throw new UsageError(`--concurrency must be between 1 and 64, got ${config.concurrency}`);
  const attempts = config.s3MaxAttempts;
  if (attempts !== undefined && (attempts < 1 || attempts > MAX_S3_ATTEMPTS)) {
    throw new UsageError(`--s3-max-attempts must be between 1 and ${MAX_S3_ATTEMPTS}, got ${attempts}`);
  }
  // 0 would mean "no timeout" to the SDK: a hung connection would hang the pass.
  if (config.s3RequestTimeoutMs !== undefined && config.s3RequestTimeoutMs <= 0)
    throw new UsageError('--s3-request-timeout must be greater than 0');
  if (config.s3ConnectTimeoutMs !== undefined && config.s3ConnectTimeoutMs <= 0)
    throw new UsageError('--s3-connect-timeout must be greater than 0');
  for (const pod of config.pods) {
    if (!isValidPodName(pod))
      throw new UsageError(`--pod: invalid pod name ${JSON.stringify(pod)}: expected ${POD_NAME_FORMAT}`);
  }
  if (config.namespace !== undefined && !isValidPodName(config.namespace)) {
    throw new UsageError(`--namespace: invalid namespace ${JSON.stringify(config.namespace)}`);
  }
  if (config.retentionMs !== undefined && config.retentionMs <= 0)
    throw new UsageError('--retention must be greater than 0');
  if (config.endpoint !== undefined && !isHttpUrl(config.endpoint)) {
    throw new UsageError(
      `--endpoint: invalid URL ${JSON.stringify(config.endpoint)}: expected http://host:port or https://host`,
    );
  }
  if (config.pushgateway !== undefined && !isHttpUrl(config.pushgateway)) {
    throw new UsageError(
      `--pushgateway: invalid URL ${JSON.stringify(withoutUserinfo(config.pushgateway))}: expected http://host:port or https://host`,
    );
  }
  return config;
}

/** Settings that are valid but risky: the CLI logs each as a warning before the pass. */
export function configWarnings(config: Config): string[] {
  const warnings: string[] = [];
  if (config.cleanupIntervalMs < MINUTE_MS) {
    warnings.push(
      `--cleanup-interval ${config.cleanupIntervalMs} ms is under a minute: readers in the middle of a read may meet deleted objects (they re-read the metadata, but a read slower than this can fail)`,
    );
  }
  if (config.retentionMs !== undefined && config.retentionMs < DAY_MS) {
    warnings.push(
      `--retention ${formatDuration(config.retentionMs)} is under a day: logs of jobs that ended only that long ago are deleted for good`,
    );
  }
  // Both narrow the pass: a pod asked for by name but hashed to another shard is not visited.
  const shard = config.shard;
  if (shard !== undefined) {
    for (const pod of config.pods.filter((p) => !inShard(p, shard))) {
      warnings.push(
        `--pod ${pod} is in shard ${shardOf(pod, shard.count)}/${shard.count}, not in --shard ${formatShard(shard)}: this pass leaves it alone`,
      );
    }
  }
  return warnings;
}

/** A URL as typed, with whatever sits between `//` and its last `@` (user, password) masked. */
function withoutUserinfo(text: string): string {
  const start = text.indexOf('//');
  const at = text.lastIndexOf('@');
  return start >= 0 && at > start ? `${text.slice(0, start + 2)}***${text.slice(at)}` : text;
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname.length > 0;
  } catch {
    return false;
  }
}
