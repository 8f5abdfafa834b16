/** The compactor's configuration: defaults, parsing of durations and sizes, validation. */
import { isValidPodName } from '@platform/log-reader';
import { UsageError } from './errors.js';

export interface Config {
  readonly bucket: string;
  /** Custom S3 endpoint (implies path-style); else `AWS_ENDPOINT_URL_S3`, else AWS. */
  readonly endpoint: string | undefined;
  readonly region: string | undefined;
  /** Only raw files of this namespace; default all. */
  readonly namespace: string | undefined;
  /** A pod is merged again only when its last compaction is older than this. Milliseconds; default 55 min. */
  readonly compactIntervalMs: number;
  /** How long a reader may still need what a commit made unneeded. Milliseconds; default 30 min. */
  readonly cleanupIntervalMs: number;
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
}

export const DEFAULTS = {
  compactInterval: '55m',
  cleanupInterval: '30m',
  maxFileSize: '10MiB',
  concurrency: 4,
  leaseDuration: '5m',
} as const;

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/;
const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90` (seconds), `90s`, `55m`, `1h`, `500ms`, `1d` → milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const m = DURATION.exec(text.trim());
  if (!m) throw new UsageError(`${flag}: invalid duration ${JSON.stringify(text)}: expected seconds or a number with ms, s, m, h or d (e.g. 90s, 55m, 1h)`);
  const ms = Math.round(Number(m[1]) * (DURATION_UNITS[m[2] ?? 's'] as number));
  if (!Number.isSafeInteger(ms)) throw new UsageError(`${flag}: duration ${JSON.stringify(text)} is too large`);
  return ms;
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
  if (!m) throw new UsageError(`${flag}: invalid size ${JSON.stringify(text)}: expected bytes or a number with KiB, MiB, GiB, KB, MB or GB (e.g. 10MiB)`);
  const bytes = Number(m[1]) * (SIZE_UNITS[(m[2] ?? 'b').toLowerCase()] as number);
  if (!Number.isSafeInteger(bytes)) throw new UsageError(`${flag}: size ${JSON.stringify(text)} is too large`);
  return bytes;
}

export function parseCount(text: string, flag: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n)) throw new UsageError(`${flag}: invalid number ${JSON.stringify(text)}: expected a whole number`);
  return n;
}

/** Checks what the parsers cannot: ranges and names. Returns the config for chaining. */
export function validate(config: Config): Config {
  if (!config.bucket) throw new UsageError('--bucket is required (or COMPACTOR_BUCKET)');
  if (config.compactIntervalMs <= 0) throw new UsageError('--compact-interval must be greater than 0');
  if (config.cleanupIntervalMs <= 0) throw new UsageError('--cleanup-interval must be greater than 0');
  if (config.leaseDurationMs < 1000) throw new UsageError('--lease-duration must be at least 1s');
  if (config.maxFileSize < 1024) throw new UsageError(`--max-file-size must be at least 1KiB, got ${config.maxFileSize} bytes`);
  if (config.concurrency < 1 || config.concurrency > 64) throw new UsageError(`--concurrency must be between 1 and 64, got ${config.concurrency}`);
  for (const pod of config.pods) {
    if (!isValidPodName(pod)) throw new UsageError(`--pod: invalid pod name ${JSON.stringify(pod)}`);
  }
  if (config.namespace !== undefined && !isValidPodName(config.namespace)) {
    throw new UsageError(`--namespace: invalid namespace ${JSON.stringify(config.namespace)}`);
  }
  if (config.endpoint !== undefined && !isHttpUrl(config.endpoint)) {
    throw new UsageError(`--endpoint: invalid URL ${JSON.stringify(config.endpoint)}: expected http://host:port or https://host`);
  }
  return config;
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname.length > 0;
  } catch {
    return false;
  }
}
