/**
 * The bench's data: how big each case is (full, `--quick`, overrides), the pods of each
 * case as {@link RealisticPod} generators, and their upload. A pod's objects are generated as
 * they are uploaded, never all held at once, so a 2 GB pod costs a few objects of memory.
 */
import { gunzipSync } from 'node:zlib';
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { RealisticPod, type RealisticPodOptions } from '../realistic.js';
import { random } from '../random.js';

const MB = 1_000_000;
/** A raw record of the generator is about this long (NDJSON line, newline included). */
export const RECORD_BYTES = 855;

export interface Sizes {
  /** Compaction: pods, objects per pod, records per object (8 × 60 × 200: 96,000 records, 83 MB). */
  readonly compactionPods: number;
  readonly compactionObjects: number;
  readonly compactionRecords: number;
  /** The reader's pod: MB of raw NDJSON, merged before it is read; also the small memory case. */
  readonly readerMB: number;
  /** The first-byte pod: raw files not merged. */
  readonly firstByteFiles: number;
  /** The big memory case: MB of raw NDJSON (0: skipped). */
  readonly bigMB: number;
  /** Scale: pods of 3 raw files each. */
  readonly scalePods: number;
}

export const FULL_SIZES: Sizes = {
  compactionPods: 8,
  compactionObjects: 60,
  compactionRecords: 200,
  readerMB: 200,
  firstByteFiles: 1000,
  bigMB: 2048,
  scalePods: 1000,
};

/** `--quick`: every case in well under a minute, to try the harness. */
export const QUICK_SIZES: Sizes = {
  compactionPods: 4,
  compactionObjects: 10,
  compactionRecords: 100,
  readerMB: 10,
  firstByteFiles: 50,
  bigMB: 20,
  scalePods: 40,
};

/** A pod name like the platform's: `job-{8 hex}-{4 hex}`, from `seed`. */
export function podName(seed: number): string {
  const rand = random(seed);
  const hex = (n: number): string => Array.from({ length: n }, () => Math.floor(rand() * 16).toString(16)).join('');
  return `job-${hex(8)}-${hex(4)}`;
}

function pod(seed: number, options: Omit<RealisticPodOptions, 'pod' | 'seed'>): RealisticPod {
  return new RealisticPod({ pod: podName(seed), seed, ...options });
}

/** The compaction case: every fourth pod's node gzips its uploads. */
export function compactionPods(sizes: Sizes): RealisticPod[] {
  return Array.from({ length: sizes.compactionPods }, (_, i) =>
    pod(1000 + i, { objects: sizes.compactionObjects, recordsPerObject: sizes.compactionRecords, gzip: i % 4 === 1 }),
  );
}

/** A pod of `mb` MB of raw NDJSON in objects of about `objectMB` MB (few large ones: fast to upload). */
export function podOfSize(seed: number, mb: number, objectMB: number): RealisticPod {
  const records = Math.max(10, Math.round((objectMB * MB) / RECORD_BYTES));
  return pod(seed, { objects: Math.max(1, Math.round(mb / objectMB)), recordsPerObject: records });
}

/** The first-byte case: many small raw files (a job an hour into its log, none merged yet). */
export function firstBytePod(sizes: Sizes): RealisticPod {
  return pod(3000, { objects: sizes.firstByteFiles, recordsPerObject: 20 });
}

/** The scale case: pods with 3 small raw files each. */
export function scalePods(sizes: Sizes): RealisticPod[] {
  return Array.from({ length: sizes.scalePods }, (_, i) => pod(100_000 + i, { objects: 3, recordsPerObject: 5 }));
}

export interface Uploaded {
  readonly objects: number;
  /** Bytes as stored (gzip bodies compressed). */
  readonly storedBytes: number;
  /** Bytes of NDJSON before compression: the bench's "raw MB". */
  readonly bytes: number;
  readonly records: number;
  /** Of `records`, the `P` pieces: each joins the line after it, so a merge writes `records - partials` lines. */
  readonly partials: number;
  /** Each pod's keys, in raw-file order. */
  readonly keys: ReadonlyMap<string, readonly string[]>;
}

export async function createBucket(client: S3Client, bucket: string): Promise<void> {
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
}

const PARTIAL = Buffer.from('"logtag":"P"');

/** The `P` pieces of a raw body (the generator writes `logtag` once per line). */
function partialsOf(body: Buffer): number {
  const text = body[0] === 0x1f && body[1] === 0x8b ? gunzipSync(body) : body;
  let n = 0;
  for (let at = text.indexOf(PARTIAL); at >= 0; at = text.indexOf(PARTIAL, at + PARTIAL.length)) n += 1;
  return n;
}

/**
 * Uploads every object of `pods` to each of `buckets` with `inFlight` PUTs at once; each
 * object is generated once, by the worker that uploads it. A gzip body is stored as
 * `application/x-gzip`: the Python original (the bench's optional anchor) tells gzip by that
 * Content-Type alone, while our code sniffs the bytes, so both read the same objects.
 */
export async function upload(
  client: S3Client,
  buckets: readonly string[],
  pods: readonly RealisticPod[],
  inFlight: number,
): Promise<Uploaded> {
  const jobs = pods.flatMap((p) => Array.from({ length: p.options.objects }, (_, i) => ({ pod: p, index: i })));
  const keys = new Map<string, string[]>(pods.map((p) => [p.pod, new Array<string>(p.options.objects)]));
  let storedBytes = 0;
  let bytes = 0;
  let records = 0;
  let partials = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const job = jobs[next++] as (typeof jobs)[number];
      const object = job.pod.object(job.index);
      (keys.get(job.pod.pod) as string[])[job.index] = object.key;
      for (const bucket of buckets) {
        await client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: object.key,
            Body: object.body,
            ContentType: job.pod.options.gzip === true ? 'application/x-gzip' : 'application/octet-stream',
          }),
        );
      }
      storedBytes += object.body.length;
      bytes += object.bytes;
      records += object.lines;
      partials += partialsOf(object.body);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return { objects: jobs.length, storedBytes, bytes, records, partials, keys };
}
