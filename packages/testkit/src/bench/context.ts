/**
 * What every case gets from the harness (the code under test, sizes, a client to seed with,
 * bucket names, progress output), what it gives back (figures and its raw measurements),
 * and the few bucket reads the harness does itself (listings, a pod's metadata document,
 * read as docs/design.md §3 defines it).
 */
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { Sizes } from './data.js';
import type { PythonAnchor } from './python.js';

export interface BenchContext {
  /** The checkout whose built packages and bins are measured. */
  readonly code: string;
  readonly sizes: Sizes;
  /** The harness's own client, for seeding and listings (never measured). */
  readonly client: S3Client;
  /** A fresh bucket name for this run. */
  bucket(name: string): string;
  /** A progress line on stderr. */
  log(line: string): void;
  /** The Python original to compare with (`--python-anchor`), when given. */
  readonly python?: PythonAnchor;
}

/**
 * One row of the report: a figure and the limit it is a share of. `ratio` is the figure's
 * share of its limit (1 = the limit; speeds, request counts and first bytes: higher is
 * better) or, for memory, the share of the 256 MiB budget used (lower is better).
 */
export interface Figure {
  readonly id: string;
  /** The case that measured it (set by the harness). */
  readonly case?: string;
  readonly group: 'Compaction' | 'Reader' | 'First byte' | 'Memory' | 'Scale';
  readonly label: string;
  readonly ratio: number | undefined;
  readonly scale: 'limit' | 'budget';
  /** The headline absolute figure and its unit; `better` says which way is faster or smaller. */
  readonly value: number | undefined;
  readonly unit: string;
  readonly better: 'higher' | 'lower';
  /** Further absolute figures, formatted (`records/s`, CPU seconds, requests by kind). */
  readonly details: readonly string[];
  /** The limit, formatted with its value in this run. */
  readonly limit: string;
  readonly target?: string;
  readonly error?: string;
}

export interface CaseOutcome {
  readonly figures: readonly Figure[];
  /** The case's raw measurements, kept in the JSON report. */
  readonly data: object;
}

/** A figure whose measurement failed: the report says why instead of a number. */
export function failedFigure(
  figure: Pick<Figure, 'id' | 'case' | 'group' | 'label' | 'scale' | 'unit' | 'better' | 'limit' | 'target'>,
  error: unknown,
): Figure {
  return { ...figure, ratio: undefined, value: undefined, details: [], error: describeError(error) };
}

export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export interface ListedObject {
  readonly key: string;
  readonly size: number;
}

export async function listAll(client: S3Client, bucket: string, prefix: string): Promise<ListedObject[]> {
  const out: ListedObject[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) out.push({ key: o.Key ?? '', size: o.Size ?? 0 });
    token = page.NextContinuationToken;
  } while (token !== undefined);
  return out;
}

/** A pod's merged files as its metadata lists them (docs/design.md §3). */
export interface MergedFiles {
  readonly keys: readonly string[];
  readonly records: number;
  /** Bytes of merged NDJSON (before compression). */
  readonly bytes: number;
}

export async function mergedFiles(client: S3Client, bucket: string, pod: string): Promise<MergedFiles> {
  const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: `metadata/${pod}.json` }));
  const document = JSON.parse(await (response.Body?.transformToString() ?? Promise.resolve('{}'))) as {
    log_files?: { key: string; records_count: number; size: number }[];
  };
  const files = document.log_files ?? [];
  return {
    keys: files.map((f) => f.key),
    records: files.reduce((n, f) => n + f.records_count, 0),
    bytes: files.reduce((n, f) => n + f.size, 0),
  };
}

export const MIB = 1024 * 1024;
export const MB = 1_000_000;

export function mb(bytes: number): string {
  return `${(bytes / MB).toFixed(bytes < 10 * MB ? 2 : 1)} MB`;
}

export function rate(n: number, ms: number): number {
  return n / (ms / 1000);
}

/** 12345 → "12.3k", 1234567 → "1.23M". */
export function count(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return `${Math.round(n)}`;
}

export function seconds(ms: number): string {
  return ms >= 10_000
    ? `${(ms / 1000).toFixed(1)} s`
    : ms >= 1000
      ? `${(ms / 1000).toFixed(2)} s`
      : `${Math.round(ms)} ms`;
}
