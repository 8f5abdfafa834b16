/**
 * Case 4, scale: `scalePods` pods of 3 raw files each; one pass (`--concurrency 8`), then a
 * second one with nothing due. Wall time against the scale limit (the requests a pass needs
 * at the least, sent 8 pods at once), and S3 requests per pod by kind (SDK middleware on the
 * pass's client) against that least number: 8 for a pod with work (GET metadata, LIST, 3
 * GETs, PUT cleanup marker, merged file, metadata), 1 for a pod merged within the compact
 * interval (GET metadata: it says nothing is due). The target for an idle pod is 2.
 * Passes run with the production overlay's retention (90 days), so deciding expiry is counted.
 */
import { createBucket, scalePods, upload } from '../data.js';
import {
  count,
  describeError,
  failedFigure,
  listAll,
  rate,
  seconds,
  type BenchContext,
  type CaseOutcome,
  type Figure,
} from '../context.js';
import { totalRequests, type RequestCounts } from '../counting.js';
import { runTask, type Timing } from '../process.js';
import type { PassResult } from '../tasks.js';

const CONCURRENCY = 8;
const RAW_FILES = 3;
/** The least requests per pod (see the top). */
export const LEAST_REQUESTS = { work: 5 + RAW_FILES, idle: 1 } as const;

/** Requests per pod by kind; kinds sent a few times per pass (not per pod) summed at the end. */
function perPod(counts: RequestCounts, pods: number): string[] {
  const sorted = Object.entries(counts).sort((a, b) => b[1] - a[1]);
  const often = sorted.filter(([, n]) => n / pods >= 0.05).map(([name, n]) => `${name} ${(n / pods).toFixed(2)}`);
  const rare = sorted.filter(([, n]) => n / pods < 0.05);
  const rareTotal = rare.reduce((sum, [, n]) => sum + n, 0);
  return rare.length === 0 ? often : [...often, `+ ${rareTotal} per pass (${rare.map(([name]) => name).join(', ')})`];
}

export async function scaleCase(ctx: BenchContext): Promise<CaseOutcome> {
  const pods = scalePods(ctx.sizes);
  const bucket = ctx.bucket('scale');
  await createBucket(ctx.client, bucket);
  const started = Date.now();
  const seeded = await upload(ctx.client, [bucket], pods, 32);
  ctx.log(`scale: ${pods.length} pods, ${seeded.objects} raw files seeded in ${seconds(Date.now() - started)}`);

  const base = { group: 'Scale', scale: 'limit' } as const;
  const specs = {
    firstWall: {
      ...base,
      id: 'scale.first.wall',
      label: `scale, first pass over ${pods.length} pods: wall time`,
      unit: 's',
      better: 'lower',
    },
    firstRequests: {
      ...base,
      id: 'scale.first.requests',
      label: `scale, first pass: S3 requests per pod`,
      unit: 'requests/pod',
      better: 'lower',
      target: `the least: ${LEAST_REQUESTS.work} (GET metadata, LIST, ${RAW_FILES} GET, 3 PUT)`,
    },
    secondWall: {
      ...base,
      id: 'scale.second.wall',
      label: `scale, second pass, nothing due: wall time`,
      unit: 's',
      better: 'lower',
    },
    secondRequests: {
      ...base,
      id: 'scale.second.requests',
      label: `scale, second pass: S3 requests per idle pod`,
      unit: 'requests/pod',
      better: 'lower',
      target: '≤ 2 (the least: 1, GET metadata)',
    },
  } as const;
  let passes: { first: PassResult; second: PassResult };
  try {
    passes = (
      await runTask<{ first: PassResult; second: PassResult }>('scale.passes', {
        code: ctx.code,
        bucket,
        concurrency: CONCURRENCY,
      })
    ).result;
  } catch (error) {
    ctx.log(`scale: failed: ${describeError(error)}`);
    return { figures: Object.values(specs).map((s) => failedFigure({ ...s, limit: 'scale' }, error)), data: {} };
  }
  // The limit PUTs a merged file as large as the pass's average one.
  const merged = await listAll(ctx.client, bucket, 'data/');
  const mergedSize = Math.round(merged.reduce((n, o) => n + o.size, 0) / Math.max(1, merged.length));
  const limitPods = pods.map((p) => ({
    pod: p.pod,
    rawPrefix: `kube.var.log.containers.${p.pod}_`,
    keys: seeded.keys.get(p.pod) ?? [],
  }));
  const limits = (
    await runTask<{ work: Timing & { requests: number }; idle: Timing & { requests: number } }>('limit.scale', {
      bucket,
      pods: limitPods,
      concurrency: CONCURRENCY,
      mergedSize,
      rounds: 1,
    })
  ).result;

  const figures: Figure[] = [];
  const n = pods.length;
  for (const [which, pass, limit, least] of [
    ['first', passes.first, limits.work, LEAST_REQUESTS.work],
    ['second', passes.second, limits.idle, LEAST_REQUESTS.idle],
  ] as const) {
    const wall = which === 'first' ? specs.firstWall : specs.secondWall;
    const requests = which === 'first' ? specs.firstRequests : specs.secondRequests;
    const total = totalRequests(pass.requests);
    figures.push({
      ...wall,
      ratio: limit.wallMs / pass.wallMs,
      value: pass.wallMs / 1000,
      details: [`${count(rate(n, pass.wallMs))} pods/s`, `${seconds(pass.cpuMs)} CPU`],
      limit: `least requests, ${CONCURRENCY} pods at once: ${seconds(limit.wallMs)}`,
    });
    figures.push({
      ...requests,
      ratio: least / (total / n),
      value: total / n,
      details: [`${count(total)} requests`, ...perPod(pass.requests, n)],
      limit: `least: ${least} per pod`,
    });
    ctx.log(
      `scale ${which} pass: ${seconds(pass.wallMs)} (limit ${seconds(limit.wallMs)}), ${(total / n).toFixed(2)} requests/pod`,
    );
  }
  return { figures, data: { pods: n, rawFiles: seeded.objects, passes, limits, mergedSize } };
}
