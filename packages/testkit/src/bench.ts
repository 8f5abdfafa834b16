#!/usr/bin/env node
/**
 * `bench`: compaction and reads as shares of limits measured in the same run on the same
 * bytes (the machine is shared: absolute times mean little alone), plus the absolute
 * figures. `make bench` runs it against a versitygw it starts (AWS_ENDPOINT_URL_S3 and
 * credentials in the environment).
 *
 *   bench [--quick] [--code DIR] [--out NAME] [--baseline FILE|none] [--cases LIST]
 *         [--big-mb N] [--scale-pods N] [--python-anchor DIR]
 *
 *   --quick        small sizes: tries every case in about a minute (not comparable)
 *   --code DIR     measure another checkout's built packages and bins (e.g. a worktree at
 *                  the `bench-baseline` tag, built with `npm ci --ignore-scripts && npx tsc -b`)
 *   --out NAME     bench/results/NAME.{json,md,png}; default `latest` (`quick` with --quick)
 *   --baseline F   compare with this report; default bench/results/baseline.json if present
 *                  (not with --quick)
 *   --cases LIST   comma-separated subset of compaction,reader,scale
 *   --update       keep the other cases of the existing NAME.json: re-measure only --cases
 *   --render       measure nothing: write NAME.md and NAME.png again from NAME.json
 *   --big-mb N     the big memory case's pod log in MB (default 2048, env BENCH_BIG_MB; 0 skips it)
 *   --scale-pods N pods of the scale case (default 1000, env BENCH_SCALE_PODS)
 *   --python-anchor DIR  also run the Python original (a measuring instrument's directory with
 *                  bench.py, env BENCH_PYTHON_ANCHOR; PM_SRC: a checkout of the original) on the
 *                  same data and server: rows "vs the Python original" (bench/python.ts)
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
import { anchorNote, resolveAnchor, type PythonAnchor } from './bench/python.js';
import { assembleReport, renderMarkdown, type BenchReport } from './bench/report.js';

const CASES: Record<string, (ctx: BenchContext) => Promise<CaseOutcome>> = {
  compaction: compactionCase,
  reader: readerCase,
  scale: scaleCase,
};
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
  const pin = /VERSITYGW_VERSION:-([^}]+)\}/.exec(
    readFileSync(join(OWN_CHECKOUT, 'scripts/install-versitygw.sh'), 'utf8'),
  );
  return pin ? `${pin[1]} (the pinned version)` : 'unknown version';
}

interface Options {
  readonly code: string;
  readonly out: string;
  readonly quick: boolean;
  readonly cases: readonly string[];
  readonly sizes: Sizes;
  readonly update: boolean;
  readonly render: boolean;
  readonly baseline: BenchReport | undefined;
  readonly python: PythonAnchor | undefined;
}

/** The options, or a usage message. */
function parseOptions(argv: string[]): Options | string {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      code: { type: 'string' },
      out: { type: 'string' },
      baseline: { type: 'string' },
      cases: { type: 'string' },
      update: { type: 'boolean', default: false },
      render: { type: 'boolean', default: false },
      'big-mb': { type: 'string' },
      'scale-pods': { type: 'string' },
      'python-anchor': { type: 'string' },
    },
  });
  const code = resolve(values.code ?? OWN_CHECKOUT);
  const problem = values.render ? undefined : checkCode(code);
  if (problem !== undefined) return problem;
  const cases = values.cases?.split(',').map((c) => c.trim()) ?? Object.keys(CASES);
  const unknown = cases.filter((c) => !(c in CASES));
  if (unknown.length > 0) return `unknown case ${unknown.join(', ')}; the cases are ${Object.keys(CASES).join(', ')}`;
  const quick = values.quick ?? false;
  const defaults = quick ? QUICK_SIZES : FULL_SIZES;
  let sizes: Sizes;
  try {
    sizes = {
      ...defaults,
      bigMB: count(values['big-mb'] ?? process.env['BENCH_BIG_MB'], defaults.bigMB, '--big-mb'),
      scalePods: count(values['scale-pods'] ?? process.env['BENCH_SCALE_PODS'], defaults.scalePods, '--scale-pods'),
    };
  } catch (error) {
    return describeError(error);
  }
  // A --quick run never replaces the latest full report.
  const out = values.out ?? (quick ? 'quick' : 'latest');
  const baselineFile =
    values.baseline === 'none' ? undefined : resolve(values.baseline ?? join(RESULTS, 'baseline.json'));
  // A --quick run is compared only with a baseline named explicitly: its sizes differ.
  const compare =
    baselineFile !== undefined &&
    existsSync(baselineFile) &&
    out !== 'baseline' &&
    (!quick || values.baseline !== undefined);
  const baseline = compare ? (JSON.parse(readFileSync(baselineFile, 'utf8')) as BenchReport) : undefined;
  const render = values.render ?? false;
  // Checked before anything is measured: a missing package should not cost a whole run.
  const python = render ? undefined : resolveAnchor(values['python-anchor'], process.env, OWN_CHECKOUT);
  if (typeof python === 'string') return python;
  return { code, out, quick, cases, sizes, update: values.update ?? false, render, baseline, python };
}

/** Runs the cases; a case that throws becomes a failed figure. */
async function runCases(
  ctx: BenchContext,
  names: readonly string[],
): Promise<{ figures: Figure[]; cases: Record<string, object> }> {
  const figures: Figure[] = [];
  const cases: Record<string, object> = {};
  for (const name of names) {
    const started = Date.now();
    try {
      const outcome = await (CASES[name] as (ctx: BenchContext) => Promise<CaseOutcome>)(ctx);
      figures.push(...outcome.figures.map((f) => ({ ...f, case: name })));
      cases[name] = { ...outcome.data, seconds: (Date.now() - started) / 1000 };
    } catch (error) {
      ctx.log(`${name}: failed: ${describeError(error)}`);
      const group = name === 'scale' ? 'Scale' : name === 'reader' ? 'Reader' : 'Compaction';
      figures.push(
        failedFigure(
          {
            id: `${name}.case`,
            case: name,
            group,
            label: `${name} case`,
            scale: 'limit',
            unit: '',
            better: 'higher',
            limit: '',
          },
          error,
        ),
      );
      cases[name] = { error: describeError(error) };
    }
    ctx.log(`${name}: done in ${Math.round((Date.now() - started) / 1000)} s`);
  }
  return { figures, cases };
}

/** NAME.md and NAME.png from a report; the Markdown is returned too. */
async function writeOutputs(
  out: string,
  name: string,
  report: BenchReport,
  baseline: BenchReport | undefined,
): Promise<string> {
  const markdown = renderMarkdown(report, baseline);
  writeFileSync(`${out}.md`, `# Benchmark: ${name}\n\n${markdown}`);
  try {
    const title = `${report.code.describe} on ${report.server.kind} ${report.server.version}${baseline === undefined ? '' : ` vs baseline ${baseline.code.describe}`}`;
    const names = {
      now: baseline === undefined ? report.code.describe : `now: ${report.code.describe}`,
      baseline: `baseline: ${baseline?.code.describe ?? ''}`,
    };
    writeFileSync(`${out}.png`, await renderChart(report.figures, baseline?.figures, title, names));
  } catch (error) {
    process.stderr.write(`bench: chart: failed: ${describeError(error)}\n`);
  }
  return markdown;
}

async function main(argv: string[]): Promise<number> {
  const options = parseOptions(argv);
  if (typeof options === 'string') {
    process.stderr.write(`bench: ${options}\n`);
    return 2;
  }
  mkdirSync(RESULTS, { recursive: true });
  const out = join(RESULTS, options.out);
  const previous =
    (options.update || options.render) && existsSync(`${out}.json`)
      ? (JSON.parse(readFileSync(`${out}.json`, 'utf8')) as BenchReport)
      : undefined;
  if (options.render) {
    if (previous === undefined) {
      process.stderr.write(`bench: --render: no ${out}.json\n`);
      return 2;
    }
    process.stdout.write(await writeOutputs(out, options.out, previous, options.baseline));
    return 0;
  }
  const endpoint = process.env['AWS_ENDPOINT_URL_S3'] ?? process.env['S3_TEST_ENDPOINT'];
  if (endpoint === undefined) {
    process.stderr.write(
      'bench: no S3 endpoint: set AWS_ENDPOINT_URL_S3 (make bench starts a versitygw and sets it)\n',
    );
    return 2;
  }
  process.env['AWS_ENDPOINT_URL_S3'] = endpoint; // the children and the CLIs find it here

  const startedAt = new Date();
  const runId = startedAt.getTime().toString(36);
  const client = createS3Client({ maxSockets: 64 });
  const ctx: BenchContext = {
    code: options.code,
    sizes: options.sizes,
    client,
    bucket: (name) => `bench-${runId}-${name}`,
    log: (line) => process.stderr.write(`bench: ${line}\n`),
    ...(options.python === undefined ? {} : { python: options.python }),
  };
  const described = describeCode(options.code);
  const kind = process.env['S3_TEST_SERVER'] ?? 'unknown server';
  ctx.log(
    `measuring ${options.code} (${described.describe}) on ${kind} at ${endpoint}${options.quick ? ', --quick sizes' : ''}`,
  );
  const python = anchorNote(
    options.python,
    options.python === undefined ? undefined : describeCode(options.python.pmSrc).commit,
  );
  ctx.log(python);
  const measured = await runCases(ctx, options.cases);
  client.destroy();

  const report = assembleReport({
    startedAt,
    code: { dir: options.code, ...described },
    server: { kind, version: serverVersion(kind) },
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
      node: process.version,
      memoryGB: Math.round(totalmem() / 1e9),
    },
    quick: options.quick,
    sizes: options.sizes,
    measured,
    order: Object.keys(CASES),
    previous: options.update ? previous : undefined,
    notes: [python],
  });
  writeFileSync(`${out}.json`, `${JSON.stringify(report, null, 2)}\n`);
  const markdown = await writeOutputs(out, options.out, report, options.baseline);
  process.stdout.write(
    `${markdown}\nWritten: ${out}.json, ${out}.md, ${out}.png (${Math.round(report.durationS)} s)\n`,
  );
  return report.figures.some((f) => f.error !== undefined) ? 1 : 0;
}

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
if (process.argv[1]?.endsWith('bench.js')) process.exitCode = await main(process.argv.slice(2));
