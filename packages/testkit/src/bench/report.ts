/**
 * The bench's report: the JSON document (`bench/results/*.json`, what a later run compares
 * against) and its Markdown table, baseline and now side by side.
 */
import { FULL_SIZES, type Sizes } from './data.js';
import type { Figure } from './context.js';

export interface BenchReport {
  readonly schema: 1;
  readonly startedAt: string;
  readonly durationS: number;
  readonly code: { readonly dir: string; readonly commit: string; readonly describe: string; readonly subject: string };
  readonly server: { readonly kind: string; readonly version: string };
  readonly machine: {
    readonly cpus: number;
    readonly cpuModel: string;
    readonly node: string;
    readonly memoryGB: number;
  };
  readonly quick: boolean;
  readonly sizes: Sizes;
  readonly figures: readonly Figure[];
  /** Each case's raw measurements, or its error. */
  readonly cases: Readonly<Record<string, object>>;
  readonly notes: readonly string[];
}

export interface Measured {
  readonly figures: readonly Figure[];
  readonly cases: Readonly<Record<string, object>>;
}

/**
 * The report of a run. With `previous` (`--update`), the cases not measured now are kept
 * from it, in case `order`.
 */
export function assembleReport(
  run: Pick<BenchReport, 'code' | 'server' | 'machine' | 'quick' | 'sizes'> & {
    startedAt: Date;
    measured: Measured;
    order: readonly string[];
    previous: BenchReport | undefined;
    /** Notes of this run beyond the sizes (the Python anchor's). */
    notes?: readonly string[];
  },
): BenchReport {
  const { measured, previous, order, startedAt } = run;
  const remeasured = new Set(measured.figures.map((f) => f.case));
  const kept = (previous?.figures ?? []).filter((f) => f.case !== undefined && !remeasured.has(f.case));
  const figures = [...kept, ...measured.figures].sort(
    (a, b) => order.indexOf(a.case ?? '') - order.indexOf(b.case ?? ''),
  );
  const notes = [...sizeNotes(run.sizes), ...(run.notes ?? [])];
  return {
    schema: 1,
    startedAt: previous?.startedAt ?? startedAt.toISOString(),
    durationS: (previous?.durationS ?? 0) + (Date.now() - startedAt.getTime()) / 1000,
    code: run.code,
    server: run.server,
    machine: run.machine,
    quick: run.quick,
    sizes: run.sizes,
    figures,
    cases: { ...previous?.cases, ...measured.cases },
    notes:
      previous === undefined
        ? notes
        : [
            ...notes,
            `Updated: ${[...remeasured].join(', ')} re-measured at ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC.`,
          ],
  };
}

function sizeNotes(sizes: Sizes): string[] {
  const scaleNote =
    sizes.scalePods === FULL_SIZES.scalePods
      ? ' (to keep `make bench` under 10 minutes; the issue asks for 10,000: `BENCH_SCALE_PODS=10000 make bench`, about 10 minutes more)'
      : '';
  return [
    `Sizes: compaction ${sizes.compactionPods} pods × ${sizes.compactionObjects} raw objects × ${sizes.compactionRecords} records (every fourth pod gzip); reader pod ${sizes.readerMB} MB in 1 MB objects, merged by the CLI first; first byte ${sizes.firstByteFiles} raw files of 20 records; big memory pod ${sizes.bigMB} MB in 10 MB objects; scale ${sizes.scalePods} pods × 3 raw files of 5 records${scaleNote}.`,
    'Records: about 855 bytes of NDJSON each, most of it the `kubernetes` map; 10% stderr; a few lines over 16 KiB split into P/F pieces, some across two uploads (packages/testkit/src/realistic.ts, deterministic).',
    "Every case runs in a Node process of its own: CPU time is `process.cpuUsage()` around the work (all threads), peak RSS is the process's `maxRSS`. The CLIs run as built bins; their first byte and wall time include process start.",
  ];
}

const DEFINITIONS = [
  '**Ratio** (first line of each cell): the figure as a share of its limit, measured in the same run on the same bytes — 1.00 is the limit; for memory, the share of the 256 MiB budget used (below 1.00 meets it).',
  '**In-process limit** (compaction, per CPU-second): the raw bodies already in memory; gunzip where gzip, split lines at `\\n`, `JSON.parse`, `JSON.stringify` of {time, log, stream when stderr}, gzip in 64 KiB chunks (one stream per pod) at the zlib level the pass used (recognised by its output size). No S3. Best of 2.',
  '**Transfer limit** (compaction, per wall-second): through the same server, the same pods at once: GET every raw object (5 in flight per pod, the read-ahead of 4 plus one), bodies drained, then PUT as many bytes as the pass wrote, in objects of the same sizes. SDK checksums off. Best of 3.',
  '**Decode limit** (reads): the merged gzip bodies already in memory; gunzip, split lines, `JSON.parse`, format `{message}\\n`. No S3. Best of 2.',
  "**First-byte limit**: a fresh client GETs the pod's metadata (absent), LISTs its raw files (one page), GETs the first and parses its first line. Best of 3.",
  '**Scale limit**: the least requests a pass needs, 8 pods at once — a pod with work: GET metadata, LIST, one GET per raw file, PUT cleanup marker, merged file and metadata (8); a pod merged within the compact interval: GET metadata (1; the issue allows 2); plus the delimiter LIST that finds the pods.',
  '**Python original** (rows "vs the Python original", only with `--python-anchor`): the service this replaces, its `compact_one` and `S3LogReader` run unmodified by the anchor on the same server in the same run; the row\'s limit is its figure, so the ratio reads "× the Python original". Compaction: our CLI `compactor run` (process start included) and the original, each on its own copy of the compaction raw objects, both checked to have merged every raw line. Reads: our `createReadStream()` and the original\'s `S3LogReader` (by the anchor\'s `read-one`, its imports timed too) over the same merged files, each writing the log into a file, both checked to give every record.',
  "**Raw MB**: NDJSON bytes of the raw objects before gzip (what Fluent Bit wrote); a pod log of N MB is N MB of it. Reader MB: merged NDJSON bytes (the merged files' `size` in the metadata).",
];

function formatValue(value: number, unit: string): string {
  if (unit === 'records/s')
    return `${value >= 1e6 ? `${(value / 1e6).toFixed(2)}M` : `${(value / 1e3).toFixed(1)}k`} records/s`;
  if (unit === 'ms') return `${Math.round(value)} ms`;
  if (unit === 's') return `${value.toFixed(value >= 10 ? 1 : 2)} s`;
  if (unit === 'requests/pod') return `${value.toFixed(2)} requests/pod`;
  return `${value.toFixed(value >= 100 ? 0 : 1)} ${unit}`;
}

function cell(figure: Figure | undefined, withLimit: boolean): string {
  if (figure === undefined) return '—';
  if (figure.error !== undefined) return `**failed**<br>${escape(figure.error).slice(0, 300)}`;
  const lines = [`**${figure.ratio === undefined ? '—' : figure.ratio.toFixed(2)}**`];
  if (figure.value !== undefined) lines.push(formatValue(figure.value, figure.unit));
  lines.push(...figure.details.map(escape));
  if (withLimit) lines.push(`<sub>limit: ${escape(figure.limit)}</sub>`);
  return lines.join('<br>');
}

/** How many times better `now` is than `baseline` on the headline figure (faster, fewer, smaller). */
export function improvement(now: Figure | undefined, baseline: Figure | undefined): number | undefined {
  if (now?.value === undefined || baseline?.value === undefined || now.value <= 0 || baseline.value <= 0)
    return undefined;
  return now.better === 'higher' ? now.value / baseline.value : baseline.value / now.value;
}

/**
 * The same, by the ratios to each run's own limit: what the code gained with the machine's
 * mood of each run taken out (a shared machine is slower in one run than in the other).
 */
export function ratioImprovement(now: Figure | undefined, baseline: Figure | undefined): number | undefined {
  if (now?.ratio === undefined || baseline?.ratio === undefined || now.ratio <= 0 || baseline.ratio <= 0)
    return undefined;
  return now.scale === 'limit' ? now.ratio / baseline.ratio : baseline.ratio / now.ratio;
}

function improvementCell(now: Figure, baseline: Figure | undefined): string {
  const byRatio = ratioImprovement(now, baseline);
  const absolute = improvement(now, baseline);
  if (byRatio === undefined && absolute === undefined) return '—';
  const [better, worse] =
    now.scale === 'budget'
      ? ['smaller', 'larger']
      : now.unit === 'requests/pod'
        ? ['fewer', 'more']
        : ['faster', 'slower'];
  // A factor under 1 reads better turned round: 0.68× smaller is 1.47× larger.
  const say = (factor: number): string =>
    factor >= 1 ? `${factor.toFixed(2)}× ${better}` : `${(1 / factor).toFixed(2)}× ${worse}`;
  const lines: string[] = [];
  if (byRatio !== undefined) lines.push(`**${say(byRatio)}**`, '<sub>by the ratio</sub>');
  if (absolute !== undefined && now.unit !== 'requests/pod' && now.scale !== 'budget')
    lines.push(`${say(absolute)} <sub>absolute</sub>`);
  return lines.join('<br>');
}

function escape(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function describeRun(report: BenchReport): string {
  return `\`${report.code.describe}\` (${report.code.commit}), ${new Date(report.startedAt).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export function renderMarkdown(now: BenchReport, baseline: BenchReport | undefined): string {
  const out: string[] = [];
  out.push(
    `Server: ${now.server.kind} ${now.server.version} on 127.0.0.1; Node ${now.machine.node}; ${now.machine.cpus} × ${now.machine.cpuModel}, ${now.machine.memoryGB} GB.${now.quick ? ' **--quick sizes: not comparable with a full run.**' : ''}`,
  );
  out.push('');
  const took = `the bench took ${Math.round(now.durationS)} s${now.notes.some((n) => n.startsWith('Updated:')) ? ' (cases measured in several runs)' : ''}`;
  out.push(
    baseline === undefined
      ? `Run: ${describeRun(now)}; ${took}.`
      : `Now: ${describeRun(now)}; ${took}. Baseline: ${describeRun(baseline)}.`,
  );
  out.push('');
  const base = new Map((baseline?.figures ?? []).map((f) => [f.id, f]));
  const head =
    baseline === undefined ? ['Figure', 'Target', 'Now'] : ['Figure', 'Target', 'Baseline', 'Now', 'Now vs baseline'];
  out.push(`| ${head.join(' | ')} |`);
  out.push(`|${head.map(() => '---').join('|')}|`);
  for (const figure of now.figures) {
    const row = [`${escape(figure.label)}<br><sub>limit: ${escape(figure.limit)}</sub>`, escape(figure.target ?? '')];
    if (baseline !== undefined) {
      const before = base.get(figure.id);
      row.push(cell(before, true));
      row.push(cell(figure, false));
      row.push(improvementCell(figure, before));
    } else {
      row.push(cell(figure, false));
    }
    out.push(`| ${row.join(' | ')} |`);
  }
  out.push('');
  const levels = zlibLevels(now);
  if (levels.length > 0) {
    out.push(
      'zlib levels over the compaction data (this run): the in-process limit, and gzip alone over its merged NDJSON (64 KiB writes, one stream):',
    );
    out.push('');
    out.push(
      '| level | in-process limit, raw MB per CPU-second | gzip alone, merged MB per CPU-second | gzip size, % of merged NDJSON |',
    );
    out.push('|---|---|---|---|');
    for (const l of levels)
      out.push(
        `| ${l.level} | ${l.rate.toFixed(0)} | ${l.gzipRate === undefined ? '—' : l.gzipRate.toFixed(0)} | ${(l.share * 100).toFixed(1)}% |`,
      );
    out.push('');
  }
  for (const note of [...DEFINITIONS, ...now.notes]) out.push(`- ${note}`);
  out.push('');
  return out.join('\n');
}

function zlibLevels(
  report: BenchReport,
): { level: number; rate: number; gzipRate: number | undefined; share: number }[] {
  type Level = { level: number; rawBytes: number; cpuMs: number; gzipBytes: number; mergedBytes: number };
  const compaction = report.cases['compaction'] as
    { inProcess?: Level[]; gzip?: Omit<Level, 'rawBytes'>[] } | undefined;
  return (compaction?.inProcess ?? []).map((l) => {
    const gzip = compaction?.gzip?.find((g) => g.level === l.level);
    return {
      level: l.level,
      rate: l.rawBytes / 1e6 / (l.cpuMs / 1000),
      gzipRate: gzip === undefined ? undefined : gzip.mergedBytes / 1e6 / (gzip.cpuMs / 1000),
      share: l.gzipBytes / l.mergedBytes,
    };
  });
}
