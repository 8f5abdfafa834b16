/**
 * The rows "vs the Python original" (only with `--python-anchor`, bench/python.ts): each
 * figure's limit is the original's own figure on the same data and server in the same run,
 * so its ratio reads "× the Python original".
 *   - compaction: our compactor CLI (`compactor run`, a process of its own, start included,
 *     as the CronJob runs it) and the original's `compact_one` over every pod, each on its own
 *     copy of the compaction case's raw objects; raw MB per CPU-second and per wall-second;
 *   - reads: our library's `createReadStream()` and the original's `S3LogReader` over the same
 *     merged files of the reader case's pod (the original reads our metadata, docs/design.md
 *     §3), each writing the log into a file; records per second.
 * Both sides must have processed the same records (counted), else the row fails.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bins } from '../code.js';
import {
  count,
  describeError,
  failedFigure,
  mb,
  mergedFiles,
  rate,
  seconds,
  type BenchContext,
  type Figure,
  type MergedFiles,
} from '../context.js';
import type { Uploaded } from '../data.js';
import { runCli, runTask, type Timing } from '../process.js';
import { anchorCompactAndRead, anchorReadOne, timesOriginal, type PythonAnchor } from '../python.js';

/** The targets: ≥ 2.5× the original's compaction, ≥ 8× its reads. */
const COMPACTION_TARGET = '≥ 2.5× the Python original';
const READ_TARGET = '≥ 8× the Python original';

/** The records a bucket's pods hold in merged files, by their metadata. */
async function mergedRecords(ctx: BenchContext, bucket: string, pods: readonly string[]): Promise<number> {
  const files = await Promise.all(pods.map((pod) => mergedFiles(ctx.client, bucket, pod)));
  return files.reduce((n, f) => n + f.records, 0);
}

/**
 * Our CLI on `buckets.cli`, the original on `buckets.python`, both holding `seeded`. The
 * original writes a record per raw line; we join `P…F` pieces into one line.
 */
export async function compactionVsPython(
  ctx: BenchContext,
  anchor: PythonAnchor,
  buckets: { readonly cli: string; readonly python: string },
  pods: readonly string[],
  seeded: Uploaded,
): Promise<{ figures: Figure[]; data: object }> {
  const base = { group: 'Compaction', scale: 'limit', better: 'higher', target: COMPACTION_TARGET } as const;
  const cpuFigure = {
    ...base,
    id: 'python.compaction.cpu',
    label: 'compaction, CLI `compactor run` vs the Python original: raw MB per CPU-second',
    unit: 'MB/CPU-s',
  };
  const wallFigure = {
    ...base,
    id: 'python.compaction.wall',
    label: 'compaction, CLI `compactor run` vs the Python original: raw MB per wall-second',
    unit: 'MB/s',
  };
  try {
    // As the production CronJob runs it: the CLI's defaults (--concurrency among them), the overlay's retention.
    const cli = await runCli(bins(ctx.code).compactor, [
      'run',
      '--bucket',
      buckets.cli,
      '--retention',
      '90d',
      '--log-level',
      'error',
    ]);
    const python = await anchorCompactAndRead(anchor, buckets.python, pods);
    const ours = await mergedRecords(ctx, buckets.cli, pods);
    const theirs = await mergedRecords(ctx, buckets.python, pods);
    if (ours !== seeded.records - seeded.partials || theirs !== seeded.records)
      throw new Error(
        `not the same records: ${seeded.records} raw lines (${seeded.partials} P pieces); our CLI merged ${ours} lines (expected ${seeded.records - seeded.partials}), the original ${theirs} (expected ${seeded.records})`,
      );
    const raw = seeded.bytes / 1e6;
    const cpu = { ours: rate(raw, cli.cpuMs), theirs: rate(raw, python.compactCpuMs) };
    const wall = { ours: rate(raw, cli.wallMs), theirs: rate(raw, python.compactWallMs) };
    ctx.log(
      `compaction vs the Python original: ${timesOriginal(cpu.ours, cpu.theirs)} per CPU-second, ${timesOriginal(wall.ours, wall.theirs)} per wall-second`,
    );
    return {
      figures: [
        {
          ...cpuFigure,
          ratio: cpu.ours / cpu.theirs,
          value: cpu.ours,
          details: [
            timesOriginal(cpu.ours, cpu.theirs),
            `${seconds(cli.cpuMs)} CPU for ${mb(seeded.bytes)}, process start included`,
            `the original: ${seconds(python.compactCpuMs)} CPU, start-up excluded`,
          ],
          limit: `the Python original's compact_one, same objects: ${cpu.theirs.toFixed(1)} MB/CPU-s`,
        },
        {
          ...wallFigure,
          ratio: wall.ours / wall.theirs,
          value: wall.ours,
          details: [
            timesOriginal(wall.ours, wall.theirs),
            `${seconds(cli.wallMs)}, the default --concurrency, process start included`,
            `the original: ${seconds(python.compactWallMs)}, one pod at a time`,
            `${count(seeded.records)} raw lines merged by each`,
          ],
          limit: `the Python original's compact_one, same objects: ${wall.theirs.toFixed(1)} MB/s`,
        },
      ],
      data: { cli, python, records: { raw: seeded.records, partials: seeded.partials, ours, theirs } },
    };
  } catch (error) {
    ctx.log(`compaction vs the Python original: failed: ${describeError(error)}`);
    return {
      figures: [
        failedFigure({ ...cpuFigure, limit: 'the Python original' }, error),
        failedFigure({ ...wallFigure, limit: 'the Python original' }, error),
      ],
      data: { error: describeError(error) },
    };
  }
}

/** Lines (newlines) and bytes of a file. */
function linesOf(file: string): { lines: number; bytes: number } {
  const text = readFileSync(file);
  let lines = 0;
  for (let at = text.indexOf(10); at >= 0; at = text.indexOf(10, at + 1)) lines += 1;
  return { lines, bytes: text.length };
}

/**
 * The original's reader over `pod` of `bucket` (already merged by us) against ours over the
 * same files, each serving the whole log into a file from its library, in process: our
 * `createReadStream()` through `pipeline`, its `S3LogReader` by the anchor's `read-one`. Both
 * write `{message}\n` per record, so the two files must have a line per record (and are
 * compared byte for byte: the report says whether they match).
 */
export async function readerVsPython(
  ctx: BenchContext,
  anchor: PythonAnchor,
  read: { readonly bucket: string; readonly pod: string; readonly size: string },
  merged: MergedFiles,
): Promise<{ figure: Figure; data: object }> {
  const base = {
    id: 'python.reader.records',
    group: 'Reader',
    label: `reader, library createReadStream() vs the Python original's S3LogReader, into a file: ${read.size} pod, merged`,
    scale: 'limit',
    unit: 'records/s',
    better: 'higher',
    target: READ_TARGET,
  } as const;
  const dir = mkdtempSync(join(tmpdir(), 'bench-python-'));
  try {
    const ourOut = join(dir, 'ours.txt');
    const ours = (
      await runTask<Timing & { readonly bytes: number }>('read.stream', {
        code: ctx.code,
        bucket: read.bucket,
        pod: read.pod,
        out: ourOut,
      })
    ).result;
    const out = join(dir, 'log.txt');
    const python = await anchorReadOne(anchor, read.bucket, read.pod, out);
    const served = linesOf(out);
    const ourLines = linesOf(ourOut);
    if (served.lines !== merged.records || ourLines.lines !== merged.records)
      throw new Error(
        `not the same records: the metadata lists ${merged.records}, ours served ${ourLines.lines} lines, the original ${served.lines}`,
      );
    const identical = readFileSync(out).equals(readFileSync(ourOut));
    const perSecond = { ours: rate(merged.records, ours.wallMs), theirs: rate(merged.records, python.wallMs) };
    const perCpu = { ours: rate(merged.bytes / 1e6, ours.cpuMs), theirs: rate(merged.bytes / 1e6, python.cpuMs) };
    ctx.log(`reader vs the Python original: ${timesOriginal(perSecond.ours, perSecond.theirs)} records/s`);
    return {
      figure: {
        ...base,
        ratio: perSecond.ours / perSecond.theirs,
        value: perSecond.ours,
        details: [
          timesOriginal(perSecond.ours, perSecond.theirs),
          `${perCpu.ours.toFixed(1)} MB/CPU-s, the original ${perCpu.theirs.toFixed(1)} (${timesOriginal(perCpu.ours, perCpu.theirs)})`,
          `the original: ${seconds(python.wallMs)} for ${count(served.lines)} lines, ${mb(served.bytes)}, its imports included`,
          identical ? 'the two outputs identical' : 'the two outputs differ (same line count)',
        ],
        limit: `the Python original's reader, same merged files: ${count(perSecond.theirs)} records/s`,
      },
      data: { ours, python, served, identical },
    };
  } catch (error) {
    ctx.log(`reader vs the Python original: failed: ${describeError(error)}`);
    return {
      figure: failedFigure({ ...base, limit: 'the Python original' }, error),
      data: { error: describeError(error) },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
