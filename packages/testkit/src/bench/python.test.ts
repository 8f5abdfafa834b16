import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AnchorError,
  anchorNote,
  parseAnchorRun,
  parseTimedRun,
  resolveAnchor,
  timesOriginal,
  type PythonAnchor,
} from './python.js';

const RUN =
  '{"compact_wall_s": 2.5, "compact_cpu_s": 1.25, "read_wall_s": 0.5, "read_cpu_s": 0.25, "read_bytes": 1000}';

describe("parseAnchorRun: the anchor's JSON", () => {
  it('gives its seconds as milliseconds', () => {
    expect(parseAnchorRun(`${RUN}\n`)).toEqual({
      compactWallMs: 2500,
      compactCpuMs: 1250,
      readWallMs: 500,
      readCpuMs: 250,
      readBytes: 1000,
    });
  });

  it('takes the last JSON line after whatever the original logged', () => {
    expect(parseAnchorRun(`INFO Compacting pod job-1\n{"note": 1}\n${RUN}\n`).compactCpuMs).toBe(1250);
  });

  it.each([
    ['no JSON', 'Traceback (most recent call last):\n', /printed no JSON/],
    ['JSON that does not parse', '{"compact_wall_s": ', /does not parse/],
    [
      'a missing field',
      '{"compact_wall_s": 1, "compact_cpu_s": 1, "read_wall_s": 1, "read_cpu_s": 1}',
      /lacks read_bytes/,
    ],
    ['a field that is no number', RUN.replace('1.25', '"1.25"'), /lacks compact_cpu_s/],
    ['a negative time', RUN.replace('0.5', '-0.5'), /lacks read_wall_s/],
  ])('rejects %s with an AnchorError naming it', (_, stdout, message) => {
    expect(() => parseAnchorRun(stdout)).toThrow(AnchorError);
    expect(() => parseAnchorRun(stdout)).toThrow(message);
  });
});

describe('parseTimedRun: what the timer around read-one prints', () => {
  it('gives wall and CPU time in milliseconds', () => {
    expect(parseTimedRun('{"wall_s": 3.0, "cpu_s": 2.5}\n')).toEqual({ wallMs: 3000, cpuMs: 2500 });
  });
  it('rejects output without them', () => {
    expect(() => parseTimedRun('{"wall_s": 3.0}')).toThrow(/lacks cpu_s/);
  });
});

describe('timesOriginal: the ratio line of a cell', () => {
  it.each([
    [30, 12, '2.50× the Python original'],
    [9, 10, '0.90× the Python original'],
    [460_000, 57_500, '8.00× the Python original'],
  ])('%d against %d → %s', (ours, theirs, line) => {
    expect(timesOriginal(ours, theirs)).toBe(line);
  });
});

describe('anchorNote: the report says whether the original ran', () => {
  it('says how to give the anchor when none was given', () => {
    expect(anchorNote(undefined, undefined)).toMatch(
      /^Python anchor: not given.*BENCH_PYTHON_ANCHOR=DIR PM_SRC=CHECKOUT/,
    );
  });
  it('names the anchor, the checkout and its commit when given', () => {
    const anchor: PythonAnchor = { dir: '/a', pmSrc: '/pm', python: '/usr/bin/python3' };
    expect(anchorNote(anchor, '2972bff')).toContain('/a on the original at /pm (2972bff), run by /usr/bin/python3');
  });
});

describe('resolveAnchor: flag, environment, and what the anchor needs', () => {
  let dir: string;
  let anchorDir: string;
  let pmSrc: string;

  /** A stand-in Python: prints `missing` (the modules it lacks) whatever it is asked. */
  function fakePython(missing: string, exitCode = 0): string {
    const file = join(dir, `python-${exitCode}-${missing.replace(/\W/g, '') || 'none'}`);
    writeFileSync(file, `#!/bin/sh\necho "${missing}"\nexit ${exitCode}\n`);
    chmodSync(file, 0o755);
    return file;
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'python-anchor-test-'));
    anchorDir = join(dir, 'anchor');
    pmSrc = join(dir, 'pm');
    mkdirSync(anchorDir);
    mkdirSync(join(pmSrc, 'platform_monitoring'), { recursive: true });
    writeFileSync(join(anchorDir, 'bench.py'), '');
    writeFileSync(join(pmSrc, 'platform_monitoring/logs.py'), '');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is undefined when neither the flag nor BENCH_PYTHON_ANCHOR is given: the bench runs without it', () => {
    expect(resolveAnchor(undefined, { PM_SRC: pmSrc }, dir)).toBeUndefined();
    expect(resolveAnchor(undefined, { BENCH_PYTHON_ANCHOR: '' }, dir)).toBeUndefined();
  });

  it('takes the flag over the environment, the Python from BENCH_PYTHON', () => {
    const python = fakePython('');
    const env = { BENCH_PYTHON_ANCHOR: join(dir, 'elsewhere'), PM_SRC: pmSrc, BENCH_PYTHON: python };
    expect(resolveAnchor(anchorDir, env, dir)).toEqual({ dir: anchorDir, pmSrc, python });
  });

  it('uses the venv of scripts/install-python-anchor.sh when there is one', () => {
    mkdirSync(join(dir, '.tools/python-anchor/bin'), { recursive: true });
    const venv = join(dir, '.tools/python-anchor/bin/python');
    writeFileSync(venv, '#!/bin/sh\necho\n');
    chmodSync(venv, 0o755);
    expect(resolveAnchor(undefined, { BENCH_PYTHON_ANCHOR: anchorDir, PM_SRC: pmSrc }, dir)).toMatchObject({
      python: venv,
    });
  });

  it.each([
    ['a directory without bench.py', (d: string) => join(d, 'nothing'), (p: string) => p, /no bench\.py there/],
    [
      'no PM_SRC',
      (d: string) => join(d, 'anchor'),
      () => '',
      /needs PM_SRC, a checkout of neuro-inc\/platform-monitoring/,
    ],
    [
      'a PM_SRC that is no checkout of the original',
      (d: string) => join(d, 'anchor'),
      (p: string) => join(p, 'platform_monitoring'),
      /no platform_monitoring\/logs\.py there/,
    ],
  ])('says what is wrong with %s', (_, anchorOf, pmSrcOf, message) => {
    const env = { PM_SRC: pmSrcOf(pmSrc), BENCH_PYTHON: fakePython('') };
    expect(resolveAnchor(anchorOf(dir), env, dir)).toMatch(message);
  });

  it('names the missing Python packages and the script that installs them, in one line', () => {
    const python = fakePython('iso8601 cachetools');
    const problem = resolveAnchor(anchorDir, { PM_SRC: pmSrc, BENCH_PYTHON: python }, dir);
    expect(problem).toBe(
      `the Python anchor needs iso8601, cachetools, which ${python} cannot import: run scripts/install-python-anchor.sh (installs boto3, iso8601, cachetools, orjson from PyPI into .tools/python-anchor, which the bench then uses), or set BENCH_PYTHON to a Python that has them`,
    );
  });

  it('says when the Python cannot run at all', () => {
    const env = { PM_SRC: pmSrc, BENCH_PYTHON: join(dir, 'no-such-python') };
    expect(resolveAnchor(anchorDir, env, dir)).toMatch(/cannot run .*no-such-python.*set BENCH_PYTHON/);
    expect(resolveAnchor(anchorDir, { PM_SRC: pmSrc, BENCH_PYTHON: fakePython('', 1) }, dir)).toMatch(/cannot run/);
  });
});
