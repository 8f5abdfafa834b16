/**
 * What a child process can run (child.ts): the code under test through its library API, and
 * the limits. Each task times only its work (inputs are fetched before the clock starts)
 * and returns plain data.
 */
import { createWriteStream, statSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import { countRequests, combineCounts, type RequestCounts } from './counting.js';
import { loadCode, type Code } from './code.js';
import {
  best,
  decodeMerged,
  firstByte,
  forEachLimited,
  getBytes,
  gzipAlone,
  inProcessCompaction,
  limitClient,
  scaleRequests,
  transfer,
  type InProcessResult,
  type ScalePod,
  type TransferPod,
} from './limits.js';
import { measure, type Timing } from './process.js';

type Task = (params: object) => Promise<object>;

/** Fetches the bodies of `keys` (8 at once), in order. */
async function fetchAll(client: S3Client, bucket: string, keys: readonly string[]): Promise<Buffer[]> {
  const bodies = new Array<Buffer>(keys.length);
  await forEachLimited([...keys.entries()], 8, async ([i, key]) => {
    bodies[i] = await getBytes(client, bucket, key);
  });
  return bodies;
}

function clientFor(code: Code, concurrency: number): S3Client {
  return code.reader.createS3Client({ maxSockets: code.reader.socketsFor(concurrency) });
}

export interface PassResult extends Timing {
  readonly requests: RequestCounts;
  readonly pods: number;
  readonly failed: number;
  readonly summary: object;
}

/** One `runPass` of the code under test, `counts` counting the client's requests; a failed pod fails the task. */
/** The production overlay's `COMPACTOR_RETENTION` (k8s/overlays/production). */
const RETENTION_MS = 90 * 24 * 3600 * 1000;

async function pass(
  code: Code,
  client: S3Client,
  counts: RequestCounts,
  bucket: string,
  concurrency: number,
  pods: readonly string[] = [],
): Promise<PassResult> {
  // The production overlay's retention: what deciding expiry costs is part of every pass's cost
  // (a compactor without retention ignores the field).
  const config = { ...code.compactor.defaultConfig(bucket), concurrency, pods: [...pods], retentionMs: RETENTION_MS };
  const before = { ...counts };
  const { value, timing } = await measure(() =>
    code.compactor.runPass({ store: { client, bucket }, config, logger: code.compactor.silentLogger() }),
  );
  const failed = value.reports.filter((r) => r.status === 'failed');
  if (failed.length > 0)
    throw new Error(`${failed.length} pods failed, e.g. ${failed[0]?.pod}: ${JSON.stringify(failed[0])}`);
  return {
    ...timing,
    requests: combineCounts(counts, before, -1),
    pods: new Set(value.reports.map((r) => r.pod)).size,
    failed: failed.length,
    summary: value.summary,
  };
}

export const TASKS: Record<string, Task> = {
  async 'limit.inProcess'(params) {
    const p = params as { bucket: string; pods: string[][]; levels: number[]; rounds: number };
    const client = limitClient(16);
    const pods = [];
    for (const keys of p.pods) pods.push(await fetchAll(client, p.bucket, keys));
    client.destroy();
    // Rounds interleave the levels, so a cold start or a busy moment does not favour one.
    const runs = new Map<number, InProcessResult[]>(p.levels.map((level) => [level, []]));
    for (let round = 0; round < p.rounds; round++) {
      for (const level of p.levels) runs.get(level)?.push(await inProcessCompaction(pods, level));
    }
    const results = p.levels.map((level) => best(runs.get(level) ?? [], 'cpuMs'));
    // Gzip alone, to tell its share from decoding's.
    const chunks: Buffer[] = [];
    await inProcessCompaction(pods, 1, chunks);
    const gzip = [];
    for (const level of p.levels)
      gzip.push(best([await gzipAlone(chunks, level), await gzipAlone(chunks, level)], 'cpuMs'));
    return { levels: results, gzip };
  },

  async 'limit.transfer'(params) {
    const p = params as { bucket: string; pods: TransferPod[]; concurrency: number; rounds: number };
    const client = limitClient(p.concurrency * 6 + 4);
    const runs = [];
    for (let round = 0; round < p.rounds; round++)
      runs.push(await transfer(client, p.bucket, p.pods, p.concurrency, `c${p.concurrency}-${round}`));
    client.destroy();
    return best(runs);
  },

  async 'limit.decode'(params) {
    const p = params as { bucket: string; keys: string[]; rounds: number };
    const client = limitClient(16);
    const bodies = await fetchAll(client, p.bucket, p.keys);
    client.destroy();
    const runs = [];
    for (let round = 0; round < p.rounds; round++) runs.push(await decodeMerged(bodies));
    return best(runs);
  },

  async 'limit.firstByte'(params) {
    const p = params as { bucket: string; pod: string; rawPrefix: string; rounds: number };
    const runs = [];
    for (let round = 0; round < p.rounds; round++) {
      const client = limitClient(8); // a fresh client: connection set-up is part of a first byte
      runs.push(await firstByte(client, p.bucket, p.pod, p.rawPrefix));
      client.destroy();
    }
    return best(runs);
  },

  async 'limit.scale'(params) {
    const p = params as { bucket: string; pods: ScalePod[]; concurrency: number; mergedSize: number; rounds: number };
    const client = limitClient(p.concurrency * 6 + 4);
    const work = [];
    const idle = [];
    for (let round = 0; round < p.rounds; round++) {
      work.push(await scaleRequests(client, p.bucket, p.pods, p.concurrency, true, p.mergedSize));
      idle.push(await scaleRequests(client, p.bucket, p.pods, p.concurrency, false, p.mergedSize));
    }
    client.destroy();
    return { work: best(work), idle: best(idle) };
  },

  async 'compact.pass'(params) {
    const p = params as { code: string; bucket: string; concurrency: number };
    const code = await loadCode(p.code);
    const client = clientFor(code, p.concurrency);
    const result = await pass(code, client, countRequests(client), p.bucket, p.concurrency);
    client.destroy();
    return result;
  },

  async 'scale.passes'(params) {
    const p = params as { code: string; bucket: string; concurrency: number };
    const code = await loadCode(p.code);
    const client = clientFor(code, p.concurrency);
    const counts = countRequests(client);
    const first = await pass(code, client, counts, p.bucket, p.concurrency);
    const second = await pass(code, client, counts, p.bucket, p.concurrency);
    client.destroy();
    return { first, second };
  },

  async 'read.records'(params) {
    const p = params as { code: string; bucket: string; pod: string };
    const code = await loadCode(p.code);
    const client = clientFor(code, 1);
    const reader = new code.reader.LogReader({ client, bucket: p.bucket });
    let records = 0;
    let firstRecordMs: number | undefined;
    const started = performance.now();
    const { timing } = await measure(async () => {
      for await (const _ of reader.records(p.pod)) {
        if (records === 0) firstRecordMs = performance.now() - started;
        records += 1;
      }
    });
    client.destroy();
    return { ...timing, records, firstRecordMs };
  },

  // With `out`, the log is written into that file (as the Python original's reader serves it).
  async 'read.stream'(params) {
    const p = params as { code: string; bucket: string; pod: string; out?: string };
    const code = await loadCode(p.code);
    const client = clientFor(code, 1);
    const reader = new code.reader.LogReader({ client, bucket: p.bucket });
    let bytes = 0;
    const { timing } = await measure(async () => {
      if (p.out !== undefined) {
        await pipeline(reader.createReadStream(p.pod), createWriteStream(p.out));
        bytes = statSync(p.out).size;
        return;
      }
      for await (const chunk of reader.createReadStream(p.pod) as AsyncIterable<Buffer | string>)
        bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    });
    client.destroy();
    return { ...timing, bytes };
  },
};
