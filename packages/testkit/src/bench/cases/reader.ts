/**
 * Case 2, the reader, and case 3, memory:
 *   - a pod of `readerMB` MB of raw NDJSON is merged by the code under test's CLI
 *     (`compactor run --pod`: its peak RSS is the memory figure of compacting it), then read
 *     whole through the library's `records()`, its `createReadStream()` and the CLI
 *     (`log-reader cat`, whose peak RSS is the memory figure of reading it). Records/s and
 *     MB/s (merged NDJSON) against the decode limit over the same merged bodies;
 *   - a pod of `firstByteFiles` raw files, none merged: time to the first record (library)
 *     and to the first byte on stdout (CLI, process start included) against the first-byte
 *     limit;
 *   - the big pod (`bigMB`): merged and read by the CLIs, peak RSS of each.
 */
import { bins } from '../code.js';
import { createBucket, firstBytePod, podOfSize, upload } from '../data.js';
import {
  count,
  describeError,
  failedFigure,
  MIB,
  mb,
  mergedFiles,
  rate,
  seconds,
  type BenchContext,
  type CaseOutcome,
  type Figure,
} from '../context.js';
import type { DecodeResult } from '../limits.js';
import { runCli, runTask, type CliRun } from '../process.js';
import type { Timing } from '../process.js';
import { readerVsPython } from './python.js';

/** The memory target of the issue: peak RSS of a CLI, whatever the log size. */
export const MEMORY_BUDGET_BYTES = 256 * MIB;
const FIRST_BYTE_TARGET_MS = 300;

type ReadResult = Timing & { readonly records: number; readonly firstRecordMs?: number };
type StreamResult = Timing & { readonly bytes: number };

function memoryFigure(id: string, label: string, run: CliRun, what: string): Figure {
  return {
    id,
    group: 'Memory',
    label,
    ratio: run.maxRssBytes / MEMORY_BUDGET_BYTES,
    scale: 'budget',
    value: run.maxRssBytes / MIB,
    unit: 'MiB peak RSS',
    better: 'lower',
    details: [`${what} in ${seconds(run.wallMs)}`, `${seconds(run.cpuMs)} CPU`],
    limit: 'budget: 256 MiB',
    target: '< 256 MiB, not growing with the log',
  };
}

async function compactCli(ctx: BenchContext, bucket: string, pod: string): Promise<CliRun> {
  return runCli(bins(ctx.code).compactor, ['run', '--bucket', bucket, '--pod', pod, '--log-level', 'error']);
}

async function catCli(ctx: BenchContext, bucket: string, pod: string): Promise<CliRun> {
  return runCli(bins(ctx.code).logReader, ['cat', pod, '--bucket', bucket]);
}

export async function readerCase(ctx: BenchContext): Promise<CaseOutcome> {
  const figures: Figure[] = [];
  const data: Record<string, object> = {};
  const pod = podOfSize(2000, ctx.sizes.readerMB, 1);
  const bucket = ctx.bucket('reader');
  await createBucket(ctx.client, bucket);
  const seeded = await upload(ctx.client, [bucket], [pod], 8);
  ctx.log(
    `reader: pod of ${mb(seeded.bytes)} raw NDJSON in ${seeded.objects} objects, ${count(seeded.records)} records`,
  );
  const size = `${Math.round(seeded.bytes / 1e6)} MB`;

  const compactFigure = {
    id: 'memory.compact.small',
    group: 'Memory',
    label: `peak RSS compacting a ${size} pod log (CLI)`,
    scale: 'budget',
    unit: 'MiB peak RSS',
    better: 'lower',
    limit: 'budget: 256 MiB',
  } as const;
  let compacted: CliRun;
  try {
    compacted = await compactCli(ctx, bucket, pod.pod);
    figures.push(memoryFigure(compactFigure.id, compactFigure.label, compacted, `${mb(seeded.bytes)} merged`));
  } catch (error) {
    figures.push(failedFigure(compactFigure, error));
    return { figures, data };
  }
  const merged = await mergedFiles(ctx.client, bucket, pod.pod);
  const decode = (await runTask<DecodeResult>('limit.decode', { bucket, keys: merged.keys, rounds: 2 })).result;
  const limitRecords = rate(decode.records, decode.wallMs);
  const limitMB = rate(decode.mergedBytes / 1e6, decode.wallMs);
  const limitCpu = rate(decode.mergedBytes, decode.cpuMs);
  const limit = `decode: ${count(limitRecords)} records/s, ${limitMB.toFixed(0)} MB/s`;
  data['read'] = {
    seeded: { bytes: seeded.bytes, records: seeded.records, objects: seeded.objects },
    compacted,
    merged: { files: merged.keys.length, records: merged.records, bytes: merged.bytes },
    decode,
  };
  ctx.log(`reader: merged into ${merged.keys.length} files, ${mb(merged.bytes)} NDJSON; ${limit}`);

  const read = async (
    id: string,
    label: string,
    work: () => Promise<{ wallMs: number; cpuMs: number; extra: string[] }>,
    target?: string,
  ): Promise<void> => {
    const base = {
      id,
      group: 'Reader',
      label,
      scale: 'limit',
      unit: 'records/s',
      better: 'higher',
      limit,
      ...(target === undefined ? {} : { target }),
    } as const;
    try {
      const run = await work();
      const records = rate(merged.records, run.wallMs);
      figures.push({
        ...base,
        ratio: records / limitRecords,
        value: records,
        details: [
          `${rate(merged.bytes / 1e6, run.wallMs).toFixed(1)} MB/s`,
          `${rate(merged.bytes / 1e6, run.cpuMs).toFixed(1)} MB/CPU-s (${(rate(merged.bytes, run.cpuMs) / limitCpu).toFixed(2)} of the limit's)`,
          ...run.extra,
        ],
      });
      ctx.log(`reader ${id}: ${count(records)} records/s (${(records / limitRecords).toFixed(2)} of limit)`);
    } catch (error) {
      ctx.log(`reader ${id}: failed: ${describeError(error)}`);
      figures.push(failedFigure(base, error));
    }
  };
  await read(
    'reader.records',
    `reader, library records(): ${size} pod, merged`,
    async () => {
      const r = (await runTask<ReadResult>('read.records', { code: ctx.code, bucket, pod: pod.pod })).result;
      if (r.records !== merged.records)
        throw new Error(`read ${r.records} records, the metadata lists ${merged.records}`);
      data['records'] = r;
      return { ...r, extra: [] };
    },
    '≥ 0.7 of the limit, ≥ 5× baseline',
  );
  if (ctx.python !== undefined) {
    const versus = await readerVsPython(ctx, ctx.python, { bucket, pod: pod.pod, size }, merged);
    figures.push(versus.figure);
    data['python'] = versus.data;
  }
  await read('reader.stream', `reader, library createReadStream(): ${size} pod, merged`, async () => {
    const r = (await runTask<StreamResult>('read.stream', { code: ctx.code, bucket, pod: pod.pod })).result;
    data['stream'] = r;
    return { ...r, extra: [] };
  });
  let cat: CliRun | undefined;
  await read('reader.cli', `reader, CLI log-reader cat: ${size} pod, merged`, async () => {
    cat = await catCli(ctx, bucket, pod.pod);
    data['cli'] = cat;
    return { ...cat, extra: ['process start included'] };
  });
  const readFigure = {
    id: 'memory.read.small',
    group: 'Memory',
    label: `peak RSS reading a ${size} pod log (CLI)`,
    scale: 'budget',
    unit: 'MiB peak RSS',
    better: 'lower',
    limit: 'budget: 256 MiB',
  } as const;
  figures.push(
    cat === undefined
      ? failedFigure(readFigure, 'the read failed')
      : memoryFigure(readFigure.id, readFigure.label, cat, `${mb(merged.bytes)} read`),
  );

  figures.push(...(await firstByteFigures(ctx, data)));
  figures.push(...(await bigPodFigures(ctx, data)));
  return { figures, data };
}

async function firstByteFigures(ctx: BenchContext, data: Record<string, object>): Promise<Figure[]> {
  const pod = firstBytePod(ctx.sizes);
  const bucket = ctx.bucket('first-byte');
  await createBucket(ctx.client, bucket);
  const seeded = await upload(ctx.client, [bucket], [pod], 16);
  const limitRun = (
    await runTask<Timing>('limit.firstByte', {
      bucket,
      pod: pod.pod,
      rawPrefix: `kube.var.log.containers.${pod.pod}_`,
      rounds: 3,
    })
  ).result;
  const limit = `first byte: ${seconds(limitRun.wallMs)}`;
  data['firstByte'] = { files: seeded.objects, records: seeded.records, limit: limitRun };
  ctx.log(`first byte: pod of ${seeded.objects} raw files; ${limit}`);
  const figures: Figure[] = [];
  const target = `< ${FIRST_BYTE_TARGET_MS} ms`;
  const base = { group: 'First byte', scale: 'limit', unit: 'ms', better: 'lower', limit, target } as const;
  const library = {
    ...base,
    id: 'firstbyte.library',
    label: `first record, library records(): ${seeded.objects} raw files`,
  };
  try {
    const r = (await runTask<ReadResult>('read.records', { code: ctx.code, bucket, pod: pod.pod })).result;
    const ms = r.firstRecordMs ?? Number.NaN;
    figures.push({
      ...library,
      ratio: limitRun.wallMs / ms,
      value: ms,
      details: [`whole log ${seconds(r.wallMs)}`, `${count(rate(r.records, r.wallMs))} records/s`],
    });
    data['firstByteLibrary'] = r;
  } catch (error) {
    figures.push(failedFigure(library, error));
  }
  const cli = { ...base, id: 'firstbyte.cli', label: `first byte, CLI log-reader cat: ${seeded.objects} raw files` };
  try {
    const run = await catCli(ctx, bucket, pod.pod);
    const ms = run.firstByteMs ?? Number.NaN;
    figures.push({
      ...cli,
      ratio: limitRun.wallMs / ms,
      value: ms,
      details: ['process start included', `whole log ${seconds(run.wallMs)}`],
    });
    data['firstByteCli'] = run;
  } catch (error) {
    figures.push(failedFigure(cli, error));
  }
  return figures;
}

async function bigPodFigures(ctx: BenchContext, data: Record<string, object>): Promise<Figure[]> {
  if (ctx.sizes.bigMB <= 0) return [];
  const pod = podOfSize(4000, ctx.sizes.bigMB, 10);
  const bucket = ctx.bucket('memory');
  await createBucket(ctx.client, bucket);
  const seeded = await upload(ctx.client, [bucket], [pod], 4);
  const size =
    ctx.sizes.bigMB >= 1000 ? `${(seeded.bytes / 1e9).toFixed(1)} GB` : `${Math.round(seeded.bytes / 1e6)} MB`;
  ctx.log(`memory: pod of ${mb(seeded.bytes)} raw NDJSON in ${seeded.objects} objects`);
  const base = {
    group: 'Memory',
    scale: 'budget',
    unit: 'MiB peak RSS',
    better: 'lower',
    limit: 'budget: 256 MiB',
  } as const;
  const figures: Figure[] = [];
  const compactFigure = { ...base, id: 'memory.compact.big', label: `peak RSS compacting a ${size} pod log (CLI)` };
  try {
    const run = await compactCli(ctx, bucket, pod.pod);
    figures.push(memoryFigure(compactFigure.id, compactFigure.label, run, `${mb(seeded.bytes)} merged`));
    data['bigCompact'] = run;
  } catch (error) {
    figures.push(failedFigure(compactFigure, error));
    return figures;
  }
  const readFigure = { ...base, id: 'memory.read.big', label: `peak RSS reading a ${size} pod log (CLI)` };
  try {
    const merged = await mergedFiles(ctx.client, bucket, pod.pod);
    const run = await catCli(ctx, bucket, pod.pod);
    figures.push(memoryFigure(readFigure.id, readFigure.label, run, `${mb(merged.bytes)} read`));
    data['bigRead'] = { ...run, merged: { files: merged.keys.length, bytes: merged.bytes, records: merged.records } };
  } catch (error) {
    figures.push(failedFigure(readFigure, error));
  }
  return figures;
}
