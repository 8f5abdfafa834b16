/**
 * Case 1, compaction: one pass (`runPass` of the code under test) over the compaction pods,
 * `--concurrency` 1 and 4, each on its own copy of the same raw objects. Raw MB per
 * CPU-second against the in-process limit (at the zlib level the pass used, recognised by
 * the size of its output), raw MB per wall-second against the transfer limit at the same
 * concurrency. "Raw MB": NDJSON bytes of the raw objects before any gzip. With the Python
 * anchor, two more copies: our CLI's and the original's (cases/python.ts).
 */
import { compactionPods, createBucket, upload } from '../data.js';
import {
  count,
  describeError,
  failedFigure,
  listAll,
  mb,
  mergedFiles,
  rate,
  seconds,
  type BenchContext,
  type CaseOutcome,
  type Figure,
} from '../context.js';
import { totalRequests } from '../counting.js';
import type { GzipResult, InProcessResult, TransferResult } from '../limits.js';
import { runTask } from '../process.js';
import type { PassResult } from '../tasks.js';
import { compactionVsPython } from './python.js';

export const ZLIB_LEVELS = [1, 3, 6] as const;
const CONCURRENCIES = [1, 4] as const;

export async function compactionCase(ctx: BenchContext): Promise<CaseOutcome> {
  const pods = compactionPods(ctx.sizes);
  const buckets = CONCURRENCIES.map((c) => ctx.bucket(`compact-c${c}`));
  const anchorBuckets = { cli: ctx.bucket('compact-cli'), python: ctx.bucket('compact-python') };
  const copies = ctx.python === undefined ? buckets : [...buckets, anchorBuckets.cli, anchorBuckets.python];
  for (const bucket of copies) await createBucket(ctx.client, bucket);
  const seeded = await upload(ctx.client, copies, pods, 16);
  const keys = pods.map((p) => seeded.keys.get(p.pod) ?? []);
  ctx.log(
    `compaction: ${pods.length} pods, ${seeded.objects} raw objects, ${mb(seeded.bytes)} NDJSON (${mb(seeded.storedBytes)} stored), ${count(seeded.records)} records`,
  );

  const limits = (
    await runTask<{ levels: InProcessResult[]; gzip: GzipResult[] }>('limit.inProcess', {
      bucket: buckets[0],
      pods: keys,
      levels: ZLIB_LEVELS,
      rounds: 2,
    })
  ).result;
  const inProcess = limits.levels;
  ctx.log(
    `compaction: in-process limit ${inProcess.map((l) => `level ${l.level} ${rate(l.rawBytes / 1e6, l.cpuMs).toFixed(0)} MB/CPU-s`).join(', ')}`,
  );

  const figures: Figure[] = [];
  const data: Record<string, object> = {
    seeded: { objects: seeded.objects, bytes: seeded.bytes, storedBytes: seeded.storedBytes, records: seeded.records },
    inProcess,
    gzip: limits.gzip,
  };
  for (const [i, concurrency] of CONCURRENCIES.entries()) {
    const bucket = buckets[i] as string;
    const base = { group: 'Compaction', scale: 'limit', better: 'higher' } as const;
    const cpuFigure = {
      ...base,
      id: `compaction.c${concurrency}.cpu`,
      label: `compaction, --concurrency ${concurrency}: raw MB per CPU-second`,
      unit: 'MB/CPU-s',
      target: '≥ 0.6 of the limit, ≥ 4× baseline',
    };
    const wallFigure = {
      ...base,
      id: `compaction.c${concurrency}.wall`,
      label: `compaction, --concurrency ${concurrency}: raw MB per wall-second`,
      unit: 'MB/s',
    };
    try {
      const pass = (await runTask<PassResult>('compact.pass', { code: ctx.code, bucket, concurrency })).result;
      // What the pass wrote: its merged files, their gzip and NDJSON sizes.
      const written = await Promise.all(
        pods.map(async (p) => ({
          objects: await listAll(ctx.client, bucket, `data/${p.pod}/`),
          merged: await mergedFiles(ctx.client, bucket, p.pod),
        })),
      );
      const gzipBytes = written.reduce((n, w) => n + w.objects.reduce((m, o) => m + o.size, 0), 0);
      const mergedBytes = written.reduce((n, w) => n + w.merged.bytes, 0);
      const limit = levelOf(inProcess, gzipBytes / mergedBytes);
      const transferPods = keys.map((k, p) => ({ keys: k, putSizes: (written[p]?.objects ?? []).map((o) => o.size) }));
      const transfer = (
        await runTask<TransferResult>('limit.transfer', { bucket, pods: transferPods, concurrency, rounds: 3 })
      ).result;
      const cpuRate = rate(seeded.bytes / 1e6, pass.cpuMs);
      const wallRate = rate(seeded.bytes / 1e6, pass.wallMs);
      const limitCpuRate = rate(limit.rawBytes / 1e6, limit.cpuMs);
      const transferRate = rate(seeded.bytes / 1e6, transfer.wallMs);
      const requests = totalRequests(pass.requests);
      figures.push({
        ...cpuFigure,
        ratio: cpuRate / limitCpuRate,
        value: cpuRate,
        details: [
          `${seconds(pass.cpuMs)} CPU for ${mb(seeded.bytes)}`,
          `${count(rate(seeded.records, pass.cpuMs))} records/CPU-s`,
        ],
        limit: `in-process, zlib level ${limit.level}: ${limitCpuRate.toFixed(0)} MB/CPU-s`,
      });
      figures.push({
        ...wallFigure,
        ratio: wallRate / transferRate,
        value: wallRate,
        details: [
          `${seconds(pass.wallMs)}`,
          `${count(rate(seeded.records, pass.wallMs))} records/s`,
          `${(requests / pods.length).toFixed(1)} requests/pod`,
        ],
        limit: `transfer, ${concurrency} pod${concurrency > 1 ? 's' : ''} at once: ${transferRate.toFixed(0)} MB/s`,
      });
      data[`c${concurrency}`] = {
        pass,
        gzipBytes,
        mergedBytes,
        compression: gzipBytes / mergedBytes,
        level: limit.level,
        transfer,
      };
      ctx.log(
        `compaction c${concurrency}: ${cpuRate.toFixed(1)} MB/CPU-s (${(cpuRate / limitCpuRate).toFixed(2)} of limit), ${wallRate.toFixed(1)} MB/s (${(wallRate / transferRate).toFixed(2)} of transfer)`,
      );
    } catch (error) {
      ctx.log(`compaction c${concurrency}: failed: ${describeError(error)}`);
      figures.push(
        failedFigure({ ...cpuFigure, limit: 'in-process' }, error),
        failedFigure({ ...wallFigure, limit: 'transfer' }, error),
      );
    }
  }
  if (ctx.python !== undefined) {
    const versus = await compactionVsPython(
      ctx,
      ctx.python,
      anchorBuckets,
      pods.map((p) => p.pod),
      seeded,
    );
    figures.push(...versus.figures);
    data['python'] = versus.data;
  }
  return { figures, data };
}

/** The limit at the zlib level whose output size is nearest the pass's (gzip / NDJSON). */
function levelOf(levels: readonly InProcessResult[], compression: number): InProcessResult {
  const distance = (l: InProcessResult): number => Math.abs(Math.log(l.gzipBytes / l.mergedBytes / compression));
  return levels.reduce((a, b) => (distance(b) < distance(a) ? b : a));
}
