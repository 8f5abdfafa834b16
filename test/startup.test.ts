// Start-up: commands that send no request (`--version`, `--help`, usage errors) load neither
// the AWS SDK nor the Kubernetes client, whose code is most of a CLI's start-up time; the bins
// keep Node's compile cache where they can, and run as before where they cannot.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runProcess } from './support/cli.js';

const ROOT = resolve(__dirname, '..');
const BINS = {
  compactor: resolve(ROOT, 'packages/compactor/bin/compactor.js'),
  'log-reader': resolve(ROOT, 'packages/log-reader/bin/log-reader.js'),
} as const;
const HEAVY = /\/node_modules\/(@aws-sdk|@smithy|@kubernetes\/client-node)\//;

// A module hook, preloaded with --import, that writes every URL Node loads (ES modules and
// require() alike) to the file named in LOADED_URLS_FILE when the process exits.
const HOOK = `
import { registerHooks } from 'node:module';
import { writeFileSync } from 'node:fs';
const urls = [];
registerHooks({ load(url, context, next) { urls.push(url); return next(url, context); } });
process.on('exit', () => writeFileSync(process.env.LOADED_URLS_FILE, urls.join('\\n')));
`;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'startup-'));
  await writeFile(join(dir, 'hook.mjs'), HOOK);
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

async function loadedBy(
  bin: keyof typeof BINS,
  args: readonly string[],
): Promise<{ exitCode: number | null; urls: string[] }> {
  const file = join(dir, `${bin}-${args.join('_')}.txt`);
  const env = { PATH: process.env['PATH'], LOADED_URLS_FILE: file };
  const result = await runProcess(process.execPath, ['--import', join(dir, 'hook.mjs'), BINS[bin], ...args], { env });
  return { exitCode: result.exitCode, urls: (await readFile(file, 'utf8')).split('\n') };
}

describe.each([
  ['compactor', ['--version'], 0],
  ['compactor', ['--help'], 0],
  ['compactor', ['run', '--help'], 0],
  ['compactor', ['inspect', '--help'], 0],
  ['compactor', ['run'], 2], // no bucket: a usage error
  ['log-reader', ['--version'], 0],
  ['log-reader', ['--help'], 0],
  ['log-reader', ['logs', '--help'], 0],
  ['log-reader', ['logs', 'job-1', '--tail', 'x'], 2],
] as const)('%s %j', (bin, args, exitCode) => {
  it('loads neither the AWS SDK nor the Kubernetes client', async () => {
    const loaded = await loadedBy(bin, args);
    expect(loaded.exitCode).toBe(exitCode);
    // The hook saw the CLI's own modules (else the check below would pass for nothing).
    expect(loaded.urls.some((url) => url.includes('/node_modules/commander/'))).toBe(true);
    expect(loaded.urls.filter((url) => HEAVY.test(url))).toEqual([]);
  });
});

describe("Node's compile cache", () => {
  it.each(Object.keys(BINS) as (keyof typeof BINS)[])('%s keeps it under the OS temp dir', async (bin) => {
    const tmp = await mkdtemp(join(dir, 'tmp-'));
    const env = { PATH: process.env['PATH'], TMPDIR: tmp };
    const result = await runProcess(process.execPath, [BINS[bin], '--version'], { env });
    expect(result).toMatchObject({ exitCode: 0, stderr: '' });
    expect((await readdir(join(tmp, 'node-compile-cache'))).length).toBeGreaterThan(0);
  });

  it.each(Object.keys(BINS) as (keyof typeof BINS)[])('%s runs as before where it cannot be written', async (bin) => {
    // A directory under a regular file cannot be made, whoever runs the CLI (root included).
    const file = join(dir, 'hook.mjs');
    const env = { PATH: process.env['PATH'], TMPDIR: file };
    const result = await runProcess(process.execPath, [BINS[bin], '--version'], { env });
    expect(result).toMatchObject({ exitCode: 0, stderr: '' });
    expect(result.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});
