#!/usr/bin/env node
/**
 * `bench`: compaction and reads as shares of limits measured in the same run on the same
 * bytes (the machine is shared: absolute times mean little alone), plus the absolute
 * figures. `make bench` runs it against a versitygw it starts (AWS_ENDPOINT_URL_S3 and
 * credentials in the environment).
 *
 *   bench [--quick] [--code DIR] [--out NAME] [--baseline FILE|none] [--cases LIST]
 *         [--big-mb N] [--scale-pods N]
 *
 *   --quick        small sizes: tries every case in about a minute (not comparable)
 *   --code DIR     measure another checkout's built packages and bins (e.g. a worktree at
 *                  the `bench-baseline` tag, built with `npm ci --ignore-scripts && npx tsc -b`)
 *   --out NAME     bench/results/NAME.{json,md,png}; default `latest`
 *   --baseline F   compare with this report; default bench/results/baseline.json if present
 *                  (not with --quick)
 *   --cases LIST   comma-separated subset of compaction,reader,scale
 *   --update       keep the other cases of the existing NAME.json: re-measure only --cases
 *   --big-mb N     the big memory case's pod log in MB (default 2048, env BENCH_BIG_MB; 0 skips it)
 *   --scale-pods N pods of the scale case (default 1000, env BENCH_SCALE_PODS)
 *
 * Cases (packages/testkit/src/bench/cases/) and limits (bench/limits.ts) say what they
 * measure. A failing case is reported in its cells; the exit code is then 1.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createS3Client } from '@platform/log-reader';
import { compactionCase } from './bench/cases/compaction.js';
import { readerCase } from './bench/cases/reader.js';
import { scaleCase } from './bench/cases/scale.js';
import { renderChart } from './bench/chart.js';
import { checkCode, describeCode, OWN_CHECKOUT } from './bench/code.js';
import { describeError, failedFigure, type BenchContext, type CaseOutcome, type Figure } from './bench/context.js';
import { FULL_SIZES, QUICK_SIZES, type Sizes } from './bench/data.js';
import { renderMarkdown, type BenchReport } from './bench/report.js';

const CASES: Record<string, (ctx: BenchContext) => Promise<CaseOutcome>> = { compaction: compactionCase, reader: readerCase, scale: scaleCase };
const RESULTS = join(OWN_CHECKOUT, 'bench/results');

function count(text: string | undefined, fallback: number, flag: string): number {
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${flag} must be a whole number, got ${JSON.stringify(text)}`);
  return n;
}

/** The server's name and version: versitygw's module version from its binary when Go can read it. */
function serverVersion(kind: string): string {
  if (kind !== 'versitygw') return 'unknown version';
  const bin = process.env['VERSITYGW_BIN'] ?? join(OWN_CHECKOUT, '.tools/bin/versitygw');
  try {
    const info = execFileSync('go', ['version', '-m', bin], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const mod = /^\s*mod\s+github\.com\/versity\/versitygw\s+(\S+)/m.exec(info);
    if (mod) return mod[1] as string;
  } catch {
    // no Go: the pin of scripts/install-versitygw.sh is what `make install` built
  }
  const pin = /VERSITYGW_VERSION:-([^}]+)\}/.exec(readFileSync(join(OWN_CHECKOUT, 'scripts/install-versitygw.sh'), 'utf8'));
  return pin ? `${pin[1]} (the pinned version)` : 'unknown version';
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      code: { type: 'string' },
      out: { type: 'string', default: 'latest' },
      baseline: { type: 'string' },
      cases: { type: 'string' },
      update: { type: 'boolean', default: false },
      'big-mb': { type: 'string' },
      'scale-pods': { type: 'string' },
    },
  });
  const code = resolve(values.code ?? OWN_CHECKOUT);
  const problem = checkCode(code);
  if (problem !== undefined) {
    process.stderr.write(`bench: ${problem}\n`);
    return 2;
  }
  const endpoint = process.env['AWS_ENDPOINT_URL_S3'] ?? process.env['S3_TEST_ENDPOINT'];
  if (endpoint === undefined) {
    process.stderr.write('bench: no S3 endpoint: set AWS_ENDPOINT_URL_S3 (make bench starts a versitygw and sets it)\n');
    return 2;
  }
  process.env['AWS_ENDPOINT_URL_S3'] = endpoint; // the children and the CLIs find it here
  const selected = values.cases?.split(',').map((c) => c.trim()) ?? Object.keys(CASES);
  const unknown = selected.filter((c) => !(c in CASES));
  if (unknown.length > 0) {
    process.stderr.write(`bench: unknown case ${unknown.join(', ')}; the cases are ${Object.keys(CASES).join(', ')}\n`);
    return 2;
  }
  const defaults = values.quick ? QUICK_SIZES : FULL_SIZES;
  let sizes: Sizes;
  try {
    sizes = {
      ...defaults,
      bigMB: count(values['big-mb'] ?? process.env['BENCH_BIG_MB'], defaults.bigMB, '--big-mb'),
      scalePods: count(values['scale-pods'] ?? process.env['BENCH_SCALE_PODS'], defaults.scalePods, '--scale-pods'),
    };
  } catch (error) {
    process.stderr.write(`bench: ${describeError(error)}\n`);
    return 2;
  }
  const baselineFile = values.baseline === 'none' ? undefined : resolve(values.baseline ?? join(RESULTS, 'baseline.json'));
  // A --quick run is compared only with a baseline named explicitly: its sizes differ.
  const compare = baselineFile !== undefined && existsSync(baselineFile) && values.out !== 'baseline' && (!values.quick || values.baseline !== undefined);
  const baseline = compare ? (JSON.parse(readFileSync(baselineFile, 'utf8')) as BenchReport) : undefined;

  const startedAt = new Date();
  const runId = startedAt.getTime().toString(36);
  const client = createS3Client({ maxSockets: 64 });
  const ctx: BenchContext = {
    code,
    sizes,
    client,
    bucket: (name) => `bench-${runId}-${name}`,
    log: (line) => process.stderr.write(`bench: ${line}\n`),
  };
  const described = describeCode(code);
  const kind = process.env['S3_TEST_SERVER'] ?? 'unknown server';
  ctx.log(`measuring ${code} (${described.describe}) on ${kind} at ${endpoint}${values.quick ? ', --quick sizes' : ''}`);

  const figures: Figure[] = [];
  const cases: Record<string, object> = {};
  for (const name of selected) {
    const started = Date.now();
    try {
      const outcome = await (CASES[name] as (ctx: BenchContext) => Promise<CaseOutcome>)(ctx);
      figures.push(...outcome.figures.map((f) => ({ ...f, case: name })));
      cases[name] = { ...outcome.data, seconds: (Date.now() - started) / 1000 };
    } catch (error) {
      ctx.log(`${name}: failed: ${describeError(error)}`);
      figures.push(failedFigure({ id: `${name}.case`, case: name, group: name === 'scale' ? 'Scale' : name === 'reader' ? 'Reader' : 'Compaction', label: `${name} case`, scale: 'limit', unit: '', better: 'higher', limit: '' }, error));
      cases[name] = { error: describeError(error) };
    }
    ctx.log(`${name}: done in ${Math.round((Date.now() - started) / 1000)} s`);
  }
  client.destroy();

  const notes = [
    `Sizes: compaction ${sizes.compactionPods} pods × ${sizes.compactionObjects} raw objects × ${sizes.compactionRecords} records (every fourth pod gzip); reader pod ${sizes.readerMB} MB in 1 MB objects, merged by the CLI first; first byte ${sizes.firstByteFiles} raw files of 20 records; big memory pod ${sizes.bigMB} MB in 10 MB objects; scale ${sizes.scalePods} pods × 3 raw files of 5 records${sizes.scalePods === FULL_SIZES.scalePods ? ' (to keep `make bench` under 10 minutes; the issue asks for 10,000: `BENCH_SCALE_PODS=10000 make bench`, about 10 minutes more)' : ''}.`,
    'Records: about 855 bytes of NDJSON each, most of it the `kubernetes` map; 10% stderr; a few lines over 16 KiB split into P/F pieces, some across two uploads (packages/testkit/src/realistic.ts, deterministic).',
    'Every case runs in a Node process of its own: CPU time is `process.cpuUsage()` around the work (all threads), peak RSS is the process\'s `maxRSS`. The CLIs run as built bins; their first byte and wall time include process start.',
  ];
  mkdirSync(RESULTS, { recursive: true });
  const out = join(RESULTS, values.out ?? 'latest');
  // --update: the cases not re-measured come from the existing report, in case order.
  const previous = values.update && existsSync(`${out}.json`) ? (JSON.parse(readFileSync(`${out}.json`, 'utf8')) as BenchReport) : undefined;
  const kept = (previous?.figures ?? []).filter((f) => f.case !== undefined && !selected.includes(f.case));
  const order = Object.keys(CASES);
  const allFigures = [...kept, ...figures].sort((a, b) => order.indexOf(a.case ?? '') - order.indexOf(b.case ?? ''));
  const report: BenchReport = {
    schema: 1,
    startedAt: (previous?.startedAt ?? startedAt.toISOString()),
    durationS: (previous?.durationS ?? 0) + (Date.now() - startedAt.getTime()) / 1000,
    code: { dir: code, ...described },
    server: { kind, version: serverVersion(kind) },
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model.trim() ?? 'unknown', node: process.version, memoryGB: Math.round(totalmem() / 1e9) },
    quick: values.quick ?? false,
    sizes,
    figures: allFigures,
    cases: { ...previous?.cases, ...cases },
    notes: previous === undefined ? notes : [...notes, `Updated: ${selected.join(', ')} re-measured at ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC.`],
  };
  writeFileSync(`${out}.json`, `${JSON.stringify(report, null, 2)}\n`);
  const markdown = renderMarkdown(report, baseline);
  writeFileSync(`${out}.md`, `# Benchmark: ${values.out}\n\n${markdown}`);
  try {
    const title = `${report.code.describe} on ${report.server.kind} ${report.server.version}${baseline === undefined ? '' : ` vs baseline ${baseline.code.describe}`}`;
    const names = { now: baseline === undefined ? report.code.describe : `now: ${report.code.describe}`, baseline: `baseline: ${baseline?.code.describe ?? ''}` };
    writeFileSync(`${out}.png`, await renderChart(allFigures, baseline?.figures, title, names));
  } catch (error) {
    ctx.log(`chart: failed: ${describeError(error)}`);
  }
  process.stdout.write(`${markdown}\nWritten: ${out}.json, ${out}.md, ${out}.png (${Math.round(report.durationS)} s)\n`);
  return allFigures.some((f) => f.error !== undefined) ? 1 : 0;
}

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
if (process.argv[1]?.endsWith('bench.js')) process.exitCode = await main(process.argv.slice(2));
