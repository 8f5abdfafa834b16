/**
 * The limits each figure is a share of, measured in the same run on the same bytes. Each is
 * the least work the product's job needs, written plainly, outside the product's code:
 *
 *   in-process (compaction)  the raw bodies already in memory: gunzip the gzip ones, split
 *                            lines at `\n`, `JSON.parse` each, `JSON.stringify` its
 *                            {time, log, stream when stderr}, gzip the lines in 64 KiB chunks
 *                            (one gzip stream per pod) at a given zlib level. No S3.
 *   transfer (compaction)    through the same server: GET every raw object (5 in flight per
 *                            pod, as the compactor's read-ahead of 4), bodies drained, then PUT
 *                            as many bytes as the pass wrote (the same object sizes); the
 *                            same number of pods at once. No decoding. SDK checksums off.
 *   decode (reads)           the merged gzip bodies already in memory: gunzip, split lines,
 *                            `JSON.parse`, format `{message}\n`. No S3.
 *   first byte (reads)       a fresh client: GET the pod's metadata (absent), LIST its raw
 *                            files (one page), GET the first, its first line parsed.
 *   scale                    the requests a pass needs at the least, 8 pods at once: for a pod
 *                            with work GET metadata, LIST, GET each raw file, PUT cleanup
 *                            marker, merged file and metadata; for a pod merged within the
 *                            compact interval GET metadata (it says nothing is due). Plus the
 *                            delimiter LIST of the raw prefix that finds the pods.
 *
 * The best of `rounds` runs counts: a limit is what the machine can do at best.
 */
import { once } from 'node:events';
import { createGzip, gunzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { measure, type Timing } from './process.js';

const CHUNK_BYTES = 64 * 1024;
/** GETs in flight per pod: the compactor's and the reader's read-ahead (4) plus the one being read. */
export const GETS_PER_POD = 5;

/** A plain client for the limits: keep-alive, no request or response checksums. */
export function limitClient(maxSockets: number): S3Client {
  const endpoint = process.env['AWS_ENDPOINT_URL_S3'] ?? process.env['S3_TEST_ENDPOINT'];
  return new S3Client({
    region: process.env['AWS_REGION'] ?? 'us-east-1',
    ...(endpoint === undefined ? {} : { endpoint, forcePathStyle: true }),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: { httpAgent: { keepAlive: true, maxSockets }, httpsAgent: { keepAlive: true, maxSockets } },
  });
}

export async function getBytes(client: S3Client, bucket: string, key: string): Promise<Buffer> {
  const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from((await response.Body?.transformToByteArray()) ?? new Uint8Array());
}

/** Drains a GET's body without keeping it. */
async function drain(client: S3Client, bucket: string, key: string): Promise<number> {
  const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  let bytes = 0;
  for await (const chunk of (response.Body as AsyncIterable<Uint8Array> | undefined) ?? []) bytes += chunk.length;
  return bytes;
}

/** Runs `work` on every item, `limit` at once. */
export async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export function best<T extends Timing>(runs: readonly T[], by: 'wallMs' | 'cpuMs' = 'wallMs'): T {
  return runs.reduce((a, b) => (b[by] < a[by] ? b : a));
}

function isGzip(body: Buffer): boolean {
  return body.length >= 2 && body[0] === 0x1f && body[1] === 0x8b;
}

/** Splits at `\n` and calls `line` for each (a last line without one included). */
function eachLine(text: string, line: (text: string) => void): number {
  let count = 0;
  let from = 0;
  while (from < text.length) {
    let nl = text.indexOf('\n', from);
    if (nl < 0) nl = text.length;
    if (nl > from) {
      line(text.slice(from, nl));
      count += 1;
    }
    from = nl + 1;
  }
  return count;
}

export interface InProcessResult extends Timing {
  readonly level: number;
  readonly records: number;
  /** Bytes of raw NDJSON read. */
  readonly rawBytes: number;
  /** Bytes of merged NDJSON written, and of its gzip. */
  readonly mergedBytes: number;
  readonly gzipBytes: number;
}

/**
 * The in-process limit of compaction over `pods` (each its raw bodies, in order). `collect`
 * receives the merged NDJSON chunks (for {@link gzipAlone}).
 */
export async function inProcessCompaction(
  pods: readonly (readonly Buffer[])[],
  level: number,
  collect?: Buffer[],
): Promise<InProcessResult> {
  let records = 0;
  let rawBytes = 0;
  let mergedBytes = 0;
  let gzipBytes = 0;
  const { timing } = await measure(async () => {
    for (const bodies of pods) {
      const gzip = createGzip({ level });
      gzip.on('data', (chunk: Buffer) => {
        gzipBytes += chunk.length;
      });
      const finished = once(gzip, 'end');
      let chunk: string[] = [];
      let chunkLength = 0;
      const ready: Buffer[] = [];
      const cut = (): void => {
        const bytes = Buffer.from(chunk.join(''));
        mergedBytes += bytes.length;
        ready.push(bytes);
        collect?.push(bytes);
        chunk = [];
        chunkLength = 0;
      };
      const write = async (): Promise<void> => {
        for (const bytes of ready.splice(0)) if (!gzip.write(bytes)) await once(gzip, 'drain');
      };
      for (const body of bodies) {
        const raw = isGzip(body) ? gunzipSync(body) : body;
        rawBytes += raw.length;
        const text = raw.toString('utf8');
        records += eachLine(text, (line) => {
          const value = JSON.parse(line) as { time: string; log: string; stream?: string };
          const merged =
            value.stream === 'stderr'
              ? JSON.stringify({ time: value.time, log: value.log, stream: 'stderr' })
              : JSON.stringify({ time: value.time, log: value.log });
          chunk.push(merged, '\n');
          chunkLength += merged.length + 1;
          if (chunkLength >= CHUNK_BYTES) cut();
        });
        await write();
      }
      if (chunkLength > 0) cut();
      await write();
      gzip.end();
      await finished;
    }
  });
  return { ...timing, level, records, rawBytes, mergedBytes, gzipBytes };
}

export interface GzipResult extends Timing {
  readonly level: number;
  readonly mergedBytes: number;
  readonly gzipBytes: number;
}

/** Gzip alone: merged NDJSON chunks of 64 KiB through one gzip stream at `level`. */
export async function gzipAlone(chunks: readonly Buffer[], level: number): Promise<GzipResult> {
  let gzipBytes = 0;
  const { timing } = await measure(async () => {
    const gzip = createGzip({ level });
    gzip.on('data', (chunk: Buffer) => {
      gzipBytes += chunk.length;
    });
    const finished = once(gzip, 'end');
    for (const chunk of chunks) if (!gzip.write(chunk)) await once(gzip, 'drain');
    gzip.end();
    await finished;
  });
  return { ...timing, level, mergedBytes: chunks.reduce((n, c) => n + c.length, 0), gzipBytes };
}

export interface TransferPod {
  readonly keys: readonly string[];
  /** Sizes of the objects to PUT (what the pass wrote for the pod). */
  readonly putSizes: readonly number[];
}

export interface TransferResult extends Timing {
  readonly gotBytes: number;
  readonly putBytes: number;
}

/** The transfer limit: `pods` processed `concurrency` at once. */
export async function transfer(
  client: S3Client,
  bucket: string,
  pods: readonly TransferPod[],
  concurrency: number,
  tag: string,
): Promise<TransferResult> {
  // The bodies to PUT exist before the clock starts: making them is no transfer.
  const largest = Math.max(0, ...pods.flatMap((p) => p.putSizes));
  const payload = Buffer.alloc(largest, 'x');
  let gotBytes = 0;
  let putBytes = 0;
  const { timing } = await measure(() =>
    forEachLimited(
      pods.map((p, i) => ({ ...p, i })),
      concurrency,
      async (pod) => {
        await forEachLimited(pod.keys, GETS_PER_POD, async (key) => {
          gotBytes += await drain(client, bucket, key);
        });
        for (const [n, size] of pod.putSizes.entries()) {
          await client.send(
            new PutObjectCommand({
              Bucket: bucket,
              Key: `bench-limit/${tag}/${pod.i}/${n}`,
              Body: payload.subarray(0, size),
            }),
          );
          putBytes += size;
        }
      },
    ),
  );
  return { ...timing, gotBytes, putBytes };
}

export interface DecodeResult extends Timing {
  readonly records: number;
  readonly mergedBytes: number;
  readonly textBytes: number;
}

/** The decode limit of reads over merged gzip bodies. */
export async function decodeMerged(bodies: readonly Buffer[]): Promise<DecodeResult> {
  let records = 0;
  let mergedBytes = 0;
  let textBytes = 0;
  const { timing } = await measure(async () => {
    for (const body of bodies) {
      const merged = gunzipSync(body);
      mergedBytes += merged.length;
      const text = merged.toString('utf8');
      const out: string[] = [];
      let outLength = 0;
      records += eachLine(text, (line) => {
        const value = JSON.parse(line) as { log: string };
        out.push(`${value.log}\n`);
        outLength += value.log.length + 1;
        if (outLength >= CHUNK_BYTES) {
          textBytes += Buffer.byteLength(out.join(''));
          out.length = 0;
          outLength = 0;
        }
      });
      textBytes += Buffer.byteLength(out.join(''));
    }
  });
  return { ...timing, records, mergedBytes, textBytes };
}

/** The first-byte limit: metadata GET (absent), one LIST page, the first raw file's first line. */
export async function firstByte(client: S3Client, bucket: string, pod: string, rawPrefix: string): Promise<Timing> {
  const { timing } = await measure(async () => {
    await client.send(new GetObjectCommand({ Bucket: bucket, Key: `metadata/${pod}.json` })).catch(() => undefined);
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: rawPrefix }));
    const first = page.Contents?.[0]?.Key;
    if (first === undefined) throw new Error(`no raw file under ${rawPrefix}`);
    const body = await getBytes(client, bucket, first);
    const text = (isGzip(body) ? gunzipSync(body) : body).toString('utf8');
    JSON.parse(text.slice(0, text.indexOf('\n')));
  });
  return timing;
}

export interface ScalePod {
  readonly pod: string;
  readonly rawPrefix: string;
  readonly keys: readonly string[];
}

/** The scale limits: the requests a pass needs at the least (see the top), `concurrency` pods at once. */
export async function scaleRequests(
  client: S3Client,
  bucket: string,
  pods: readonly ScalePod[],
  concurrency: number,
  work: boolean,
  mergedSize: number,
): Promise<Timing & { readonly requests: number }> {
  let requests = 0;
  const send = async <T>(work: Promise<T>): Promise<T> => {
    requests += 1;
    return work;
  };
  const merged = Buffer.alloc(mergedSize, 'x');
  const metadata = Buffer.alloc(600, ' ');
  const { timing } = await measure(async () => {
    let token: string | undefined;
    do {
      const page = await send(
        client.send(
          new ListObjectsV2Command({
            Bucket: bucket,
            Prefix: 'kube.var.log.containers.',
            Delimiter: '/',
            ContinuationToken: token,
          }),
        ),
      );
      token = page.NextContinuationToken;
    } while (token !== undefined);
    await forEachLimited(pods, concurrency, async ({ pod, rawPrefix, keys }) => {
      const metadataKey = work ? `bench-limit/absent/${pod}.json` : `metadata/${pod}.json`;
      await send(
        client
          .send(new GetObjectCommand({ Bucket: bucket, Key: metadataKey }))
          .then((r) => r.Body?.transformToByteArray())
          .catch(() => undefined),
      );
      if (!work) return;
      await send(client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: rawPrefix })));
      await forEachLimited(keys, GETS_PER_POD, (key) => send(drain(client, bucket, key)));
      await send(client.send(new PutObjectCommand({ Bucket: bucket, Key: `bench-limit/cleanup/${pod}`, Body: '' })));
      await send(client.send(new PutObjectCommand({ Bucket: bucket, Key: `bench-limit/data/${pod}`, Body: merged })));
      await send(
        client.send(new PutObjectCommand({ Bucket: bucket, Key: `bench-limit/metadata/${pod}.json`, Body: metadata })),
      );
    });
  });
  return { ...timing, requests };
}
