/**
 * The report's chart: each figure's ratio to its limit as horizontal bars, baseline and now
 * side by side, a line at 1.0. Two panels, because the two kinds of ratio read opposite
 * ways: speed (share of the limit, higher is better) and memory (share of the 256 MiB
 * budget, lower is better); with the Python anchor a third, in multiples of the
 * original's figures. vega-lite spec → vega View (headless, no canvas) → SVG →
 * resvg → PNG.
 */
import { Resvg } from '@resvg/resvg-js';
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { Figure } from './context.js';

const FONT = 'DejaVu Sans';
/** The baseline grey, the run blue. */
const COLORS = ['#a9b4bf', '#1f6fb2'] as const;

interface Row {
  readonly label: string;
  readonly run: string;
  readonly ratio: number;
  readonly text: string;
}

/** Rows of one run; a figure is labelled as in `now` (matched by id), so both runs share a row. */
function rows(figures: readonly Figure[], run: string, labels: ReadonlyMap<string, string>): Row[] {
  return figures
    .filter((f) => f.ratio !== undefined && Number.isFinite(f.ratio))
    .map((f) => ({
      label: labels.get(f.id) ?? f.label,
      run,
      ratio: f.ratio as number,
      text: (f.ratio as number).toFixed(2),
    }));
}

function panel(
  title: string,
  axis: string,
  values: readonly Row[],
  order: readonly string[],
  runs: readonly string[],
): object {
  const y = { field: 'label', type: 'nominal', sort: order, title: null, axis: { labelLimit: 900, labelFontSize: 12 } };
  const x = { field: 'ratio', type: 'quantitative', title: axis, scale: { domainMin: 0, nice: true } };
  return {
    title: { text: title, anchor: 'start', fontSize: 14 },
    width: 520,
    height: { step: runs.length > 1 ? 30 : 20 },
    data: { values },
    layer: [
      {
        mark: { type: 'bar', height: { band: 0.8 } },
        encoding: {
          y,
          x,
          yOffset: { field: 'run', sort: runs },
          color: {
            field: 'run',
            sort: runs,
            scale: { domain: runs, range: runs.length > 1 ? COLORS : [COLORS[1]] },
            title: null,
          },
        },
      },
      {
        mark: { type: 'text', align: 'left', dx: 3, fontSize: 10 },
        encoding: { y, x, yOffset: { field: 'run', sort: runs }, text: { field: 'text' } },
      },
      {
        data: { values: [{ at: 1 }] },
        mark: { type: 'rule', color: '#c0392b', strokeDash: [4, 3], strokeWidth: 1.5 },
        encoding: { x: { field: 'at', type: 'quantitative' } },
      },
    ],
  };
}

/** The PNG of `now` (and `baseline`, when given) as a vega-lite chart. */
export async function renderChart(
  now: readonly Figure[],
  baseline: readonly Figure[] | undefined,
  title: string,
  names: { readonly now: string; readonly baseline: string },
): Promise<Buffer> {
  const runs = baseline === undefined ? [names.now] : [names.baseline, names.now];
  const labels = new Map([...(baseline ?? []), ...now].map((f) => [f.id, f.label]));
  const all = [...rows(baseline ?? [], names.baseline, labels), ...rows(now, names.now, labels)];
  const order = [...new Set([...now, ...(baseline ?? [])].map((f) => labels.get(f.id) ?? f.label))];
  const memoryLabels = new Set(
    [...(baseline ?? []), ...now].filter((f) => f.scale === 'budget').map((f) => labels.get(f.id) ?? f.label),
  );
  // Rows against the Python original (ids `python.…`) read in multiples of it: a panel of their own.
  const pythonLabels = new Set(
    [...(baseline ?? []), ...now].filter((f) => f.id.startsWith('python.')).map((f) => labels.get(f.id) ?? f.label),
  );
  const speed = all.filter((r) => !memoryLabels.has(r.label) && !pythonLabels.has(r.label));
  const memory = all.filter((r) => memoryLabels.has(r.label));
  const python = all.filter((r) => pythonLabels.has(r.label));
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: title, anchor: 'start', fontSize: 15 },
    background: 'white',
    padding: 16,
    config: { font: FONT, view: { stroke: null }, legend: { orient: 'top', labelFontSize: 12, labelLimit: 600 } },
    vconcat: [
      ...(speed.length === 0
        ? []
        : [
            panel(
              'Speed and requests: share of the limit measured in the same run (1.0 = the limit; higher is better)',
              'share of the limit',
              speed,
              order,
              runs,
            ),
          ]),
      ...(python.length === 0
        ? []
        : [
            panel(
              'Against the Python original, same data and server, same run (1.0 = the original; higher is better)',
              '× the Python original',
              python,
              order,
              runs,
            ),
          ]),
      ...(memory.length === 0
        ? []
        : [
            panel(
              'Memory: share of the 256 MiB budget, peak RSS (below 1.0 meets it; lower is better)',
              'share of the budget',
              memory,
              order,
              runs,
            ),
          ]),
    ],
    resolve: { scale: { x: 'independent' } },
  } as unknown as TopLevelSpec;
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    return new Resvg(svg, {
      font: { loadSystemFonts: true, defaultFontFamily: FONT },
      fitTo: { mode: 'zoom', value: 1.5 },
      background: 'white',
    })
      .render()
      .asPng();
  } finally {
    view.finalize();
  }
}
