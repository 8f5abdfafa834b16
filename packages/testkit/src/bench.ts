#!/usr/bin/env node
/**
 * `bench`: how fast one job's log is read and merged, as ratios against limits measured in
 * the same run on the same server (the machine is shared: absolute times mean little).
 *
 *   limit   GET every object of the pod, 5 requests in flight, bodies drained, nothing decoded
 *   ratios  reader (raw files), compactor pass, reader (merged file) — each / its limit
 *
 * Reports the median of `--runs` runs. No pass/fail: read the ratios.
 */
import { CreateBucketCommand, GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { createS3Client, listObjects, LogReader, mergedPodPrefix, type Bucket } from '@platform/log-reader';
import { defaultConfig, runPass, silentLogger } from 'compactor/dist/index.js';
import { seed } from './seed.js';

async function drainAll(client: S3Client, bucket: string, keys: readonly string[], inFlight: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < keys.length) {
      const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: keys[next++] }));
      await response.Body?.transformToByteArray();
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
}

async function time(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

async function keysOf(store: Bucket, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of listObjects(store, prefix)) keys.push(o.key);
  return keys;
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { minutes: { type: 'string', default: '240' }, runs: { type: 'string', default: '3' } } });
  const runs = Number(values.runs);
  const client = createS3Client({});
  const results: Record<string, number[]> = { limitRaw: [], readerRaw: [], pass: [], limitMerged: [], readerMerged: [] };
  let lines = 0;
  for (let run = 0; run < runs; run++) {
    const bucket = `bench-${Date.now().toString(36)}-${run}`;
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    const seeded = await seed(client, { bucket, pods: 1, minutes: Number(values.minutes), seed: 7, end: new Date() });
    const pod = seeded.pods[0] as string;
    const store = { client, bucket };
    const reader = new LogReader({ client, bucket });
    const consume = async (): Promise<void> => {
      lines = 0;
      for await (const _ of reader.records(pod)) lines += 1;
    };
    const rawKeys = (await keysOf(store, `kube.var.log.containers.${pod}_`)).filter((k) => k.includes(`_${pod}-`));
    results['limitRaw']!.push(await time(() => drainAll(client, bucket, rawKeys, 5)));
    results['readerRaw']!.push(await time(consume));
    // compactIntervalMs 1: every round merges again; the cleanup interval keeps the raw files for the next round.
    const config = { ...defaultConfig(bucket), compactIntervalMs: 1, cleanupIntervalMs: 3_600_000, concurrency: 1, pods: [pod] };
    results['pass']!.push(await time(() => runPass({ store, config, logger: silentLogger() })));
    const mergedKeys = await keysOf(store, mergedPodPrefix(pod));
    results['limitMerged']!.push(await time(() => drainAll(client, bucket, mergedKeys, 5)));
    results['readerMerged']!.push(await time(consume));
  }
  client.destroy();
  const m = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, median(v)])) as Record<string, number>;
  const row = (name: string, ms: number, limit: number): string => `${name.padEnd(34)} ${ms.toFixed(0).padStart(7)} ms   ${(ms / limit).toFixed(2).padStart(6)} x limit`;
  process.stdout.write(
    [
      `one pod, ${values.minutes} raw files, ${lines} lines; median of ${runs} runs`,
      row('limit: GET raw files (5 in flight)', m['limitRaw']!, m['limitRaw']!),
      row('reader, raw files', m['readerRaw']!, m['limitRaw']!),
      row('compactor pass (read + write)', m['pass']!, m['limitRaw']!),
      row('limit: GET merged files', m['limitMerged']!, m['limitMerged']!),
      row('reader, merged files', m['readerMerged']!, m['limitMerged']!),
      '',
    ].join('\n'),
  );
  return 0;
}

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
if (process.argv[1]?.endsWith('bench.js')) process.exitCode = await main(process.argv.slice(2));
