#!/usr/bin/env node
/**
 * `node packages/testkit/dist/sdk-cost.js`: the CPU one S3 request costs this process through
 * the client both CLIs build (`createS3Client`), and the connections it opens doing so. It
 * makes a bucket of its own on the server `AWS_ENDPOINT_URL_S3` names (or `--endpoint`),
 * puts `--keys` small objects, then times `--requests` GETs (body read), PUTs and LISTs
 * (one page of `--keys` keys), `--concurrency` at once, after a warm-up of 50 each.
 *
 *   node scripts/s3-server.mjs start versitygw --state .tmp/s3.json
 *   eval "$(node scripts/s3-server.mjs env --state .tmp/s3.json)"
 *   AWS_ENDPOINT_URL_S3=$S3_TEST_ENDPOINT node packages/testkit/dist/sdk-cost.js --requests 2000
 *
 * CPU is `process.cpuUsage()` (user + system, all threads) over the timed requests divided by
 * their number; connections are the client sockets Node created meanwhile (its
 * `net.client.socket` channel). With a keep-alive pool and a server that keeps connections,
 * they stay at `--concurrency` or below. Add `--cpu-prof` to node to see where the CPU goes.
 */
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { subscribe } from 'node:diagnostics_channel';
import { parseArgs } from 'node:util';
import { createS3Client, socketsFor } from '@platform/log-reader';

const WARM_UP = 50;
const BODY_BYTES = 1024;

interface Options {
  readonly requests: number;
  readonly concurrency: number;
  readonly keys: number;
}

export interface RequestCost {
  readonly kind: 'GET' | 'PUT' | 'LIST';
  /** CPU of this process per request, user + system, in microseconds. */
  readonly cpuMicros: number;
  readonly wallMicros: number;
  /** Client sockets opened during the timed requests. */
  readonly socketsOpened: number;
}

let sockets = 0;
subscribe('net.client.socket', () => {
  sockets += 1;
});

/** Runs `send(i)` for i in [0, requests), `concurrency` at once, and measures it. */
async function measure(
  kind: RequestCost['kind'],
  options: Options,
  send: (i: number) => Promise<unknown>,
): Promise<RequestCost> {
  for (let i = 0; i < WARM_UP; i++) await send(i);
  const socketsBefore = sockets;
  const cpu = process.cpuUsage();
  const started = performance.now();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < options.requests) await send(next++);
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const used = process.cpuUsage(cpu);
  return {
    kind,
    cpuMicros: (used.user + used.system) / options.requests,
    wallMicros: ((performance.now() - started) * 1000) / options.requests,
    socketsOpened: sockets - socketsBefore,
  };
}

export async function requestCosts(client: S3Client, bucket: string, options: Options): Promise<RequestCost[]> {
  const body = Buffer.alloc(BODY_BYTES, 'x');
  const key = (i: number): string => `k/${String(i % options.keys).padStart(6, '0')}`;
  for (let i = 0; i < options.keys; i++)
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: key(i), Body: body }));
  return [
    await measure('GET', options, async (i) => {
      const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key(i) }));
      await response.Body?.transformToByteArray();
    }),
    await measure('PUT', options, (i) =>
      client.send(new PutObjectCommand({ Bucket: bucket, Key: key(i), Body: body })),
    ),
    await measure('LIST', options, () => client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'k/' }))),
  ];
}

function positiveInteger(value: string | undefined, fallback: number, name: string): number {
  const n = value === undefined ? fallback : Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`--${name} must be a positive integer, got ${value}`);
  return n;
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      requests: { type: 'string' },
      concurrency: { type: 'string' },
      keys: { type: 'string' },
      endpoint: { type: 'string' },
    },
  });
  let options: Options;
  try {
    options = {
      requests: positiveInteger(values.requests, 2000, 'requests'),
      concurrency: positiveInteger(values.concurrency, 8, 'concurrency'),
      keys: positiveInteger(values.keys, 20, 'keys'),
    };
  } catch (error) {
    process.stderr.write(`sdk-cost: ${(error as Error).message}\n`);
    return 2;
  }
  const client = createS3Client({ endpoint: values.endpoint, maxSockets: socketsFor(options.concurrency) });
  const bucket = `sdk-cost-${process.pid}-${Date.now()}`;
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  try {
    for (const cost of await requestCosts(client, bucket, options))
      process.stdout.write(
        `${cost.kind.padEnd(4)} ${cost.cpuMicros.toFixed(0).padStart(5)} µs CPU a request, ` +
          `${cost.wallMicros.toFixed(0).padStart(5)} µs wall, ${cost.socketsOpened} connections opened\n`,
      );
    return 0;
  } finally {
    const Objects = Array.from({ length: options.keys }, (_, i) => ({ Key: `k/${String(i).padStart(6, '0')}` }));
    await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects } }));
    await client.send(new DeleteBucketCommand({ Bucket: bucket }));
    client.destroy();
  }
}

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
if (process.argv[1]?.endsWith('sdk-cost.js')) process.exitCode = await main(process.argv.slice(2));
