#!/usr/bin/env node
/**
 * `seed-demo`: fills a bucket with what Fluent Bit would have uploaded for a few training
 * jobs over the last N minutes — one object per pod per minute, gzip on some nodes, lines
 * longer than 16 KiB split into P/F pieces (sometimes across uploads), stderr warnings, a
 * container restart, a sidecar container that is not ours. Deterministic for a seed.
 *
 *   seed-demo --bucket demo [--pods 4] [--minutes 90] [--seed 1] [--endpoint URL]
 */
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { parseArgs } from 'node:util';
import { createS3Client } from '@platform/log-reader';
import { formatSlice } from '@platform/log-reader/layout';
import { criPieces, parsedLine, putRaw, type RawObject } from './fluent-bit.js';
import { random } from './random.js';

interface SeedOptions {
  readonly bucket: string;
  readonly pods: number;
  readonly minutes: number;
  readonly seed: number;
  readonly end: Date;
}

export interface SeedResult {
  readonly pods: readonly string[];
  readonly objects: number;
  readonly bytes: number;
  readonly lines: number;
}

function hex(rand: () => number, length: number): string {
  return Array.from({ length }, () => Math.floor(rand() * 16).toString(16)).join('');
}

/** The lines one container writes in one minute. */
function minuteOfLogs(rand: () => number, job: string, minute: Date, step: { n: number }): string[] {
  const lines: string[] = [];
  const count = 20 + Math.floor(rand() * 120);
  for (let i = 0; i < count; i++) {
    // Spread over the minute, in order, with the nanosecond digits the runtime writes.
    const ms = Math.floor((i / count) * 60_000);
    const at = new Date(minute.getTime() + ms);
    const time = `${at.toISOString().slice(0, 19)}.${String(ms % 1000).padStart(3, '0')}${String(Math.floor(rand() * 1e6)).padStart(6, '0')}Z`;
    step.n += 1;
    const roll = rand();
    if (roll < 0.03) {
      lines.push(
        parsedLine({
          time,
          stream: 'stderr',
          log: `WARNING: ${job} step ${step.n}: gradient norm ${(rand() * 100).toFixed(2)} clipped`,
        }),
      );
    } else if (roll < 0.035) {
      // A config dump longer than the runtime's 16 KiB line limit: P pieces, then F.
      const log = `config: ${JSON.stringify({ job, params: Array.from({ length: 900 }, (_, k) => `param_${k}=${rand().toFixed(6)}`) })}`;
      for (const piece of criPieces({ time, log })) lines.push(parsedLine(piece));
    } else {
      const loss = (2.5 * Math.exp(-step.n / 4000) + rand() * 0.05).toFixed(4);
      lines.push(
        parsedLine({
          time,
          log: `epoch ${Math.floor(step.n / 1000)} step ${step.n} loss=${loss} lr=3e-4 throughput=${(900 + rand() * 100).toFixed(1)} samples/s`,
        }),
      );
    }
  }
  return lines;
}

export async function seed(client: S3Client, options: SeedOptions): Promise<SeedResult> {
  const rand = random(options.seed);
  const objects: RawObject[] = [];
  const pods: string[] = [];
  const start = Math.floor(options.end.getTime() / 60_000) * 60_000 - options.minutes * 60_000;
  for (let p = 0; p < options.pods; p++) {
    const pod = `job-${hex(rand, 8)}-${hex(rand, 4)}`;
    pods.push(pod);
    const gzip = p % 2 === 1; // every other node runs Fluent Bit with `compression gzip`
    let containerId = hex(rand, 64);
    let index = 1 + Math.floor(rand() * 50);
    const step = { n: 0 };
    let carry: string[] = [];
    for (let m = 0; m < options.minutes; m++) {
      const minute = new Date(start + m * 60_000);
      if (p === 0 && m === Math.floor(options.minutes / 2)) containerId = hex(rand, 64); // OOM-killed and restarted
      let lines = [...carry, ...minuteOfLogs(rand, pod, minute, step)];
      carry = [];
      // Sometimes an upload ends inside a long line: its last pieces come with the next one.
      const lastPartial = lines.findLastIndex((l) => l.includes('"logtag":"P"'));
      if (lastPartial >= 0 && rand() < 0.5 && m < options.minutes - 1) {
        carry = lines.slice(lastPartial + 1);
        lines = lines.slice(0, lastPartial + 1);
      }
      objects.push({ pod, namespace: 'jobs', containerId, slice: formatSlice(minute), index: index++, lines, gzip });
      if (p === 1 && m % 10 === 0) {
        const sidecarTime = `${minute.toISOString().slice(0, 19)}.000000000Z`;
        objects.push({
          pod,
          namespace: 'jobs',
          container: 'metrics-exporter',
          containerId: hex(rand, 64),
          slice: formatSlice(minute),
          index: index++,
          lines: [parsedLine({ time: sidecarTime, log: 'scraped 42 metrics' })],
        });
      }
    }
  }
  let bytes = 0;
  let lines = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < objects.length) {
      const object = objects[next++] as RawObject;
      await putRaw(client, options.bucket, object);
      lines += object.lines.length;
      bytes += object.lines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return { pods, objects: objects.length, bytes, lines };
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      bucket: { type: 'string' },
      endpoint: { type: 'string' },
      pods: { type: 'string', default: '4' },
      minutes: { type: 'string', default: '90' },
      seed: { type: 'string', default: '1' },
    },
  });
  if (!values.bucket) {
    process.stderr.write('seed-demo: --bucket is required\n');
    return 2;
  }
  const client = createS3Client({ endpoint: values.endpoint });
  try {
    await client.send(new CreateBucketCommand({ Bucket: values.bucket })).catch((error: { name?: string }) => {
      if (error.name !== 'BucketAlreadyOwnedByYou' && error.name !== 'BucketAlreadyExists') throw error;
    });
    const result = await seed(client, {
      bucket: values.bucket,
      pods: Number(values.pods),
      minutes: Number(values.minutes),
      seed: Number(values.seed),
      end: new Date(),
    });
    process.stdout.write(
      `seeded ${result.objects} raw objects (${result.lines} lines) for pods ${result.pods.join(', ')}\n`,
    );
    return 0;
  } finally {
    client.destroy();
  }
}

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
if (process.argv[1]?.endsWith('seed.js')) process.exitCode = await main(process.argv.slice(2));
