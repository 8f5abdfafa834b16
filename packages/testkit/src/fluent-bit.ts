/**
 * What Fluent Bit uploads (tail input, parser filter with the `cri` parsers, kubernetes filter, s3 output):
 * record lines in each shape docs/design.md §1 names, and raw objects under the raw layout.
 */
import { gzipSync } from 'node:zlib';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { formatSlice, rawKey, type Stream } from '@platform/log-reader/layout';

/** The runtime splits longer lines into `P` pieces. */
export const CRI_MAX_LINE = 16 * 1024;

export interface LineInput {
  readonly time: string;
  readonly log: string;
  readonly stream?: Stream;
  readonly logtag?: 'P' | 'F';
}

/**
 * A parsed record as the s3 output writes it: the runtime's `time` kept by the parser, alone (the
 * s3 output adds no json_date_key to a record that has `time`). `dateKeyTime`: a `time` before
 * it as well, a shape the contract allows (docs/design.md §1).
 */
export function parsedLine(r: LineInput, options: { dateKeyTime?: string } = {}): string {
  const kubernetes = '{"pod_name":"x","namespace_name":"y","container_name":"z"}';
  const first = options.dateKeyTime === undefined ? '' : `"time":${JSON.stringify(options.dateKeyTime)},`;
  return `{${first}"time":${JSON.stringify(r.time)},"stream":"${r.stream ?? 'stdout'}","logtag":"${r.logtag ?? 'F'}","log":${JSON.stringify(r.log)},"kubernetes":${kubernetes}}`;
}

/** A record no parser ran on: `log` holds the whole runtime line. */
export function unparsedLine(r: LineInput): string {
  return JSON.stringify({ log: `${r.time} ${r.stream ?? 'stdout'} ${r.logtag ?? 'F'} ${r.log}` });
}

/** One message as the runtime writes it: `P` pieces of 16 KiB, then `F`. */
export function criPieces(r: Omit<LineInput, 'logtag'>): LineInput[] {
  const pieces: LineInput[] = [];
  for (let at = 0; at + CRI_MAX_LINE < r.log.length; at += CRI_MAX_LINE) {
    pieces.push({ ...r, log: r.log.slice(at, at + CRI_MAX_LINE), logtag: 'P' });
  }
  const rest = r.log.length === 0 ? '' : r.log.slice(Math.floor((r.log.length - 1) / CRI_MAX_LINE) * CRI_MAX_LINE);
  pieces.push({ ...r, log: rest, logtag: 'F' });
  return pieces;
}

export interface RawObject {
  readonly pod: string;
  readonly namespace: string;
  /** Default: the pod name (the job container). */
  readonly container?: string;
  readonly containerId: string;
  readonly slice: string;
  readonly index: number;
  readonly lines: readonly string[];
  /** Fluent Bit with `compression gzip`. */
  readonly gzip?: boolean;
  /** `__` as some deployments write. */
  readonly separator?: '_' | '__';
}

export function rawBody(object: Pick<RawObject, 'lines' | 'gzip'>): Buffer {
  const text = Buffer.from(object.lines.map((l) => `${l}\n`).join(''));
  return object.gzip ? gzipSync(text) : text;
}

export async function putRaw(client: S3Client, bucket: string, object: RawObject): Promise<string> {
  const key = rawKey({ ...object, container: object.container ?? object.pod }, object.separator);
  await client.send(
    new PutObjectCommand({ Bucket: bucket, Key: key, Body: rawBody(object), ContentType: 'application/octet-stream' }),
  );
  return key;
}

/**
 * One container's Fluent Bit: each `upload` is the next raw object (index + 1), keyed by
 * the minute of its first record, and P/F pieces split as the runtime splits them.
 */
export class FluentBitContainer {
  private index: number;
  private restartedAt: Date | undefined;

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    readonly pod: string,
    readonly containerId: string,
    private readonly options: { namespace?: string; gzip?: boolean; firstIndex?: number; container?: string } = {},
  ) {
    this.index = options.firstIndex ?? 1;
  }

  /** Uploads the given lines (already encoded) as the next raw object; returns its key. */
  async uploadLines(lines: readonly string[], slice: string): Promise<string> {
    return putRaw(this.client, this.bucket, {
      pod: this.pod,
      namespace: this.options.namespace ?? 'jobs',
      container: this.options.container ?? this.pod,
      containerId: this.containerId,
      slice,
      index: this.index++,
      lines,
      gzip: this.options.gzip ?? false,
    });
  }

  /**
   * Fluent Bit killed and started again at `at`. `seeded`: the DaemonSet's seed-index.sh puts
   * the counter back at or above the clock x 1000; otherwise (a stock Fluent Bit) it goes on
   * from the counter file the kill left.
   */
  restart(at: Date, options: { seeded: boolean }): void {
    this.restartedAt = at;
    if (options.seeded) this.index = Math.max(this.index, Math.floor(at.getTime() / 1000) * 1000);
  }

  /**
   * Uploads what the kill left in the s3 output's store_dir, as the restarted Fluent Bit does
   * first: keyed by the minute it started (it sets a reloaded file's time to now), whatever
   * the times of its records.
   */
  async uploadReloaded(messages: readonly Omit<LineInput, 'logtag'>[]): Promise<string> {
    if (this.restartedAt === undefined) throw new Error('uploadReloaded needs a restart first');
    const lines = messages.flatMap((m) => criPieces(m).map((piece) => parsedLine(piece)));
    return this.uploadLines(lines, formatSlice(this.restartedAt));
  }

  /** Uploads messages (split into P/F pieces when long) as the next raw object. */
  async upload(messages: readonly (Omit<LineInput, 'logtag'> & { at: Date })[]): Promise<string> {
    const first = messages[0];
    if (first === undefined) throw new Error('upload needs at least one message');
    const lines = messages.flatMap((m) => criPieces(m).map((piece) => parsedLine(piece)));
    return this.uploadLines(lines, formatSlice(first.at));
  }
}
