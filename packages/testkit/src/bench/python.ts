/**
 * The optional Python anchor: the Python service this project replaces
 * (neuro-inc/platform-monitoring), its S3 compaction (`compact_one`) and reader
 * (`S3LogReader`) run unmodified by a measuring instrument kept outside the project (a
 * directory with `bench.py`, given with `--python-anchor DIR` or `BENCH_PYTHON_ANCHOR`) on a
 * checkout of the original (`PM_SRC`). The bench only calls it: nothing of the original is
 * in the project. Its figures become the limit of the "vs the Python original" rows, on the
 * same data, the same server, in the same run.
 *
 *   bench.py ENDPOINT BUCKET POD...               compact every pod, read every pod; prints
 *                                                 {compact_wall_s, compact_cpu_s, read_wall_s,
 *                                                 read_cpu_s, read_bytes} (its own timing)
 *   bench.py read-one ENDPOINT BUCKET POD OUT     one pod's log into OUT, untimed: timed here
 *                                                 by {@link TIMER}
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** What the anchor imports beyond the standard library (its boto3 shim and the original's logs.py). */
export const ANCHOR_MODULES = ['boto3', 'iso8601', 'cachetools', 'orjson'] as const;
/** The venv scripts/install-python-anchor.sh makes. */
export const ANCHOR_VENV = '.tools/python-anchor';
/** The namespace of the bench's pods (the generator's default): the original lists raw keys by it. */
const NAMESPACE = 'jobs';
/** Longer than any case needs; a stuck run is stopped and reported. */
const TIMEOUT_MS = 15 * 60_000;

export interface PythonAnchor {
  /** The instrument's directory (bench.py). */
  readonly dir: string;
  /** The checkout of the original (platform_monitoring/logs.py). */
  readonly pmSrc: string;
  /** The Python that runs it. */
  readonly python: string;
}

export class AnchorError extends Error {
  override readonly name = 'AnchorError';
}

/**
 * The anchor from the flag or the environment: undefined when none is given, a one-line
 * problem when it cannot run (a usage error: the bench stops before measuring anything).
 */
export function resolveAnchor(
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
  checkout: string,
): PythonAnchor | string | undefined {
  const given = flag ?? env['BENCH_PYTHON_ANCHOR'];
  if (given === undefined || given === '') return undefined;
  const dir = resolve(given);
  if (!existsSync(join(dir, 'bench.py'))) return `--python-anchor ${dir}: no bench.py there`;
  const pmSrc = env['PM_SRC'];
  if (pmSrc === undefined || pmSrc === '')
    return 'the Python anchor needs PM_SRC, a checkout of neuro-inc/platform-monitoring (git clone it outside this project)';
  if (!existsSync(join(pmSrc, 'platform_monitoring/logs.py')))
    return `PM_SRC=${pmSrc}: no platform_monitoring/logs.py there (a checkout of neuro-inc/platform-monitoring?)`;
  const venv = join(checkout, ANCHOR_VENV, 'bin/python');
  const python = env['BENCH_PYTHON'] || (existsSync(venv) ? venv : 'python3');
  const missing = missingModules(python, env);
  if (typeof missing === 'string') return missing;
  if (missing.length > 0) return missingMessage(python, missing);
  return { dir, pmSrc: resolve(pmSrc), python };
}

/** The one line that says which packages are missing and how to get them. */
export function missingMessage(python: string, missing: readonly string[]): string {
  return `the Python anchor needs ${missing.join(', ')}, which ${python} cannot import: run scripts/install-python-anchor.sh (installs ${ANCHOR_MODULES.join(', ')} from PyPI into ${ANCHOR_VENV}, which the bench then uses), or set BENCH_PYTHON to a Python that has them`;
}

/** The modules of {@link ANCHOR_MODULES} that `python` cannot import (with bench.py's PY_EXTRA_PATH). */
function missingModules(python: string, env: NodeJS.ProcessEnv): string[] | string {
  const script = [
    'import importlib.util, os, sys',
    "sys.path += [p for p in os.environ.get('PY_EXTRA_PATH', '').split(':') if p]",
    `print(' '.join(m for m in ${JSON.stringify(ANCHOR_MODULES)} if importlib.util.find_spec(m) is None))`,
  ].join('\n');
  const run = spawnSync(python, ['-c', script], { encoding: 'utf8', env });
  if (run.error !== undefined || run.status !== 0)
    return `the Python anchor: cannot run ${python} (${run.error?.message ?? run.stderr.trim().split('\n').pop()}): install Python >= 3.11 or set BENCH_PYTHON`;
  return run.stdout.trim().split(/\s+/).filter(Boolean);
}

/** The anchor's own measurements of one `bench.py ENDPOINT BUCKET POD...` run. */
export interface AnchorRun {
  readonly compactWallMs: number;
  readonly compactCpuMs: number;
  readonly readWallMs: number;
  readonly readCpuMs: number;
  readonly readBytes: number;
}

/** A run timed around the anchor (`read-one`): wall and process CPU, interpreter start excluded. */
export interface TimedRun {
  readonly wallMs: number;
  readonly cpuMs: number;
}

/** The last line of `stdout` that is a JSON object, with each of `fields` a finite number ≥ 0. */
function lastJson<K extends string>(stdout: string, fields: readonly K[]): Record<K, number> {
  const line = stdout
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.trimStart().startsWith('{'));
  if (line === undefined)
    throw new AnchorError(`the Python anchor printed no JSON: ${JSON.stringify(stdout.slice(-200))}`);
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new AnchorError(`the Python anchor printed JSON that does not parse: ${JSON.stringify(line.slice(0, 200))}`);
  }
  const object = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const bad = fields.filter((f) => typeof object[f] !== 'number' || !Number.isFinite(object[f]) || object[f] < 0);
  if (bad.length > 0) throw new AnchorError(`the Python anchor's JSON lacks ${bad.join(', ')}: ${line.slice(0, 200)}`);
  return object as Record<K, number>;
}

/** Parses what `bench.py ENDPOINT BUCKET POD...` prints (seconds) into milliseconds. */
export function parseAnchorRun(stdout: string): AnchorRun {
  const j = lastJson(stdout, ['compact_wall_s', 'compact_cpu_s', 'read_wall_s', 'read_cpu_s', 'read_bytes']);
  return {
    compactWallMs: j.compact_wall_s * 1000,
    compactCpuMs: j.compact_cpu_s * 1000,
    readWallMs: j.read_wall_s * 1000,
    readCpuMs: j.read_cpu_s * 1000,
    readBytes: j.read_bytes,
  };
}

/** Parses what {@link TIMER} prints. */
export function parseTimedRun(stdout: string): TimedRun {
  const j = lastJson(stdout, ['wall_s', 'cpu_s']);
  return { wallMs: j.wall_s * 1000, cpuMs: j.cpu_s * 1000 };
}

/**
 * Runs bench.py as its `__main__` and prints its wall and CPU time (all threads: boto3's
 * calls run in a thread pool). boto3 and orjson are imported before the clock starts, as
 * the anchor's own timings exclude start-up.
 */
const TIMER = [
  'import json, resource, runpy, sys, time',
  'import boto3, orjson',
  'sys.argv = sys.argv[1:]',
  'def cpu():',
  '    r = resource.getrusage(resource.RUSAGE_SELF)',
  '    return r.ru_utime + r.ru_stime',
  'w0, c0 = time.perf_counter(), cpu()',
  "runpy.run_path(sys.argv[0], run_name='__main__')",
  "print(json.dumps({'wall_s': time.perf_counter() - w0, 'cpu_s': cpu() - c0}))",
].join('\n');

function run(anchor: PythonAnchor, args: readonly string[]): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(anchor.python, args, {
      cwd: anchor.dir,
      env: { ...process.env, PM_SRC: anchor.pmSrc, PM_NAMESPACE: NAMESPACE },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolvePromise(stdout);
      else
        reject(
          new AnchorError(
            `the Python anchor (${args.slice(0, 2).join(' ')}) exited ${signal ?? code}: ${stderr.trim().split('\n').slice(-3).join(' / ')}`,
          ),
        );
    });
  });
}

function endpoint(): string {
  const url = process.env['AWS_ENDPOINT_URL_S3'];
  if (url === undefined) throw new AnchorError('the Python anchor needs AWS_ENDPOINT_URL_S3');
  return url;
}

/** The original compacts every pod of `bucket` (its own copy), then reads each. */
export async function anchorCompactAndRead(
  anchor: PythonAnchor,
  bucket: string,
  pods: readonly string[],
): Promise<AnchorRun> {
  return parseAnchorRun(await run(anchor, [join(anchor.dir, 'bench.py'), endpoint(), bucket, ...pods]));
}

/** The original's reader serves `pod` of `bucket` into `out`, timed by {@link TIMER}. */
export async function anchorReadOne(anchor: PythonAnchor, bucket: string, pod: string, out: string): Promise<TimedRun> {
  return parseTimedRun(
    await run(anchor, ['-c', TIMER, join(anchor.dir, 'bench.py'), 'read-one', endpoint(), bucket, pod, out]),
  );
}

/** `ours / theirs` as a cell's line: "2.61× the Python original". */
export function timesOriginal(ours: number, theirs: number): string {
  return `${(ours / theirs).toFixed(2)}× the Python original`;
}

/** The report's note on the anchor: which one ran, or that none was given. */
export function anchorNote(anchor: PythonAnchor | undefined, commit: string | undefined): string {
  if (anchor === undefined)
    return 'Python anchor: not given, so no row compares with the Python original (`BENCH_PYTHON_ANCHOR=DIR PM_SRC=CHECKOUT make bench`, or `--python-anchor DIR`: docs/performance.md).';
  return `Python anchor: ${anchor.dir} on the original at ${anchor.pmSrc}${commit === undefined ? '' : ` (${commit})`}, run by ${anchor.python}; its rows give our figure over the original's on the same data and server in this run.`;
}
